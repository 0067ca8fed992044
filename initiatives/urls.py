from django.urls import path

from . import views

app_name = "initiatives"

# Mounted at /o/<org_slug>/initiatives/
urlpatterns = [
    path("", views.index, name="index"),
    path("ideas/new/", views.idea_new, name="idea_new"),
    path("kanban/", views.kanban, name="kanban"),
    path("kanban/<int:pk>/move/", views.kanban_move, name="kanban_move"),
    path("roadmap/", views.roadmap, name="roadmap"),
    path("matrix/", views.matrix, name="matrix"),
    path("actions/", views.actions, name="actions"),
    path("actions/<int:pk>/status/", views.action_status, name="action_status"),
    path("settings/", views.program_settings, name="settings"),
    path("settings/criteria/<int:pk>/delete/", views.criterion_delete, name="criterion_delete"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/score/", views.score, name="score"),
    path("<int:pk>/checklist/", views.checklist_add, name="checklist_add"),
    path("checklist/<int:pk>/tick/", views.checklist_tick, name="checklist_tick"),
    path("<int:pk>/dependencies/", views.dependency_add, name="dependency_add"),
    path("dependencies/<int:pk>/delete/", views.dependency_delete, name="dependency_delete"),
    path("<int:pk>/team/", views.team_add, name="team_add"),
    path("team/<int:pk>/delete/", views.team_delete, name="team_delete"),
    path("<int:pk>/actions/", views.action_add, name="action_add"),
    path("<int:pk>/updates/", views.update_post, name="update_post"),
    path("ranking/", views.rounds, name="rounds"),
    path("ranking/new/", views.round_new, name="round_new"),
    path("ranking/<int:pk>/", views.round_detail, name="round"),
    path("ranking/<int:pk>/close/", views.round_close, name="round_close"),
    path("board/", views.board, name="board"),
    path("board/meetings/<int:pk>/", views.meeting, name="meeting"),
    path("board/meetings/<int:pk>/attendance/", views.meeting_attendance, name="meeting_attendance"),
    path("board/meetings/<int:pk>/agenda/", views.meeting_agenda, name="meeting_agenda"),
    path("board/meetings/<int:pk>/close/", views.meeting_close, name="meeting_close"),
    path("board/meetings/<int:pk>/minutes/", views.minutes, name="minutes"),
    path("board/meetings/<int:pk>/minutes.pdf", views.minutes_pdf_view, name="minutes_pdf"),
]
# One page per status change (separate paths: URL parameters other than the org are ids).
urlpatterns += [
    path(f"<int:pk>/{name}/", views.transition, {"name": name}, name=f"transition_{name}")
    for name in views.TRANSITION_FORMS
]
