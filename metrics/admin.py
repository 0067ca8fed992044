from django.contrib import admin

from .models import (
    AdoptionSurvey,
    BoardReport,
    MetricAlert,
    MetricsSettings,
    MetricTarget,
    ProposalRecord,
    RevenueRecord,
)


@admin.register(RevenueRecord)
class RevenueRecordAdmin(admin.ModelAdmin):
    list_display = ("client", "month", "amount", "source", "organization")
    list_filter = ("source",)
    raw_id_fields = ("client",)


@admin.register(ProposalRecord)
class ProposalRecordAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "submitted_on", "outcome", "decided_on", "organization")
    list_filter = ("outcome",)
    raw_id_fields = ("client",)


@admin.register(MetricTarget)
class MetricTargetAdmin(admin.ModelAdmin):
    list_display = ("metric", "unit", "target", "warning", "status", "last_value", "organization")
    list_filter = ("metric", "status")


admin.site.register([MetricsSettings, MetricAlert, AdoptionSurvey, BoardReport])
