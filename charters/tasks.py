"""Charter mail and upkeep. Each task loads its rows and calls one service; services claim their
row with a conditional update first, so a retried or duplicated task does nothing twice."""

from django.utils import timezone

from cxprogram.core.tasks import cx_task
from cxprogram.tenancy.context import system_scope, use_organization

from . import services
from .models import Acknowledgment, CharterVersion, SignatureRequest, Signer

SIGNER_RELATED = ("organization", "membership__user", "request__version__charter", "request__version__organization")


def _signer(signer_id: int) -> Signer | None:
    with system_scope():
        return Signer.objects.select_related(*SIGNER_RELATED).filter(pk=signer_id).first()


@cx_task("charters.send_signature_request")
def send_signature_request(signer_id: int) -> bool:
    signer = _signer(signer_id)
    if signer is None:
        return False
    with use_organization(signer.organization):
        return services.mail_signature_request(signer)


@cx_task("charters.notify_declined")
def notify_declined(signer_id: int) -> int:
    signer = _signer(signer_id)
    if signer is None:
        return 0
    with use_organization(signer.organization):
        return services.mail_declined(signer)


@cx_task("charters.generate_pdf")
def generate_pdf(version_id: int) -> bool:
    with system_scope():
        version = CharterVersion.objects.select_related("organization").filter(pk=version_id).first()
    if version is None:
        return False
    with use_organization(version.organization):
        services.ensure_pdf(version)
    return True


def _mail_acknowledgments(ids: list[int], *, reminder: bool) -> int:
    sent = 0
    for ack_id in ids:  # one transaction per person: a failure later does not re-send earlier mail
        with system_scope():
            ack = (
                Acknowledgment.objects.select_related(
                    "organization", "membership__user", "version__charter", "version__organization"
                )
                .filter(pk=ack_id)
                .first()
            )
        if ack is not None:
            with use_organization(ack.organization):
                sent += services.mail_in_force_notice(ack, reminder=reminder)
    return sent


@cx_task("charters.notify_in_force")
def notify_in_force(version_id: int) -> int:
    with system_scope():
        ids = list(
            Acknowledgment.objects.filter(version_id=version_id, notified_at__isnull=True).values_list("pk", flat=True)
        )
    return _mail_acknowledgments(ids, reminder=False)


@cx_task("charters.sweep")
def sweep() -> dict:
    """Every few minutes: expire overdue requests, remind signers who are due, and remind members
    who have not acknowledged a charter 7 days after they were told."""
    now = timezone.now()
    with system_scope():
        overdue = list(
            SignatureRequest.objects.select_related("organization", "version__charter").filter(
                status=SignatureRequest.Status.PENDING, expires_at__lte=now
            )[:200]
        )
        due_signers = list(
            Signer.objects.select_related(*SIGNER_RELATED, "request")
            .filter(
                status=Signer.Status.PENDING,
                next_reminder_at__lte=now,
                request__status=SignatureRequest.Status.PENDING,
                request__expires_at__gt=now,
            )
            .order_by("next_reminder_at")[:200]
        )
        due_acks = list(
            Acknowledgment.objects.filter(
                acknowledged_at__isnull=True,
                reminded_at__isnull=True,
                notified_at__lte=now - services.ACK_REMINDER_AFTER,
                version__status=CharterVersion.Status.IN_FORCE,
            ).values_list("pk", flat=True)[:500]
        )
    expired = reminded = 0
    for signature_request in overdue:
        with use_organization(signature_request.organization):
            expired += services.expire(signature_request=signature_request, now=now)
    for signer in due_signers:
        with use_organization(signer.organization):
            reminded += services.remind_signer(signer, now=now)
    acknowledged = _mail_acknowledgments(due_acks, reminder=True)
    return {"expired": expired, "reminded": reminded, "ack_reminders": acknowledged}
