from django.urls import path

from . import views

# Mounted at /o/<org_slug>/
urlpatterns = [
    path("", views.org_home, name="org_home"),
    path("settings/", views.org_settings, name="org_settings"),
    path("members/", views.members, name="org_members"),
    path("members/<int:pk>/", views.member_edit, name="org_member_edit"),
    path("members/<int:pk>/active/", views.member_set_active, name="org_member_set_active"),
    path("invitations/<int:pk>/resend/", views.invitation_action, {"action": "resend"}, name="org_invitation_resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_action, {"action": "revoke"}, name="org_invitation_revoke"),
    path("units/", views.units, name="org_units"),
    path("units/<int:pk>/", views.unit_edit, name="org_unit_edit"),
    path("audit/", views.audit_log, name="org_audit"),
    path("audit/export.csv", views.audit_export, name="org_audit_export"),
]
