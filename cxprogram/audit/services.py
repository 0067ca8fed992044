from django.db import transaction

from .models import AuditEvent

MAX_PAYLOAD_CHARS = 4000


def client_ip(request) -> str | None:
    # Behind the proxy in production the first X-Forwarded-For hop is the client.
    if request is None:
        return None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return (forwarded.split(",")[0].strip() or None) if forwarded else request.META.get("REMOTE_ADDR")


def record(
    *,
    organization,
    actor,
    verb: str,
    target=None,
    payload: dict | None = None,
    request=None,
    actor_label: str = "",
) -> AuditEvent:
    """Record one audit event. Call it inside the service's transaction, so the event exists exactly
    when the change does. `verb` is dotted, e.g. "member.roles_changed". `actor_label` names an actor
    without an account (a client through their survey link); with neither, the log says "System"."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    payload = payload or {}
    if len(str(payload)) > MAX_PAYLOAD_CHARS:
        payload = {"truncated": True, "keys": sorted(payload)[:50]}
    actor = actor if (actor is not None and getattr(actor, "is_authenticated", False)) else None
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor,
        actor_label=actor.display_name if actor else actor_label[:254],
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:255] if target is not None else "",
        payload=payload,
        ip_address=client_ip(request),
    )
