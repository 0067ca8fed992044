from django.contrib import admin

from cxprogram.core.admin_site import ReadOnlyAdmin, register_the_rest

from .models import Batch, FollowUpCase, Response, SurveyRequest


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "state", "created_at", "finished_at"]
    list_filter = ["state", "organization"]
    list_select_related = ["organization"]


@admin.register(SurveyRequest)
class SurveyRequestAdmin(ReadOnlyAdmin):
    list_display = ["contact", "organization", "batch", "state", "sent_at", "responded_at"]
    list_filter = ["state", "organization"]
    list_select_related = ["contact", "organization", "batch"]


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = ["submitted_at", "organization", "nps_score", "client", "project"]
    list_filter = ["organization"]
    list_select_related = ["organization", "client", "project"]


@admin.register(FollowUpCase)
class FollowUpCaseAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "client", "trigger", "state", "due_at"]
    list_filter = ["state", "organization"]
    list_select_related = ["organization", "client"]


register_the_rest("feedback")
