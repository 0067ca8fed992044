from datetime import datetime, time

from .models import AuditEvent


def audit_events(organization, *, actor_id=None, verb=None, date_from=None, date_to=None):
    qs = AuditEvent.objects.for_org(organization).select_related("actor")
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if verb:
        qs = qs.filter(verb=verb)
    tz = organization.tz
    if date_from:
        qs = qs.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(created_at__lte=datetime.combine(date_to, time.max, tzinfo=tz))
    return qs


def audit_verbs(organization) -> list[str]:
    return list(AuditEvent.objects.for_org(organization).order_by("verb").values_list("verb", flat=True).distinct())
