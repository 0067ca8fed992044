from django.contrib import admin

from .models import ActionItem, Initiative, Meeting, RankingRound


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "organization", "status", "priority", "health"]
    list_filter = ["status", "horizon"]
    search_fields = ["title"]
    raw_id_fields = ["owner", "submitted_by", "merged_into", "response", "case"]


@admin.register(RankingRound)
class RankingRoundAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "state", "closes_at", "agreement"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["scheduled_for", "organization", "state", "agenda_mailed_at", "minutes_mailed_at"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "owner", "due_on", "status"]
    raw_id_fields = ["owner", "initiative"]
