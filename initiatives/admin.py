from django.contrib import admin

from cxprogram.core.admin_site import ReadOnlyAdmin, register_the_rest

from .models import ActionItem, Initiative, Meeting, RankingRound


@admin.register(Initiative)
class InitiativeAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "organization", "status", "priority", "health"]
    list_filter = ["status", "horizon"]
    search_fields = ["title"]
    raw_id_fields = ["owner", "submitted_by", "merged_into", "response", "case"]


@admin.register(RankingRound)
class RankingRoundAdmin(ReadOnlyAdmin):
    list_display = ["title", "organization", "state", "closes_at", "agreement"]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["scheduled_for", "organization", "state", "agenda_mailed_at", "minutes_mailed_at"]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ["title", "organization", "owner", "due_on", "status"]
    raw_id_fields = ["owner", "initiative"]


register_the_rest("initiatives")
