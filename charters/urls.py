from django.urls import path

from . import views

app_name = "charters"

# Mounted at /o/<org_slug>/charters/
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("settings/", views.charter_settings, name="settings"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/diff/", views.diff, name="diff"),
    path("<int:pk>/amend/", views.amend, name="amend"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/callouts/", views.callout, name="callout"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/edit/", views.edit, name="edit"),
    path("versions/<int:pk>/preview/", views.preview, name="preview"),
    path("versions/<int:pk>/matrix/", views.matrix_edit, name="matrix"),
    path("versions/<int:pk>/send/", views.send, name="send"),
    path("versions/<int:pk>/discard/", views.discard, name="discard"),
    path("versions/<int:pk>/verify/", views.verify, name="verify"),
    path("versions/<int:pk>/pdf/", views.pdf, name="pdf"),
    path("requests/<int:pk>/void/", views.void, name="void"),
    path("sign/<int:pk>/", views.sign, name="sign"),
    path("sign/<int:pk>/decline/", views.decline, name="decline"),
]
