from django.contrib import admin

from cxprogram.core.admin_site import ReadOnlyAdmin, register_the_rest

from .models import (
    MetricTarget,
    ProposalRecord,
    RevenueRecord,
)


@admin.register(RevenueRecord)
class RevenueRecordAdmin(ReadOnlyAdmin):
    list_display = ("client", "month", "amount", "source", "organization")
    list_filter = ("source",)
    raw_id_fields = ("client",)


@admin.register(ProposalRecord)
class ProposalRecordAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "submitted_on", "outcome", "decided_on", "organization")
    list_filter = ("outcome",)
    raw_id_fields = ("client",)


@admin.register(MetricTarget)
class MetricTargetAdmin(ReadOnlyAdmin):
    list_display = ("metric", "unit", "target", "warning", "status", "last_value", "organization")
    list_filter = ("metric", "status")


register_the_rest("metrics")
