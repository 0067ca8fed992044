"""Everything that changes a charter: authoring, signing, publishing, acknowledging, call-outs.

Each verb runs in one transaction, writes the charter's own trail (CharterEvent) and the
organization audit log in that transaction, and sends mail only after commit (through tasks),
except the `mail_*` functions, which tasks call and which claim their row first so that a retried
task never mails the same thing twice.
"""

import json
import math
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from cxprogram.audit.services import client_ip, record
from cxprogram.core import dates
from cxprogram.core.mail import absolute_url, send_templated_mail
from cxprogram.core.tasks import enqueue
from cxprogram.tenancy.models import Membership, Organization
from cxprogram.tenancy.permissions import PERMISSIONS, Role

from . import content as doc
from .models import (
    Acknowledgment,
    Callout,
    Charter,
    CharterEvent,
    CharterSettings,
    CharterVersion,
    SignatureRequest,
    Signer,
)

ACK_REMINDER_AFTER = timedelta(days=7)
MAX_NOTE = 1000
MAX_REASON = 2000
MAX_STROKE_POINTS = 4000
CANVAS_WIDTH, CANVAS_HEIGHT = 600, 200

CONSENT_TEXT = (
    "I agree to sign “{title}” (version {number}) electronically. The signature I adopt below is my "
    "signature on this document, with the same effect as a handwritten one. I have read the charter "
    "shown on this page, identified by the SHA-256 fingerprint {hash}."
)


class DraftConflict(ValidationError):
    """Someone saved the draft after the caller loaded it. Carries what changed, for the message."""

    def __init__(self, message: str, *, changed: list[str], current_revision: int):
        super().__init__(message, code="conflict")
        self.changed = changed
        self.current_revision = current_revision


# --- Helpers --------------------------------------------------------------------------------


def _event(charter: Charter, verb: str, *, actor=None, version=None, detail=None, request=None) -> CharterEvent:
    """One entry in the charter's trail and the same in the organization audit log."""
    actor = actor if (actor is not None and getattr(actor, "is_authenticated", False)) else None
    detail = detail or {}
    event = CharterEvent.objects.create(
        organization_id=charter.organization_id,
        charter=charter,
        version=version,
        actor=actor,
        actor_label=actor.display_name if actor else "",
        verb=verb,
        detail=detail,
        ip_address=client_ip(request),
    )
    record(
        organization=charter.organization,
        actor=actor,
        verb=f"charter.{verb}",
        target=version or charter,
        payload=detail,
        request=request,
    )
    return event


def settings_for(organization: Organization) -> CharterSettings:
    found = CharterSettings.objects.for_org(organization).first()
    return found or CharterSettings(organization=organization)


def editors_of(organization: Organization) -> list[Membership]:
    roles = PERMISSIONS["charter.edit"]
    members = Membership.objects.for_org(organization).active().select_related("user")
    return [m for m in members if any(r in roles for r in m.roles)]


def _lock_version(version: CharterVersion) -> CharterVersion:
    return (
        CharterVersion.objects.select_for_update()
        .select_related("charter", "organization")
        .get(pk=version.pk, organization_id=version.organization_id)
    )


def _require_draft(version: CharterVersion) -> None:
    if version.status != CharterVersion.Status.DRAFT:
        raise ValidationError(
            f"Version {version.number} is {version.get_status_display().lower()} and can no longer change. "
            "Start an amendment to change the charter."
        )


def _touch(charter: Charter, **fields) -> None:
    fields["updated_at"] = timezone.now()
    for name, value in fields.items():
        setattr(charter, name, value)
    charter.save(update_fields=list(fields))


def version_url(version: CharterVersion) -> str:
    return reverse("charters:version", args=[version.charter.organization.slug, version.pk])


def charter_url(charter: Charter) -> str:
    return reverse("charters:detail", args=[charter.organization.slug, charter.pk])


def sign_url(signer: Signer) -> str:
    return reverse("charters:sign", args=[signer.organization.slug, signer.pk])


# --- Authoring ------------------------------------------------------------------------------


@transaction.atomic
def update_settings(
    *, organization: Organization, actor, reminder_interval_days: int, expiry_days: int, request=None
) -> CharterSettings:
    settings = settings_for(organization)
    before = {"reminder_interval_days": settings.reminder_interval_days, "expiry_days": settings.expiry_days}
    settings.reminder_interval_days, settings.expiry_days = reminder_interval_days, expiry_days
    settings.full_clean(exclude=["organization"])
    settings.save()
    after = {"reminder_interval_days": reminder_interval_days, "expiry_days": expiry_days}
    if before != after:
        record(
            organization=organization,
            actor=actor,
            verb="charter.settings_changed",
            target=settings,
            payload={"before": before, "after": after},
            request=request,
        )
    return settings


@transaction.atomic
def create_charter(*, organization: Organization, actor, title: str, kind: str, request=None) -> CharterVersion:
    """A new charter with its first version: a draft from the template of its kind."""
    if kind not in Charter.Kind.values:
        raise ValidationError({"kind": "Choose a program charter or a team charter."})
    title = doc.normalize_title(title)
    charter = Charter.objects.create(organization=organization, title=title, kind=kind, created_by=actor)
    content, matrix = doc.template_for(kind)
    version = CharterVersion.objects.create(
        organization=organization,
        charter=charter,
        number=1,
        title=title,
        content=content,
        matrix=matrix,
        created_by=actor,
        updated_by=actor,
    )
    _event(charter, "created", actor=actor, version=version, detail={"kind": kind}, request=request)
    return version


@transaction.atomic
def save_draft(
    *, version: CharterVersion, actor, revision: int, title: str, content: dict, base: dict | None = None, request=None
) -> CharterVersion:
    """Save the title and sections of a draft. `revision` is the one the editor loaded; when the
    draft moved on since, nothing is saved and DraftConflict says who changed which sections
    (`base`, the title and content the editor loaded, makes that list exact)."""
    version = _lock_version(version)
    _require_draft(version)
    if revision != version.revision:
        current = {"title": version.title, "content": version.content}
        if isinstance(base, dict):
            changed = doc.changed_sections(version.charter.kind, base, current)
            what = f"They changed: {', '.join(changed or ['only spacing'])}."
        else:
            changed = doc.changed_sections(version.charter.kind, {"title": title, "content": content}, current)
            what = f"The saved draft differs from yours in: {', '.join(changed or ['nothing'])}."
        who = version.updated_by.display_name if version.updated_by else "Someone"
        when = dates.local(version.updated_at, "g:i A", version.organization.tz)
        raise DraftConflict(
            f"{who} saved this draft at {when}, after you loaded revision {revision}. {what} "
            "Nothing of yours was saved.",
            changed=changed,
            current_revision=version.revision,
        )
    title = doc.normalize_title(title)
    content = doc.normalize_content(version.charter.kind, content)
    changed = doc.changed_sections(
        version.charter.kind, {"title": version.title, "content": version.content}, {"title": title, "content": content}
    )
    if not changed:
        return version
    version.title, version.content = title, content
    version.revision += 1
    version.updated_by, version.updated_at = actor, timezone.now()
    version.save(update_fields=["title", "content", "revision", "updated_by", "updated_at"])
    # The charter's name follows the draft until a version is in force; then the signed title shows.
    _touch(version.charter, **({} if version.charter.in_force_version_id else {"title": title}))
    _event(version.charter, "edited", actor=actor, version=version, detail={"sections": changed}, request=request)
    return version


@transaction.atomic
def change_matrix(*, version: CharterVersion, actor, operation: str, args: dict, request=None) -> CharterVersion:
    """One in-place matrix edit (add/rename/remove/move a column or a behavior). Edits address
    columns and behaviors by their stable keys, so two people editing different cells never
    conflict; rewording a prompt or a column someone else reworded meanwhile is refused
    (`args["previous"]` is the text the editor saw)."""
    version = _lock_version(version)
    _require_draft(version)
    if operation in ("edit_behavior", "rename_column") and "previous" in args:
        current = _current_text(version.matrix, operation, args)
        if current is not None and current != args["previous"]:
            raise ValidationError(
                f"{version.updated_by.display_name if version.updated_by else 'Someone'} changed this to "
                f"“{current}” while you were editing. Yours was not saved: “{args.get('text') or args.get('name')}”."
            )
    matrix, summary = doc.apply_matrix_operation(version.matrix, operation, args)
    version.matrix = matrix
    version.matrix_revision += 1
    version.updated_by, version.updated_at = actor, timezone.now()
    version.save(update_fields=["matrix", "matrix_revision", "updated_by", "updated_at"])
    _event(version.charter, "matrix_edited", actor=actor, version=version, detail={"change": summary}, request=request)
    return version


def _current_text(matrix: dict, operation: str, args: dict) -> str | None:
    for column in matrix.get("columns", []):
        if operation == "rename_column" and column["key"] == args.get("column"):
            return column["name"]
        for behavior in column["behaviors"]:
            if operation == "edit_behavior" and behavior["key"] == args.get("behavior"):
                return behavior["text"]
    return None


@transaction.atomic
def replace_matrix(*, version: CharterVersion, actor, matrix: dict, matrix_revision: int, request=None):
    """The whole matrix at once (API), with the same optimistic check as the sections."""
    version = _lock_version(version)
    _require_draft(version)
    if matrix_revision != version.matrix_revision:
        raise DraftConflict(
            "The matrix changed after you loaded it. Nothing was saved; fetch the draft again and reapply your change.",
            changed=["Desired-behaviors matrix"],
            current_revision=version.matrix_revision,
        )
    version.matrix = doc.normalize_matrix(matrix)
    version.matrix_revision += 1
    version.updated_by, version.updated_at = actor, timezone.now()
    version.save(update_fields=["matrix", "matrix_revision", "updated_by", "updated_at"])
    _event(
        version.charter, "matrix_edited", actor=actor, version=version, detail={"change": "replaced"}, request=request
    )
    return version


def open_version(charter: Charter) -> CharterVersion | None:
    return (
        CharterVersion.objects.for_org(charter.organization_id)
        .filter(charter=charter, status__in=[CharterVersion.Status.DRAFT, CharterVersion.Status.OUT_FOR_SIGNATURE])
        .first()
    )


def _copy_as_draft(source: CharterVersion, actor) -> CharterVersion:
    number = (
        CharterVersion.objects.for_org(source.organization_id)
        .filter(charter_id=source.charter_id)
        .aggregate(n=Max("number"))["n"]
    )
    return CharterVersion.objects.create(
        organization_id=source.organization_id,
        charter_id=source.charter_id,
        number=number + 1,
        title=source.title,
        content=source.content,
        matrix=source.matrix,
        created_by=actor,
        updated_by=actor,
    )


@transaction.atomic
def start_amendment(*, charter: Charter, actor, request=None) -> CharterVersion:
    """A new draft version copied from the version in force (or the latest one). The version in
    force stays in force until the amendment is signed."""
    charter = Charter.objects.select_for_update().get(pk=charter.pk, organization_id=charter.organization_id)
    current = open_version(charter)
    if current is not None:
        raise ValidationError(
            f"Version {current.number} is {current.get_status_display().lower()} already: "
            + ("edit it instead." if current.is_draft else "void that request first, or wait for it.")
        )
    source = charter.in_force_version or charter.versions.order_by("-number").first()
    version = _copy_as_draft(source, actor)
    _touch(charter)
    _event(charter, "amended", actor=actor, version=version, detail={"from_version": source.number}, request=request)
    return version


@transaction.atomic
def delete_charter(*, charter: Charter, actor, request=None) -> None:
    """Delete a charter that was never sent for signature (signed history is never deleted)."""
    charter = Charter.objects.select_for_update().get(pk=charter.pk, organization_id=charter.organization_id)
    if charter.versions.filter(frozen_at__isnull=False).exists():
        raise ValidationError("This charter has been sent for signature; its history is kept. Amend it instead.")
    record(
        organization=charter.organization,
        actor=actor,
        verb="charter.deleted",
        target=charter,
        payload={"title": charter.title},
        request=request,
    )
    charter.delete()


@transaction.atomic
def discard_draft(*, version: CharterVersion, actor, request=None) -> None:
    """Delete a draft amendment (a charter's first version is the charter; delete nothing else)."""
    version = _lock_version(version)
    _require_draft(version)
    if version.number == 1:
        raise ValidationError("This is the charter's first version; there is nothing to go back to.")
    _event(version.charter, "draft_discarded", actor=actor, detail={"version": version.number}, request=request)
    version.delete()


# --- Signing --------------------------------------------------------------------------------


def _check_executive(membership: Membership, organization: Organization, label: str) -> None:
    if membership.organization_id != organization.pk or not membership.is_active:
        raise ValidationError({label: "Choose an active member of this organization."})
    if not membership.has_role(Role.EXECUTIVE):
        raise ValidationError({label: f"{membership.user.display_name} is not an executive; only executives sign."})


def freeze(version: CharterVersion) -> str:
    version.content_hash = compute_hash(version)
    version.frozen_at = timezone.now()
    return version.content_hash


def compute_hash(version: CharterVersion) -> str:
    return doc.sha256_hex(doc.canonical_bytes(canonical_document(version)))


def canonical_document(version: CharterVersion) -> dict:
    return doc.canonical_document(
        organization_id=version.organization_id,
        charter_id=version.charter_id,
        kind=version.charter.kind,
        number=version.number,
        title=version.title,
        content=version.content,
        matrix=version.matrix,
    )


@transaction.atomic
def send_for_signature(
    *,
    version: CharterVersion,
    actor,
    lead: Membership,
    supporters: list[Membership],
    message: str = "",
    request=None,
) -> SignatureRequest:
    """Freeze the draft (canonical JSON → SHA-256) and ask the lead executive to sign; supporters
    are asked once the lead has signed."""
    version = _lock_version(version)
    _require_draft(version)
    organization = version.organization
    if doc.is_empty(version.content, version.matrix):
        raise ValidationError("This draft is empty. Write at least the purpose and the desired behaviors first.")
    _check_executive(lead, organization, "lead")
    seen = {lead.pk}
    for supporter in supporters:
        _check_executive(supporter, organization, "supporters")
        if supporter.pk in seen:
            raise ValidationError({"supporters": f"{supporter.user.display_name} is asked twice. Ask each once."})
        seen.add(supporter.pk)
    message = doc.clean_text(message, "message", MAX_REASON)
    config = settings_for(organization)
    now = timezone.now()
    freeze(version)
    version.status = CharterVersion.Status.OUT_FOR_SIGNATURE
    version.save(update_fields=["content_hash", "frozen_at", "status"])
    signature_request = SignatureRequest.objects.create(
        organization=organization,
        version=version,
        sent_by=actor,
        sent_at=now,
        expires_at=now + timedelta(days=config.expiry_days),
        reminder_interval_days=config.reminder_interval_days,
        message=message,
    )
    lead_signer = Signer.objects.create(
        organization=organization,
        request=signature_request,
        membership=lead,
        role=Signer.Role.LEAD,
        position=0,
        status=Signer.Status.PENDING,
        asked_at=now,
        next_reminder_at=now + timedelta(days=config.reminder_interval_days),
    )
    for position, supporter in enumerate(supporters, start=1):
        Signer.objects.create(
            organization=organization,
            request=signature_request,
            membership=supporter,
            role=Signer.Role.SUPPORTER,
            position=position,
        )
    _touch(version.charter)
    _event(
        version.charter,
        "sent",
        actor=actor,
        version=version,
        detail={
            "hash": version.content_hash,
            "lead": lead.user.display_name,
            "supporters": [s.user.display_name for s in supporters],
        },
        request=request,
    )
    from .tasks import send_signature_request

    enqueue(send_signature_request, lead_signer.pk)
    return signature_request


def _lock_signer(signer: Signer) -> Signer:
    return (
        Signer.objects.select_for_update()
        .select_related("request", "request__version", "request__version__charter", "membership__user")
        .get(pk=signer.pk, organization_id=signer.organization_id)
    )


def blocked_reason(signer: Signer) -> str | None:
    """Why this signer cannot sign or decline now, in words for them; None when they can."""
    request = signer.request
    if request.status == SignatureRequest.Status.VOIDED:
        return f"This request was voided on {dates.local(request.closed_at)}: {request.close_reason}"
    if request.status == SignatureRequest.Status.DECLINED:
        return "This request was declined by a signer and has stopped. There is nothing more to sign."
    if request.status == SignatureRequest.Status.EXPIRED or request.expires_at <= timezone.now():
        return f"This request expired on {dates.local(request.expires_at)}. Ask an editor to send the charter again."
    if request.status == SignatureRequest.Status.COMPLETED or signer.status == Signer.Status.SIGNED:
        return (
            "You have signed this version already."
            if signer.status == Signer.Status.SIGNED
            else ("Everyone has signed already; the charter is in force.")
        )
    if signer.status == Signer.Status.WAITING:
        return "The lead executive signs first. You will get a mail when it is your turn."
    if signer.status != Signer.Status.PENDING:
        return f"Your part of this request is closed ({signer.get_status_display().lower()})."
    return None


def _check_can_act(signer: Signer, user) -> None:
    if signer.membership.user_id != user.pk:
        raise PermissionDenied("This signature was requested from someone else.")
    reason = blocked_reason(signer)
    if reason:
        raise ValidationError(reason)
    if not signer.membership.is_active or not signer.membership.has_role(Role.EXECUTIVE):
        raise PermissionDenied("Only active executives can sign.")


@transaction.atomic
def record_opened(*, signer: Signer, user, request=None) -> None:
    """The signer opened the signing page (recorded once)."""
    if signer.membership.user_id != user.pk or signer.opened_at:
        return
    if Signer.objects.filter(pk=signer.pk, opened_at__isnull=True).update(opened_at=timezone.now()):
        _event(signer.request.version.charter, "opened", actor=user, version=signer.request.version, request=request)


def signature_svg(strokes) -> str:
    """Validate drawn strokes ([[x, y], ...] per stroke, in canvas pixels) and build the SVG from
    numbers only, so nothing the browser sends ends up in markup as is."""
    if isinstance(strokes, str):
        try:
            strokes = json.loads(strokes or "[]")
        except ValueError:
            raise ValidationError({"strokes": "The drawing could not be read. Clear it and draw again."})
    if not isinstance(strokes, list) or len(strokes) > 200:
        raise ValidationError({"strokes": "The drawing could not be read. Clear it and draw again."})
    paths, points, xs, ys = [], 0, [], []
    for stroke in strokes:
        if not isinstance(stroke, list):
            raise ValidationError({"strokes": "The drawing could not be read. Clear it and draw again."})
        coords = []
        for point in stroke:
            if (
                not isinstance(point, list)
                or len(point) != 2
                or not all(isinstance(v, int | float) and math.isfinite(v) for v in point)
            ):
                raise ValidationError({"strokes": "The drawing could not be read. Clear it and draw again."})
            x, y = min(max(float(point[0]), 0), CANVAS_WIDTH), min(max(float(point[1]), 0), CANVAS_HEIGHT)
            coords.append((x, y))
            xs.append(x)
            ys.append(y)
        points += len(coords)
        if len(coords) >= 2:
            paths.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in coords))
    if points > MAX_STROKE_POINTS:
        raise ValidationError({"strokes": "The drawing is too detailed. Clear it and sign more simply."})
    if not paths or (max(xs) - min(xs)) + (max(ys) - min(ys)) < 20:
        raise ValidationError({"strokes": "Draw your signature in the box first (it is empty)."})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CANVAS_WIDTH} {CANVAS_HEIGHT}" '
        f'width="{CANVAS_WIDTH // 2}" height="{CANVAS_HEIGHT // 2}"><path d="{" ".join(paths)}" fill="none" '
        'stroke="#1c2430" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>'
    )


def consent_text(version: CharterVersion) -> str:
    return CONSENT_TEXT.format(title=version.title, number=version.number, hash=version.content_hash)


@transaction.atomic
def sign(
    *,
    signer: Signer,
    user,
    consent: bool,
    method: str,
    typed_name: str = "",
    strokes=None,
    request=None,
) -> Signer:
    """Sign as `user`. Signing twice is harmless: the first signature stands and nothing else
    happens. Records who, when, from where, with which browser, the version hash, the consent
    text shown and the signature itself."""
    signer = _lock_signer(signer)
    if signer.membership.user_id != user.pk:
        raise PermissionDenied("This signature was requested from someone else.")
    if signer.status == Signer.Status.SIGNED:
        return signer
    _check_can_act(signer, user)
    version = signer.request.version
    if not consent:
        raise ValidationError({"consent": "Tick the box to agree to sign electronically."})
    if method == Signer.Method.TYPED:
        typed_name = doc.clean_text(typed_name, "typed_name", 100)
        if len(typed_name) < 2:
            raise ValidationError({"typed_name": "Type your full name to adopt it as your signature."})
        svg = ""
    elif method == Signer.Method.DRAWN:
        typed_name, svg = "", signature_svg(strokes)
    else:
        raise ValidationError({"method": "Choose to type or to draw your signature."})
    if compute_hash(version) != version.content_hash:
        raise ValidationError("This version no longer matches its fingerprint; it cannot be signed. Tell an admin.")
    now = timezone.now()
    signer.status = Signer.Status.SIGNED
    signer.signed_at = now
    signer.signer_name = user.display_name
    signer.signer_title = signer.membership.title
    signer.ip_address = client_ip(request)
    signer.user_agent = (request.META.get("HTTP_USER_AGENT", "") if request else "")[:500]
    signer.version_hash = version.content_hash
    signer.consent_text = consent_text(version)
    signer.method, signer.typed_name, signer.signature_svg = method, typed_name, svg
    signer.next_reminder_at = None
    signer.save()
    charter = version.charter
    _event(charter, "consented", actor=user, version=version, detail={"consent": signer.consent_text}, request=request)
    _event(
        charter,
        "signed",
        actor=user,
        version=version,
        detail={"role": signer.role, "method": method, "hash": version.content_hash},
        request=request,
    )
    signature_request = signer.request
    others = list(signature_request.signers.exclude(pk=signer.pk).select_for_update())
    if signer.role == Signer.Role.LEAD:
        from .tasks import send_signature_request

        for other in others:
            if other.status == Signer.Status.WAITING:
                other.status, other.asked_at = Signer.Status.PENDING, now
                other.next_reminder_at = now + timedelta(days=signature_request.reminder_interval_days)
                other.save(update_fields=["status", "asked_at", "next_reminder_at"])
                enqueue(send_signature_request, other.pk)
    if all(o.status == Signer.Status.SIGNED for o in others):
        _complete(signature_request, actor=user, request=request)
    return signer


def _complete(signature_request: SignatureRequest, *, actor, request=None) -> None:
    """Everyone signed: the version is in force and published; the one before it is superseded."""
    now = timezone.now()
    version = signature_request.version
    charter = Charter.objects.select_for_update().get(pk=version.charter_id)
    signature_request.status, signature_request.closed_at = SignatureRequest.Status.COMPLETED, now
    signature_request.save(update_fields=["status", "closed_at"])
    previous = charter.in_force_version
    if previous is not None:
        previous.status = CharterVersion.Status.SUPERSEDED
        previous.save(update_fields=["status"])
    version.status, version.published_at = CharterVersion.Status.IN_FORCE, now
    version.save(update_fields=["status", "published_at"])
    _touch(charter, in_force_version=version, title=version.title)
    members = Membership.objects.for_org(version.organization_id).active()
    Acknowledgment.objects.bulk_create(
        [Acknowledgment(organization_id=version.organization_id, version=version, membership=m) for m in members]
    )
    _event(
        charter,
        "completed",
        actor=actor,
        version=version,
        detail={"hash": version.content_hash, "supersedes": previous.number if previous else None},
        request=request,
    )
    from .tasks import generate_pdf, notify_in_force

    enqueue(generate_pdf, version.pk)
    enqueue(notify_in_force, version.pk)


def _close_and_reopen(signature_request: SignatureRequest, *, status: str, version_status: str, actor, reason: str):
    now = timezone.now()
    signature_request.status, signature_request.closed_at = status, now
    signature_request.closed_by, signature_request.close_reason = actor, reason
    signature_request.save(update_fields=["status", "closed_at", "closed_by", "close_reason"])
    signature_request.signers.filter(status__in=[Signer.Status.WAITING, Signer.Status.PENDING]).update(
        status=Signer.Status.CANCELLED, next_reminder_at=None
    )
    version = signature_request.version
    version.status = version_status
    version.save(update_fields=["status"])
    draft = _copy_as_draft(version, actor)
    _touch(version.charter)
    return draft


@transaction.atomic
def decline(*, signer: Signer, user, reason: str, request=None) -> CharterVersion:
    """The signer declines: the request stops, the version goes back to a new draft (copied from
    it), and the editors get a mail with the reason. Returns the new draft."""
    signer = _lock_signer(signer)
    _check_can_act(signer, user)
    reason = doc.clean_text(reason, "reason", MAX_REASON)
    if not reason:
        raise ValidationError({"reason": "Say why you decline, so the editors know what to change."})
    signer.status, signer.declined_at, signer.decline_reason = Signer.Status.DECLINED, timezone.now(), reason
    signer.next_reminder_at = None
    signer.save(update_fields=["status", "declined_at", "decline_reason", "next_reminder_at"])
    signature_request = SignatureRequest.objects.select_for_update().get(pk=signer.request_id)
    draft = _close_and_reopen(
        signature_request,
        status=SignatureRequest.Status.DECLINED,
        version_status=CharterVersion.Status.DECLINED,
        actor=user,
        reason=reason,
    )
    version = signature_request.version
    _event(
        version.charter,
        "declined",
        actor=user,
        version=version,
        detail={"reason": reason, "new_draft": draft.number},
        request=request,
    )
    from .tasks import notify_declined

    enqueue(notify_declined, signer.pk)
    return draft


@transaction.atomic
def void(*, signature_request: SignatureRequest, actor, reason: str, request=None) -> CharterVersion:
    """An editor stops a pending request. The version goes back to a new draft."""
    signature_request = (
        SignatureRequest.objects.select_for_update()
        .select_related("version__charter")
        .get(pk=signature_request.pk, organization_id=signature_request.organization_id)
    )
    if signature_request.status != SignatureRequest.Status.PENDING:
        raise ValidationError(
            f"This request is {signature_request.get_status_display().lower()}; only a pending one can be voided."
        )
    reason = doc.clean_text(reason, "reason", MAX_REASON)
    if not reason:
        raise ValidationError({"reason": "Give a reason; the signers and the trail will show it."})
    draft = _close_and_reopen(
        signature_request,
        status=SignatureRequest.Status.VOIDED,
        version_status=CharterVersion.Status.VOIDED,
        actor=actor,
        reason=reason,
    )
    version = signature_request.version
    _event(
        version.charter,
        "voided",
        actor=actor,
        version=version,
        detail={"reason": reason, "new_draft": draft.number},
        request=request,
    )
    return draft


@transaction.atomic
def expire(*, signature_request: SignatureRequest, now=None) -> bool:
    """Called by the sweep for a request past its expiry: it stops, and the version goes back to a
    new draft. Claimed with a conditional update, so two sweeps expire it once."""
    now = now or timezone.now()
    claimed = SignatureRequest.objects.filter(
        pk=signature_request.pk, status=SignatureRequest.Status.PENDING, expires_at__lte=now
    ).update(status=SignatureRequest.Status.EXPIRED)
    if not claimed:
        return False
    signature_request.refresh_from_db()
    draft = _close_and_reopen(
        signature_request,
        status=SignatureRequest.Status.EXPIRED,
        version_status=CharterVersion.Status.EXPIRED,
        actor=None,
        reason="Not all signatures arrived in time.",
    )
    version = signature_request.version
    _event(version.charter, "expired", version=version, detail={"new_draft": draft.number})
    return True


def verify(version: CharterVersion) -> dict:
    """Recompute the fingerprint from the stored content and compare it with the one frozen."""
    if not version.is_frozen:
        return {"status": "not_frozen", "intact": None, "stored_hash": "", "computed_hash": compute_hash(version)}
    computed = compute_hash(version)
    intact = computed == version.content_hash
    signed_hashes = {s.version_hash for s in Signer.objects.filter(request__version=version, status="signed")}
    intact = intact and signed_hashes <= {version.content_hash}
    return {
        "status": "intact" if intact else "altered",
        "intact": intact,
        "stored_hash": version.content_hash,
        "computed_hash": computed,
    }


@transaction.atomic
def record_verification(*, version: CharterVersion, actor, request=None) -> dict:
    result = verify(version)
    _event(
        version.charter, "verified", actor=actor, version=version, detail={"result": result["status"]}, request=request
    )
    return result


# --- Mail, called by tasks (each claims its row first) -----------------------------------------


def _signers_context(signer: Signer) -> dict:
    version = signer.request.version
    return {
        "signer": signer,
        "version": version,
        "charter": version.charter,
        "organization": version.organization,
        "signature_request": signer.request,
        "url": absolute_url(sign_url(signer)),
    }


def mail_signature_request(signer: Signer) -> bool:
    claimed = Signer.objects.filter(pk=signer.pk, status=Signer.Status.PENDING, mailed_at__isnull=True).update(
        mailed_at=timezone.now()
    )
    if not claimed:
        return False
    send_templated_mail(
        to=[signer.membership.user.email], template="charters/email/sign_request", context=_signers_context(signer)
    )
    return True


def remind_signer(signer: Signer, *, now=None) -> bool:
    """Remind one pending signer whose reminder is due, and set the next one."""
    now = now or timezone.now()
    signature_request = signer.request
    due = signer.next_reminder_at
    if due is None or due > now or not signature_request.is_open:
        return False
    claimed = Signer.objects.filter(pk=signer.pk, status=Signer.Status.PENDING, next_reminder_at=due).update(
        next_reminder_at=now + timedelta(days=signature_request.reminder_interval_days),
        reminders_sent=signer.reminders_sent + 1,
    )
    if not claimed:
        return False
    send_templated_mail(
        to=[signer.membership.user.email],
        template="charters/email/sign_reminder",
        context=_signers_context(signer),
    )
    _event(
        signature_request.version.charter,
        "reminded",
        version=signature_request.version,
        detail={"signer": signer.membership.user.display_name},
    )
    return True


def mail_declined(signer: Signer) -> int:
    version = signer.request.version
    context = {
        "signer": signer,
        "version": version,
        "charter": version.charter,
        "organization": version.organization,
        "url": absolute_url(charter_url(version.charter)),
    }
    editors = [m.user.email for m in editors_of(version.organization)]
    for address in editors:
        send_templated_mail(to=[address], template="charters/email/declined", context=context)
    return len(editors)


def mail_in_force_notice(ack: Acknowledgment, *, reminder: bool = False) -> bool:
    """Tell one member the charter is in force (or remind them once, after 7 days, to acknowledge)."""
    field = "reminded_at" if reminder else "notified_at"
    rows = Acknowledgment.objects.filter(pk=ack.pk, **{f"{field}__isnull": True})
    if reminder:
        rows = rows.filter(acknowledged_at__isnull=True)
    if not rows.update(**{field: timezone.now()}):
        return False
    version = ack.version
    send_templated_mail(
        to=[ack.membership.user.email],
        template="charters/email/ack_reminder" if reminder else "charters/email/in_force",
        context={
            "version": version,
            "charter": version.charter,
            "organization": version.organization,
            "member": ack.membership,
            "url": absolute_url(charter_url(version.charter)),
        },
    )
    return True


# --- PDF ------------------------------------------------------------------------------------


@transaction.atomic
def ensure_pdf(version: CharterVersion) -> CharterVersion:
    """The PDF of a version in force, generated once and kept with its own SHA-256."""
    from .pdf import render_pdf

    version = _lock_version(version)
    if version.pdf:
        return version
    if version.status not in (CharterVersion.Status.IN_FORCE, CharterVersion.Status.SUPERSEDED):
        raise ValidationError("Only a signed charter has a PDF.")
    data = render_pdf(version)
    version.pdf.save(f"charter-{version.charter_id}-v{version.number}.pdf", ContentFile(data), save=False)
    version.pdf_sha256 = doc.sha256_hex(data)
    version.pdf_generated_at = timezone.now()
    version.save(update_fields=["pdf", "pdf_sha256", "pdf_generated_at"])
    return version


@transaction.atomic
def record_download(*, version: CharterVersion, actor, request=None) -> None:
    _event(
        version.charter,
        "downloaded",
        actor=actor,
        version=version,
        detail={"pdf_sha256": version.pdf_sha256},
        request=request,
    )


@transaction.atomic
def record_view(*, version: CharterVersion, actor, request=None) -> None:
    """A member read the published charter (once per member and version in the trail)."""
    already = CharterEvent.objects.for_org(version.organization_id).filter(version=version, verb="viewed", actor=actor)
    if not already.exists():
        _event(version.charter, "viewed", actor=actor, version=version, request=request)


# --- Everyone knows ---------------------------------------------------------------------------


@transaction.atomic
def acknowledge(*, charter: Charter, membership: Membership, request=None) -> Acknowledgment:
    version = charter.in_force_version
    if version is None:
        raise ValidationError("This charter is not in force yet; there is nothing to acknowledge.")
    ack, _ = Acknowledgment.objects.get_or_create(
        organization_id=charter.organization_id, version=version, membership=membership
    )
    if ack.acknowledged_at is None:
        ack.acknowledged_at = timezone.now()
        ack.save(update_fields=["acknowledged_at"])
        _event(charter, "acknowledged", actor=membership.user, version=version, request=request)
    return ack


@transaction.atomic
def record_callout(
    *,
    charter: Charter,
    author: Membership,
    kind: str,
    note: str,
    behavior_key: str = "",
    column_key: str = "",
    subject: Membership | None = None,
    client_or_project: str = "",
    request=None,
) -> Callout:
    """Kudos for a behavior from the matrix in force, or a flag for one the charter does not endorse."""
    version = charter.in_force_version
    if version is None:
        raise ValidationError("Call-outs refer to the charter in force; this one is not in force yet.")
    if kind not in Callout.Kind.values:
        raise ValidationError({"kind": "Choose kudos or flag."})
    note = doc.clean_text(note, "note", MAX_NOTE)
    if not note:
        raise ValidationError({"note": "Say what happened, in a sentence or two."})
    client_or_project = doc.clean_text(client_or_project, "client_or_project", 200)
    if subject is not None and (subject.organization_id != charter.organization_id or not subject.is_active):
        raise ValidationError({"subject": "Choose an active member of this organization."})
    by_key = {b["key"]: b for b in doc.behaviors(version.matrix)}
    columns = {c["key"]: c["name"] for c in version.matrix.get("columns", [])}
    behavior = by_key.get(behavior_key) if behavior_key else None
    if behavior_key and behavior is None:
        raise ValidationError({"behavior": "That behavior is not in the charter in force."})
    if kind == Callout.Kind.KUDOS and behavior is None:
        raise ValidationError({"behavior": "Choose the behavior from the matrix that this person showed."})
    if behavior is not None:
        column_key = behavior["column_key"]
    elif column_key and column_key not in columns:
        raise ValidationError({"column": "That column is not in the charter in force."})
    callout = Callout.objects.create(
        organization_id=charter.organization_id,
        charter=charter,
        version=version,
        kind=kind,
        behavior_key=behavior_key if behavior else "",
        column_key=column_key,
        column_name=columns.get(column_key, ""),
        behavior_text=behavior["text"] if behavior else "",
        subject=subject,
        unit=(subject.unit if subject else None) or author.unit,
        author=author,
        note=note,
        client_or_project=client_or_project,
    )
    _event(
        charter,
        "callout",
        actor=author.user,
        version=version,
        detail={"kind": kind, "column": callout.column_name, "behavior": callout.behavior_key},
        request=request,
    )
    return callout
