from django.urls import path

from . import views

app_name = "charters"

# Mounted at /o/<org_slug>/charters/
urlpatterns = [
    path("", views.index, name="index"),
]
