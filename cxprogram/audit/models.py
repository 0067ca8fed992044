from django.conf import settings
from django.db import models
from django.utils import timezone

from cxprogram.tenancy.models import TenantModel


class AuditEvent(TenantModel):
    """Who did what, to what, when. Written by `audit.services.record` in the transaction of the change."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text="The actor's name at the time.")
    verb = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_created"),
            models.Index(fields=["organization", "verb", "-created_at"], name="audit_org_verb"),
            models.Index(fields=["organization", "target_type", "target_id"], name="audit_org_target"),
        ]

    def __str__(self):
        return f"{self.actor_label or 'System'} {self.verb} {self.target_label}".strip()

    @property
    def details(self) -> str:
        """The payload as the log page shows it ("items: 3; to: 5"). Built here: in a template,
        `payload.items` reads a key named "items" instead of calling the method."""
        return "; ".join(f"{key}: {value}" for key, value in sorted(self.payload.items()))
