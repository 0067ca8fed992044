from django.urls import path

from . import views

app_name = "feedback"

# Mounted at /o/<org_slug>/feedback/
urlpatterns = [
    path("", views.index, name="index"),
]
