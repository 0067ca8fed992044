from rest_framework import serializers

from cxprogram.core.api import TenantReadOnlyViewSet

from .models import AuditEvent
from .selectors import audit_events


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_label",
            "verb",
            "target_type",
            "target_id",
            "target_label",
            "payload",
            "ip_address",
        ]


class AuditEventViewSet(TenantReadOnlyViewSet):
    """The organization's audit log, newest first. Filters: `actor` (user id), `verb`."""

    model = AuditEvent
    serializer_class = AuditEventSerializer
    read_permission = write_permission = "audit.view"

    def get_base_queryset(self):
        params = self.request.query_params
        actor = params.get("actor")
        return audit_events(
            self.organization,
            actor_id=int(actor) if actor and actor.isdigit() else None,
            verb=params.get("verb") or None,
        )
