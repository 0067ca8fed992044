from django.urls import path

from . import views

app_name = "initiatives"

# Mounted at /o/<org_slug>/initiatives/
urlpatterns = [
    path("", views.index, name="index"),
]
