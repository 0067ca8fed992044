from django.urls import path

from . import views

app_name = "metrics"

# Mounted at /o/<org_slug>/metrics/
urlpatterns = [
    path("", views.index, name="index"),
]
