from django.contrib import admin

from cxprogram.core.admin_site import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "actor_label", "verb", "target_label"]
    list_filter = ["organization"]
    search_fields = ["verb", "actor_label", "target_label"]
    list_select_related = ["organization"]
