from django.urls import path

from . import views

app_name = "metrics"

# Mounted at /o/<org_slug>/metrics/
urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard.csv", views.dashboard_csv, name="dashboard_csv"),
    path("summary/", views.summary, name="summary"),
    path("responses/", views.responses, name="responses"),
    path("responses.csv", views.responses_csv, name="responses_csv"),
    path("clients/<int:pk>/", views.client_account, name="client"),
    path("targets/", views.targets, name="targets"),
    path("targets/<int:pk>/", views.target_edit, name="target_edit"),
    path("targets/<int:pk>/delete/", views.target_delete, name="target_delete"),
    path("revenue/", views.revenue, name="revenue"),
    path("revenue.csv", views.revenue_csv, name="revenue_csv"),
    path("revenue/<int:pk>/delete/", views.revenue_delete, name="revenue_delete"),
    path("proposals/", views.proposals, name="proposals"),
    path("proposals.csv", views.proposals_csv, name="proposals_csv"),
    path("proposals/<int:pk>/", views.proposal_edit, name="proposal_edit"),
    path("proposals/<int:pk>/delete/", views.proposal_delete, name="proposal_delete"),
    path("adoption/", views.adoption, name="adoption"),
    path("adoption/<int:pk>/", views.adoption_answer, name="adoption_answer"),
    path("reports/", views.board_reports, name="board_reports"),
    path("reports/<int:pk>/", views.board_report, name="board_report"),
    path("reports/<int:pk>/pdf/", views.board_report_pdf, name="board_report_pdf"),
    path("reports/<int:pk>/mail/", views.board_report_mail, name="board_report_mail"),
    path("settings/", views.settings, name="settings"),
]
