"""Operations that change feedback data. Each runs in one transaction, records itself in the audit log,
and sends mail only after commit (through tasks)."""

import copy
import json
import uuid
from contextlib import nullcontext
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cxprogram.audit.services import record
from cxprogram.core import tokens
from cxprogram.core.bulk import insert_many
from cxprogram.core.mail import absolute_url, mail_message, render_mail, send_templated_mail
from cxprogram.core.tasks import enqueue
from cxprogram.tenancy.context import activate, system_scope, use_organization
from cxprogram.tenancy.models import Membership, Organization
from cxprogram.tenancy.permissions import Role

from . import questions as q
from .delivery import ClaimLost, CommitBeforeAcceptConnection, GroupSender
from .models import (
    Batch,
    BatchContact,
    BatchProject,
    Client,
    Contact,
    FeedbackSettings,
    FollowUpCase,
    Project,
    QuestionKind,
    Response,
    SurveyRequest,
    SurveyTemplate,
    SurveyTemplateVersion,
)
from .selectors import link_closed

TOKEN_PURPOSE = "survey"
CLAIM_CHUNK = 50
DISPATCH_CHUNKS = 2  # chunks per task before it hands over to a fresh one
STUCK_AFTER = timedelta(minutes=10)
SMTP_CONNECTIONS = 10  # mails per group commit, each on its own SMTP connection (see delivery)


# --- Settings ---------------------------------------------------------------------------------------


def feedback_settings(organization: Organization) -> FeedbackSettings:
    found = FeedbackSettings.objects.for_org(organization).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return FeedbackSettings.objects.create(organization=organization, reminder_days=[4, 9])
    except IntegrityError:
        return FeedbackSettings.objects.for_org(organization).get()


SETTINGS_FIELDS = (
    "throttle_days",
    "reminder_count",
    "reminder_days",
    "expiry_days",
    "case_due_business_days",
    "escalation_days",
    "webhook_secret",
)


@transaction.atomic
def update_settings(*, organization: Organization, actor, request=None, **changes) -> FeedbackSettings:
    current = feedback_settings(organization)
    changed = {}
    for field, value in changes.items():
        if field not in SETTINGS_FIELDS:
            raise ValueError(f"{field} is not a feedback setting")
        if getattr(current, field) != value:
            setattr(current, field, value)
            changed[field] = "(changed)" if field == "webhook_secret" else value
    days = current.reminder_days or []
    if any(not isinstance(d, int) or d < 1 for d in days) or days != sorted(set(days)):
        raise ValidationError({"reminder_days": "Give increasing whole numbers of days, e.g. 4, 9."})
    if current.reminder_days and max(current.reminder_days) >= current.expiry_days:
        raise ValidationError({"reminder_days": "Reminders must go out before the link expires."})
    current.full_clean(exclude=["organization"])
    current.save()
    if changed:
        record(
            organization=organization,
            actor=actor,
            verb="feedback.settings_changed",
            target=current,
            payload=changed,
            request=request,
        )
    return current


def add_business_days(start: datetime, days: int, tz) -> datetime:
    """`start` plus `days` working days (Monday to Friday) in the organization's time zone."""
    local = start.astimezone(tz)
    while days > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    return local


# --- Clients, contacts, projects -------------------------------------------------------------------

CLIENT_FIELDS = ("name", "industry", "unit", "account_owner", "status", "tags")
CONTACT_FIELDS = ("client", "name", "email", "title", "kind", "language")
PROJECT_FIELDS = ("code", "name", "client", "project_manager", "unit", "phase", "start_date", "end_date", "status")


def _check_same_org(organization, **related):
    for field, obj in related.items():
        if obj is not None and obj.organization_id != organization.pk:
            raise ValidationError({field: "Choose one of this organization's."})


def _save(instance, fields, values, *, organization, actor, verb, request, unique_checks):
    creating = instance.pk is None
    before = {f: getattr(instance, f) for f in fields} if not creating else {}
    for field, value in values.items():
        if field not in fields:
            raise ValueError(f"{field} cannot be set here")
        setattr(instance, field, value.strip() if isinstance(value, str) else value)
    _check_same_org(organization, **{f: values.get(f) for f in values if hasattr(values.get(f), "organization_id")})
    for field, queryset in unique_checks(instance).items():
        if queryset.exclude(pk=instance.pk).exists():
            raise ValidationError({field: "Another record already uses this value."})
    instance.full_clean(exclude=["organization"])
    instance.save()
    changed = {f: str(values[f]) for f in values if creating or before.get(f) != getattr(instance, f)}
    if creating or changed:
        record(
            organization=organization,
            actor=actor,
            verb=f"{verb}.{'created' if creating else 'updated'}",
            target=instance,
            payload=changed,
            request=request,
        )
    return instance


@transaction.atomic
def save_client(*, organization, actor, client: Client | None = None, request=None, **values) -> Client:
    if "tags" in values:
        values["tags"] = sorted({t.strip() for t in values["tags"] or [] if t and t.strip()})
    return _save(
        client or Client(organization=organization),
        CLIENT_FIELDS,
        values,
        organization=organization,
        actor=actor,
        verb="client",
        request=request,
        unique_checks=lambda c: {"name": Client.objects.for_org(organization).filter(name__iexact=c.name)},
    )


@transaction.atomic
def save_contact(*, organization, actor, contact: Contact | None = None, request=None, **values) -> Contact:
    if "email" in values:
        values["email"] = (values["email"] or "").strip().lower()
    return _save(
        contact or Contact(organization=organization),
        CONTACT_FIELDS,
        values,
        organization=organization,
        actor=actor,
        verb="contact",
        request=request,
        unique_checks=lambda c: {"email": Contact.objects.for_org(organization).filter(email=c.email)},
    )


@transaction.atomic
def save_project(*, organization, actor, project: Project | None = None, request=None, **values) -> Project:
    return _save(
        project or Project(organization=organization),
        PROJECT_FIELDS,
        values,
        organization=organization,
        actor=actor,
        verb="project",
        request=request,
        unique_checks=lambda p: {"code": Project.objects.for_org(organization).filter(code__iexact=p.code)},
    )


def client_label(contact: Contact) -> str:
    """How the audit log names a client acting through their link, without an account."""
    return f"{contact.name or contact.email} (client)"


@transaction.atomic
def opt_out_contact(*, contact: Contact, reason: str, actor=None, request=None, by_contact: bool = False) -> bool:
    """Stop every future request and reminder to this contact (`by_contact`: at their own request, through
    their link). Returns False if already opted out."""
    updated = Contact.objects.filter(pk=contact.pk, opted_out_at__isnull=True).update(
        opted_out_at=timezone.now(), opted_out_reason=reason[:200]
    )
    if updated:
        SurveyRequest.objects.filter(contact_id=contact.pk, next_reminder_at__isnull=False).update(
            next_reminder_at=None
        )
        record(
            organization=contact.organization,
            actor=actor,
            actor_label=client_label(contact) if by_contact else "",
            verb="contact.opted_out",
            target=contact,
            payload={"reason": reason},
            request=request,
        )
    return bool(updated)


@transaction.atomic
def restore_contact(*, contact: Contact, actor, request=None) -> Contact:
    """Clear an opt-out or a bounce (the contact asked again, or the address was fixed)."""
    Contact.objects.filter(pk=contact.pk).update(
        opted_out_at=None, opted_out_reason="", bounced_at=None, bounce_reason="", soft_bounce_count=0
    )
    record(organization=contact.organization, actor=actor, verb="contact.restored", target=contact, request=request)
    contact.refresh_from_db()
    return contact


# --- Templates ----------------------------------------------------------------------------------------


@transaction.atomic
def create_template(
    *, organization, actor, name: str, questions: list, description: str = "", phase: str = "", request=None
) -> SurveyTemplate:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the template a name."})
    if SurveyTemplate.objects.for_org(organization).filter(name__iexact=name).exists():
        raise ValidationError({"name": "A template with this name exists already."})
    template = SurveyTemplate.objects.create(
        organization=organization,
        name=name,
        description=description,
        phase=phase,
        is_default=not SurveyTemplate.objects.for_org(organization).filter(is_default=True).exists(),
    )
    add_template_version(template=template, actor=actor, questions=questions, request=request)
    record(organization=organization, actor=actor, verb="template.created", target=template, request=request)
    return template


@transaction.atomic
def add_template_version(*, template: SurveyTemplate, actor, questions: list, request=None) -> SurveyTemplateVersion:
    """Questions are never edited in place: a new version is added and becomes current."""
    q.validate_questions(questions)
    languages = sorted(
        set.intersection(*[set(x["text"]) if isinstance(x["text"], dict) else {"en"} for x in questions])
    )
    last = template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = SurveyTemplateVersion.objects.create(
        organization_id=template.organization_id,
        template=template,
        number=last + 1,
        questions=questions,
        languages=languages or ["en"],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    template.current_version = version
    template.save(update_fields=["current_version"])
    if last:
        record(
            organization=template.organization,
            actor=actor,
            verb="template.versioned",
            target=template,
            payload={"version": version.number},
            request=request,
        )
    return version


def default_template(organization, actor=None) -> SurveyTemplate:
    """The organization's default template, created from DEFAULT_QUESTIONS on first use."""
    found = SurveyTemplate.objects.for_org(organization).filter(is_default=True).first()
    if found:
        return found
    return create_template(
        organization=organization,
        actor=actor,
        name=q.DEFAULT_TEMPLATE_NAME,
        questions=q.DEFAULT_QUESTIONS,
        description="Likelihood to recommend, the main reason, three relationship questions, follow-up consent.",
    )


@transaction.atomic
def make_template_default(*, template: SurveyTemplate, actor, request=None) -> None:
    SurveyTemplate.objects.for_org(template.organization).filter(is_default=True).update(is_default=False)
    SurveyTemplate.objects.filter(pk=template.pk).update(is_default=True)
    record(organization=template.organization, actor=actor, verb="template.made_default", target=template)


# --- Batches ------------------------------------------------------------------------------------------


def _pair_contacts(projects: list[Project], contacts: list[Contact]) -> list[tuple[Contact, Project]]:
    """Each contact is asked about the batch's first project of their own client."""
    by_client = {}
    for project in projects:
        by_client.setdefault(project.client_id, project)
    pairs, strays = [], []
    for contact in contacts:
        project = by_client.get(contact.client_id)
        (pairs if project else strays).append((contact, project))
    if strays:
        names = ", ".join(c.name for c, _ in strays[:5])
        raise ValidationError({"contacts": f"These contacts work for none of the batch's clients: {names}."})
    return pairs


@transaction.atomic
def create_batch(
    *,
    organization,
    actor,
    sender: Membership,
    projects: list[Project],
    contacts: list[Contact],
    template_version: SurveyTemplateVersion | None = None,
    personal_message: str = "",
    reply_to: str = "",
    name: str = "",
    request=None,
) -> Batch:
    if not projects:
        raise ValidationError({"projects": "Choose at least one project."})
    if not contacts:
        raise ValidationError({"contacts": "Choose at least one contact to ask."})
    _check_same_org(organization, sender=sender, template_version=template_version)
    for obj in [*projects, *contacts]:
        _check_same_org(organization, item=obj)
    template_version = template_version or default_template(organization, actor).current_version
    reply_to = (reply_to or sender.user.email).strip()
    try:
        validate_email(reply_to)
    except ValidationError:
        raise ValidationError({"reply_to": "Enter a valid reply-to address."})
    pairs = _pair_contacts(projects, contacts)
    batch = Batch.objects.create(
        organization=organization,
        name=(name or "Feedback: " + ", ".join(p.code for p in projects))[:200],
        template_version=template_version,
        personal_message=personal_message.strip(),
        sender=sender,
        reply_to=reply_to,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    BatchProject.objects.bulk_create(
        [BatchProject(organization=organization, batch=batch, project=p) for p in projects]
    )
    BatchContact.objects.bulk_create(
        [BatchContact(organization=organization, batch=batch, contact=c, project=p) for c, p in pairs]
    )
    record(
        organization=organization,
        actor=actor,
        verb="batch.created",
        target=batch,
        payload={"projects": [p.code for p in projects], "contacts": len(pairs)},
        request=request,
    )
    return batch


def skip_reasons(batch: Batch, now: datetime | None = None) -> dict[int, str]:
    """contact id → why the contact would be left out if the batch went out now."""
    now = now or timezone.now()
    window = feedback_settings(batch.organization).throttle_days
    rows = list(
        BatchContact.objects.filter(batch=batch).values_list(
            "contact_id", "contact__opted_out_at", "contact__bounced_at"
        )
    )
    contact_ids = [r[0] for r in rows]
    recent = set()
    if window:
        recent = set(
            SurveyRequest.objects.for_org(batch.organization)
            .filter(contact_id__in=contact_ids)
            .exclude(batch=batch)
            .filter(
                Q(sent_at__gte=now - timedelta(days=window))
                | Q(state__in=[SurveyRequest.State.QUEUED, SurveyRequest.State.SENDING])
            )
            .values_list("contact_id", flat=True)
        )
    reasons = {}
    for contact_id, opted_out_at, bounced_at in rows:
        if opted_out_at:
            reasons[contact_id] = BatchContact.SkipReason.OPTED_OUT
        elif bounced_at:
            reasons[contact_id] = BatchContact.SkipReason.BOUNCED
        elif contact_id in recent:
            reasons[contact_id] = BatchContact.SkipReason.THROTTLED
    return reasons


@transaction.atomic
def schedule_batch(*, batch: Batch, actor, send_at: datetime, request=None) -> Batch:
    if send_at <= timezone.now():
        raise ValidationError({"send_at": "Choose a time in the future, or send now."})
    _ensure_has_contacts(batch)
    updated = Batch.objects.filter(pk=batch.pk, state__in=[Batch.State.DRAFT, Batch.State.SCHEDULED]).update(
        state=Batch.State.SCHEDULED, send_at=send_at
    )
    if not updated:
        raise ValidationError("Only a draft or scheduled batch can be scheduled.")
    record(
        organization=batch.organization,
        actor=actor,
        verb="batch.scheduled",
        target=batch,
        payload={"send_at": send_at.isoformat()},
        request=request,
    )
    batch.refresh_from_db()
    return batch


def _ensure_has_contacts(batch: Batch) -> None:
    if not BatchContact.objects.filter(batch=batch).exists():
        raise ValidationError({"contacts": "This batch has no contacts: add some before sending."})


@transaction.atomic
def send_batch_now(*, batch: Batch, actor, request=None) -> Batch:
    _ensure_has_contacts(batch)
    started = start_batch(batch=batch, from_states=[Batch.State.DRAFT, Batch.State.SCHEDULED])
    if not started:
        raise ValidationError("This batch has already gone out or was cancelled.")
    record(
        organization=batch.organization,
        actor=actor,
        verb="batch.sent",
        target=batch,
        payload={"requests": batch.request_count, "skipped": batch.skipped_count},
        request=request,
    )
    return batch


@transaction.atomic
def cancel_batch(*, batch: Batch, actor, request=None) -> Batch:
    updated = Batch.objects.filter(pk=batch.pk, state__in=[Batch.State.DRAFT, Batch.State.SCHEDULED]).update(
        state=Batch.State.CANCELLED, cancelled_at=timezone.now()
    )
    if not updated:
        raise ValidationError("Only a batch that has not gone out yet can be cancelled.")
    record(organization=batch.organization, actor=actor, verb="batch.cancelled", target=batch, request=request)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def close_batch(*, batch: Batch, actor, request=None) -> Batch:
    """Stop reminders and close the survey links of a sent batch."""
    updated = Batch.objects.filter(pk=batch.pk, state__in=[Batch.State.SENDING, Batch.State.SENT]).update(
        state=Batch.State.CLOSED, closed_at=timezone.now()
    )
    if not updated:
        raise ValidationError("Only a batch that went out can be closed.")
    SurveyRequest.objects.filter(batch=batch).update(next_reminder_at=None)
    unsent = SurveyRequest.objects.filter(batch=batch, state=SurveyRequest.State.QUEUED).update(
        state=SurveyRequest.State.FAILED, last_error="Batch closed before sending."
    )
    _count_outcomes(batch.pk, failed=unsent)
    record(organization=batch.organization, actor=actor, verb="batch.closed", target=batch, request=request)
    batch.refresh_from_db()
    return batch


def survey_token(survey_request: SurveyRequest) -> str:
    return tokens.make_token(TOKEN_PURPOSE, survey_request.nonce)


def start_batch(*, batch: Batch, from_states: list[str]) -> bool:
    """Move the batch to sending, freeze who is skipped, create one queued request per remaining
    contact and enqueue the dispatchers (after commit). False if the batch was not in `from_states`."""
    now = timezone.now()
    if not Batch.objects.filter(pk=batch.pk, state__in=from_states).update(
        state=Batch.State.SENDING, started_at=now, dispatched_at=now
    ):
        return False
    organization = batch.organization
    expiry = now + timedelta(days=feedback_settings(organization).expiry_days)
    reasons = skip_reasons(batch, now)
    for reason in set(reasons.values()):
        BatchContact.objects.filter(batch=batch, contact_id__in=[c for c, r in reasons.items() if r == reason]).update(
            skip_reason=reason
        )
    pairs = [
        pair
        for pair in BatchContact.objects.filter(batch=batch).values_list("contact_id", "project_id")
        if pair[0] not in reasons
    ]
    nonces = [tokens.new_nonce() for _ in pairs]
    insert_many(
        SurveyRequest,
        SurveyRequest(organization=organization, batch=batch, expires_at=expiry, created_at=now),
        {
            "contact": [contact_id for contact_id, _ in pairs],
            "project": [project_id for _, project_id in pairs],
            "nonce": nonces,
            "token_hash": [tokens.hash_token(tokens.make_token(TOKEN_PURPOSE, nonce)) for nonce in nonces],
        },
    )
    batch.request_count, batch.skipped_count = len(pairs), len(reasons)
    Batch.objects.filter(pk=batch.pk).update(request_count=len(pairs), skipped_count=len(reasons))
    batch.state, batch.started_at = Batch.State.SENDING, now
    if pairs:
        enqueue_dispatchers(batch, len(pairs))
    else:
        finish_batch_if_done(batch.pk)
    return True


def enqueue_dispatchers(batch: Batch, count: int) -> None:
    from .tasks import dispatch_batch

    # A few dispatchers per batch, each claiming chunks until none are left, keep every worker busy
    # without putting one broker message per request on the queue.
    for _ in range(min(max(1, count // (CLAIM_CHUNK * 2)), getattr(settings, "FEEDBACK_DISPATCHERS_PER_BATCH", 4))):
        enqueue(dispatch_batch, batch.organization_id, batch.pk)


def claim_requests(batch: Batch, limit: int = CLAIM_CHUNK) -> tuple[str, list[int]]:
    """Claim up to `limit` queued requests of a batch: queued → sending with a fresh claim id."""
    claim_id = uuid.uuid4().hex
    with use_organization(batch.organization):
        ids = list(
            SurveyRequest.objects.select_for_update(skip_locked=True)
            .filter(organization_id=batch.organization_id, batch_id=batch.pk, state=SurveyRequest.State.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            SurveyRequest.objects.filter(pk__in=ids, state=SurveyRequest.State.QUEUED).update(
                state=SurveyRequest.State.SENDING,
                claim_id=claim_id,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
    return claim_id, ids


def _sender_address(batch: Batch) -> str:
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((f"{batch.organization.name} via {batch.sender.user.display_name}", address))


def survey_mail_context(survey_request: SurveyRequest, *, reminder: bool, token: str, contact: Contact) -> dict:
    batch = survey_request.batch
    version = batch.template_version
    language = q.pick_language(contact.language, version.languages)
    survey_url = absolute_url(reverse("feedback_public:survey", args=[token]))
    nps = next((x for x in version.questions if x["kind"] == "nps"), None)
    organization = batch.organization
    return {
        "organization": organization,
        "contact": contact,
        "project": survey_request.project,
        "sender": batch.sender,
        "personal_message": batch.personal_message,
        "reminder": reminder,
        "language": language,
        "nps_question": q.localized(nps["text"], language, organization=organization.name) if nps else "",
        "low_label": q.localized(nps.get("low_label", ""), language) if nps else "",
        "high_label": q.localized(nps.get("high_label", ""), language) if nps else "",
        "scores": [(str(n), f"{survey_url}?score={n}") for n in range(11)],  # strings: no number formatting
        "survey_url": survey_url,
        "unsubscribe_url": absolute_url(reverse("feedback_public:unsubscribe", args=[token])),
        "ui": q.ui_text(language),
    }


class SurveyMails:
    """The survey mails of one dispatch. Rendering is most of a mail's cost, so the templates are rendered
    once per language, project and kind (first mail or reminder), with stand-ins for the two things that
    differ per contact, the name and the links' token, which each mail then fills in. The templates may
    use nothing else of the contact."""

    def __init__(self):
        stand_in = uuid.uuid4().hex
        self.name = f"\ue000{stand_in}\ue000"  # private-use characters: nobody types them, escaping leaves them
        self.token = (stand_in * 2)[:43]  # shaped like a token, so links are built as for a real one
        self.rendered: dict[tuple, tuple] = {}

    def mail(self, survey_request: SurveyRequest, *, reminder: bool, message_id: str | None = None, connection=None):
        contact, batch = survey_request.contact, survey_request.batch
        key = (contact.language, survey_request.project_id, reminder)
        if key not in self.rendered:
            stand_in = copy.copy(contact)
            stand_in.name = self.name
            context = survey_mail_context(survey_request, reminder=reminder, token=self.token, contact=stand_in)
            self.rendered[key] = (render_mail("feedback/email/survey_request", context), context["unsubscribe_url"])
        (subject, text, html), unsubscribe_url = self.rendered[key]
        token = survey_token(survey_request)

        def fill(rendered: str, name: str) -> str:
            return rendered.replace(self.token, token).replace(self.name, name)

        return mail_message(
            fill(subject, contact.name),
            fill(text, contact.name),
            fill(html, escape(contact.name)) if html else None,
            to=[contact.email],
            from_email=_sender_address(batch),
            reply_to=[batch.reply_to],
            headers={
                "List-Unsubscribe": f"<{fill(unsubscribe_url, '')}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            message_id=message_id,
            connection=connection,
        )


def dispatch_batch(organization: Organization, batch_id: int, max_chunks: int = DISPATCH_CHUNKS) -> int:
    """Claim and send a batch's queued requests, chunk by chunk, at most `max_chunks` chunks, then hand
    the rest to a fresh task, so that tasks stay short and workers stay responsive. Every step is its own
    short transaction (a claim, one mail's commit), so a crash loses at most the claim of one chunk, which
    the stuck-request sweep gives back. Returns the number of mails sent by this call."""
    with use_organization(organization):
        batch = (
            Batch.objects.for_org(organization)
            .select_related("organization", "sender__user", "template_version")
            .get(pk=batch_id)
        )
        schedule = feedback_settings(organization).reminder_schedule
    first_reminder = timedelta(days=schedule[0]) if schedule else None
    sent = 0
    sender = GroupSender(getattr(settings, "FEEDBACK_SMTP_CONNECTIONS", SMTP_CONNECTIONS))
    mails = SurveyMails()
    more = False
    try:
        for _ in range(max_chunks):
            claim_id, ids = claim_requests(batch)
            if not ids:
                break
            with use_organization(organization):
                requests = list(
                    SurveyRequest.objects.filter(pk__in=ids, claim_id=claim_id).select_related("contact", "project")
                )
            for survey_request in requests:
                survey_request.batch = batch
            for start in range(0, len(requests), sender.size):
                group = requests[start : start + sender.size]
                sent += _deliver_group(group, claim_id, sender, first_reminder, mails)
        else:
            more = True
    finally:
        sender.close()
    with use_organization(organization):
        if more:
            from .tasks import dispatch_batch as dispatch_task

            enqueue(dispatch_task, organization.pk, batch_id)
        else:
            finish_batch_if_done(batch_id)
    return sent


def _count_outcomes(batch_id: int, *, sent: int = 0, failed: int = 0) -> None:
    """Move the batch's progress counters in the transaction that changes its requests' states: they stay
    exact through retries and crashes, and no chunk has to count the whole batch again."""
    if sent or failed:
        Batch.objects.filter(pk=batch_id).update(
            sent_count=F("sent_count") + sent, failed_count=F("failed_count") + failed
        )


def _message_id(claim_id: str, request_id: int) -> str:
    return f"<{claim_id}.{request_id}@cxprogram>"


def _message_id_in_sql(claim_id: str):
    """`_message_id` of each row as an SQL expression, so one UPDATE records a whole group's Message-IDs."""
    return Concat(Value(f"<{claim_id}."), Cast("pk", CharField()), Value("@cxprogram>"))


def _deliver_group(
    requests: list[SurveyRequest],
    claim_id: str,
    sender: GroupSender,
    first_reminder: timedelta | None,
    mails: SurveyMails | None = None,
) -> int:
    """Mail a group of claimed requests with one commit for the group (see delivery); returns how many
    were delivered. A refused address fails its request; a broken connection gives the claim's unsent
    requests back to the queue and raises, for the task to retry."""
    import smtplib

    organization = requests[0].batch.organization
    claimed = SurveyRequest.objects.filter(claim_id=claim_id, state=SurveyRequest.State.SENDING)

    batch_id = requests[0].batch_id

    def fail(rows, reason: str, *, was_sent: bool = False) -> None:
        with use_organization(organization):
            failed = rows.update(state=SurveyRequest.State.FAILED, last_error=reason[:300], next_reminder_at=None)
            _count_outcomes(batch_id, sent=-failed if was_sent else 0, failed=failed)

    unmailable = [r.pk for r in requests if not r.contact.mailable]
    if unmailable:
        fail(claimed.filter(pk__in=unmailable), "The contact opted out or bounced before sending.")
    mailable = [r for r in requests if r.contact.mailable]
    mails = mails or SurveyMails()
    messages = [mails.mail(r, reminder=False, message_id=_message_id(claim_id, r.pk)) for r in mailable]
    committed: set[int] = set()

    def commit(indices: list[int]) -> set[int]:
        ids = [mailable[i].pk for i in indices]
        now = timezone.now()
        with use_organization(organization):
            updated = claimed.filter(pk__in=ids).update(
                state=SurveyRequest.State.SENT,
                sent_at=now,
                message_id=_message_id_in_sql(claim_id),
                next_reminder_at=now + first_reminder if first_reminder else None,
                last_error="",
            )
            _count_outcomes(batch_id, sent=updated)
            held = set(ids)
            if updated < len(ids):  # some were given to another worker meanwhile: only ours go out
                held = set(
                    SurveyRequest.objects.filter(
                        pk__in=ids, claim_id=claim_id, state=SurveyRequest.State.SENT, sent_at=now
                    ).values_list("pk", flat=True)
                )
        committed.update(i for i in indices if mailable[i].pk in held)
        return set(committed)

    try:
        delivered, refused = sender.send(messages, commit)
    except Exception as error:
        # Transient: give this claim's unsent requests back to the queue, then let the task retry.
        with use_organization(organization):
            claimed.update(state=SurveyRequest.State.QUEUED, claim_id="", last_error=str(error)[:300])
        raise
    for i, error in refused.items():
        if i in committed:  # recorded as sent, but the server refused the finished message
            fail(SurveyRequest.objects.filter(pk=mailable[i].pk), str(error), was_sent=True)
        elif isinstance(error, smtplib.SMTPRecipientsRefused):
            fail(claimed.filter(pk=mailable[i].pk), f"Address refused: {error.recipients}")
        else:
            fail(claimed.filter(pk=mailable[i].pk), str(error))
    return len(delivered)


def finish_batch_if_done(batch_id: int) -> bool:
    pending = SurveyRequest.objects.filter(
        batch_id=batch_id, state__in=[SurveyRequest.State.QUEUED, SurveyRequest.State.SENDING]
    )
    if pending.exists():
        return False
    return bool(
        Batch.objects.filter(pk=batch_id, state=Batch.State.SENDING).update(
            state=Batch.State.SENT, finished_at=timezone.now()
        )
    )


def requeue_stuck_requests(older_than: timedelta = STUCK_AFTER) -> list[tuple[int, int]]:
    """Give requests claimed by a worker that died back to the queue, and re-dispatch batches whose
    queued requests nobody picked up. Returns the (organization id, batch id) pairs re-dispatched.
    Sending stays exactly-once: a late original worker finds its claim gone and sends nothing."""
    cutoff = timezone.now() - older_than
    stuck = SurveyRequest.objects.filter(state=SurveyRequest.State.SENDING, claimed_at__lt=cutoff)
    batch_ids = set(stuck.values_list("batch_id", flat=True).distinct())
    stuck.update(state=SurveyRequest.State.QUEUED, claim_id="")
    batch_ids |= set(
        Batch.objects.filter(state=Batch.State.SENDING, dispatched_at__lt=cutoff).values_list("pk", flat=True)
    )
    pairs = []
    for batch in Batch.objects.filter(pk__in=batch_ids, state=Batch.State.SENDING):
        queued = SurveyRequest.objects.filter(batch=batch, state=SurveyRequest.State.QUEUED).count()
        if queued:
            Batch.objects.filter(pk=batch.pk).update(dispatched_at=timezone.now())
            enqueue_dispatchers(batch, queued)
            pairs.append((batch.organization_id, batch.pk))
        else:
            finish_batch_if_done(batch.pk)
    return pairs


def due_scheduled_batches(now: datetime | None = None):
    return Batch.objects.filter(state=Batch.State.SCHEDULED, send_at__lte=now or timezone.now())


def reminder_stop_reason(survey_request: SurveyRequest, now: datetime) -> str | None:
    if survey_request.responded_at:
        return "responded"
    if not survey_request.contact.mailable:
        return "contact not mailable"
    if survey_request.batch.state in (Batch.State.CLOSED, Batch.State.CANCELLED):
        return "batch closed"
    if survey_request.expires_at and survey_request.expires_at <= now:
        return "expired"
    if survey_request.revoked_at:
        return "revoked"
    return None


def send_reminder(organization: Organization, survey_request_id: int) -> bool:
    """Send the next due reminder of one request, exactly once: the reminder count moves on in the
    same conditional update that confirms the reminder is still due and wanted, committed before the
    mail is accepted (see delivery)."""
    now = timezone.now()
    with use_organization(organization):
        survey_request = (
            SurveyRequest.objects.for_org(organization)
            .select_related(
                "contact", "project", "batch__organization", "batch__sender__user", "batch__template_version"
            )
            .filter(pk=survey_request_id, state=SurveyRequest.State.SENT, next_reminder_at__lte=now)
            .first()
        )
        if survey_request is None:
            return False
        if reminder_stop_reason(survey_request, now):
            SurveyRequest.objects.filter(pk=survey_request.pk).update(next_reminder_at=None)
            return False
        schedule = feedback_settings(organization).reminder_schedule
    n = survey_request.reminders_sent
    following = survey_request.sent_at + timedelta(days=schedule[n + 1]) if n + 1 < len(schedule) else None

    def commit(message_id: str) -> bool:
        # Lock the row on its own columns first: PostgreSQL re-checks those after waiting for a
        # concurrent worker, whereas an UPDATE filtered through joins (a subquery) would not, and two
        # workers could both count the same reminder as theirs.
        locked = (
            SurveyRequest.objects.select_for_update(of=("self",))
            .select_related("contact", "batch")
            .filter(
                pk=survey_request.pk,
                reminders_sent=n,
                next_reminder_at__lte=now,
                responded_at__isnull=True,
                revoked_at__isnull=True,
            )
            .first()
        )
        if locked is None or reminder_stop_reason(locked, now):
            return False
        SurveyRequest.objects.filter(pk=locked.pk).update(
            reminders_sent=n + 1, last_reminded_at=timezone.now(), next_reminder_at=following
        )
        return True

    connection = CommitBeforeAcceptConnection(atomic=lambda: use_organization(organization))
    connection.commit = commit
    try:
        SurveyMails().mail(survey_request, reminder=True, connection=connection).send()
    except ClaimLost:
        return False
    finally:
        connection.close()
    return True


def due_reminders(now: datetime | None = None):
    return SurveyRequest.objects.filter(
        state=SurveyRequest.State.SENT, next_reminder_at__lte=now or timezone.now()
    ).values_list("organization_id", "pk")


# --- Public survey ---------------------------------------------------------------------------------


# What `submit_answers` and `save_draft` return when they recorded the answers; otherwise they
# recorded nothing: no such link, a closed one, or one that asks another version's questions.
CREATED, UPDATED, SAVED = "created", "updated", "saved"
UNKNOWN, CLOSED, STALE = "unknown", "closed", "stale"
RECORDED = (CREATED, UPDATED)


def save_draft(*, token: str, version: SurveyTemplateVersion, answers: dict) -> str:
    """Autosave: keep what the client answered so far (`answers`, clean against `version`, partial)
    on the link behind `token`; nothing counts as a response yet. Returns SAVED, or UNKNOWN, CLOSED or
    STALE. On PostgreSQL one statement (`feedback_save_draft`, migration 0010)."""
    token_hash, now = tokens.hash_token(token), timezone.now()
    if settings.IS_POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT feedback_save_draft(%s, %s, %s::jsonb, %s)", [token_hash, version.pk, json.dumps(answers), now]
            )
            return cursor.fetchone()[0]
    with transaction.atomic():
        survey_request, refused = _open_request(token_hash, version, now)
        if refused:
            return refused
        SurveyRequest.objects.filter(pk=survey_request.pk).update(draft_answers=answers, draft_saved_at=now)
    return SAVED


def submit_answers(*, token: str, version: SurveyTemplateVersion, answers: dict) -> str:
    """Record (or update) the one response of the survey link behind `token`, stop its reminders and
    open a follow-up case when the answers call for one. `answers` are clean (questions.clean_answers)
    against `version`, the version the client's form showed. Returns CREATED or UPDATED; or, recording
    nothing, UNKNOWN (no such link), CLOSED, or STALE (the link asks another version's questions).

    On PostgreSQL one statement does it (`feedback_submit_answers`, migration 0009), in a transaction
    with the case when there is one; elsewhere the ORM does the same."""
    nps_key = q.nps_key(version.questions)
    fields = {
        "nps_score": answers.get(nps_key) if nps_key else None,
        "answers": answers,
        "follow_up_requested": any(
            answers.get(x["key"]) is True for x in version.questions if x["kind"] == QuestionKind.FOLLOW_UP_CONSENT
        ),
    }
    trigger = q.case_trigger(version.questions, answers)
    record_answers = _submit_in_database if settings.IS_POSTGRES else _submit_through_orm
    with transaction.atomic() if trigger else nullcontext():
        outcome, response_id = record_answers(tokens.hash_token(token), version, fields, timezone.now())
        if trigger and outcome in RECORDED:
            response = Response.objects.select_related("organization", "project__client").get(pk=response_id)
            open_case(response=response, trigger=trigger)
    return outcome


def _submit_in_database(token_hash: str, version, fields: dict, now: datetime) -> tuple[str, int | None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT outcome, response_id FROM feedback_submit_answers(%s, %s, %s, %s::jsonb, %s, %s)",
            [
                token_hash,
                version.pk,
                fields["nps_score"],
                json.dumps(fields["answers"]),
                fields["follow_up_requested"],
                now,
            ],
        )
        return cursor.fetchone()


def _submit_through_orm(token_hash: str, version, fields: dict, now: datetime) -> tuple[str, int | None]:
    with transaction.atomic():
        survey_request, refused = _open_request(token_hash, version, now)
        if refused:
            return refused, None
        response, created = _record_response(survey_request, version, fields, now)
    return (CREATED if created else UPDATED), response.pk


def _open_request(token_hash: str, version, now: datetime) -> tuple[SurveyRequest | None, str | None]:
    """(the request behind a token hash, why it takes no answers to `version` or None); its
    organization made current. What the PostgreSQL functions check first, through the ORM."""
    with system_scope():
        survey_request = (
            SurveyRequest.objects.select_related("organization", "contact", "project__client", "batch")
            .filter(token_hash=token_hash)
            .first()
        )
    if survey_request is None:
        return None, UNKNOWN
    activate(survey_request.organization)
    if link_closed(survey_request, now):
        return survey_request, CLOSED
    if survey_request.batch.template_version_id != version.pk:
        return survey_request, STALE
    return survey_request, None


def _record_response(survey_request: SurveyRequest, version, fields: dict, now: datetime) -> tuple[Response, bool]:
    # The lock serialises two submits of one link. The row it returns is the latest, even after waiting
    # for the other submit, so its responded_at (set with the response, in one transaction) says whether
    # a response exists; a join here would read the responses as they were before the wait.
    responded_at = (
        SurveyRequest.objects.select_for_update()
        .filter(pk=survey_request.pk)
        .values_list("responded_at", flat=True)
        .get()
    )
    existing = Response.objects.filter(request_id=survey_request.pk).first() if responded_at else None
    contact, project = survey_request.contact, survey_request.project
    values = {**fields, "language": contact.language, "updated_at": now}
    if existing is None:
        response = Response.objects.create(
            organization_id=survey_request.organization_id,
            request_id=survey_request.pk,
            batch_id=survey_request.batch_id,
            contact=contact,
            client_id=project.client_id,
            project=project,
            project_manager_id=project.project_manager_id,
            unit_id=project.unit_id or project.client.unit_id,
            contact_kind=contact.kind,
            template_version=version,
            submitted_at=now,
            **values,
        )
    else:
        response = existing
        for field, value in values.items():
            setattr(response, field, value)
        response.save(update_fields=list(values))
    SurveyRequest.objects.filter(pk=survey_request.pk).update(responded_at=responded_at or now, next_reminder_at=None)
    record(
        organization=survey_request.organization,
        actor=None,
        actor_label=client_label(contact),
        verb="response.updated" if existing else "response.submitted",
        target=response,
        payload={"nps": response.nps_score, "project": project.code},
    )
    return response, existing is None


# --- Closing the loop ------------------------------------------------------------------------------


def open_case(*, response: Response, trigger: str) -> FollowUpCase | None:
    """One case per response; created inside the submitting transaction, alert mailed after commit."""
    from .tasks import send_case_alert

    if FollowUpCase.objects.filter(response=response).exists():
        return None
    organization = response.organization
    project = response.project
    owner_id = project.project_manager_id or project.client.account_owner_id
    now = timezone.now()
    due = add_business_days(now, feedback_settings(organization).case_due_business_days, organization.tz)
    case = FollowUpCase.objects.create(
        organization=organization,
        response=response,
        client_id=response.client_id,
        project=project,
        unit_id=response.unit_id,
        owner_id=owner_id,
        trigger=trigger,
        due_at=due,
        created_at=now,
        updated_at=now,
    )
    record(organization=organization, actor=None, verb="case.opened", target=case, payload={"trigger": trigger})
    enqueue(send_case_alert, organization.pk, case.pk)
    return case


def case_recipients(case: FollowUpCase) -> list[str]:
    coe = Membership.objects.for_org(case.organization).active().with_role(Role.CX_COE).select_related("user")
    emails = [m.user.email for m in coe]
    if case.owner_id and case.owner.is_active:
        emails.insert(0, case.owner.user.email)
    return list(dict.fromkeys(emails))


def answer_lines(response: Response) -> list[tuple[str, str]]:
    """(question, answer) pairs in the template's order, in English, for staff-facing pages and mail."""
    lines = []
    for x in response.template_version.questions:
        value = response.answers.get(x["key"])
        if value is None or value == "" or value == []:
            continue
        if x["kind"] in ("single_choice", "multiple_choice"):
            labels = {c["value"]: q.localized(c["label"], "en") for c in x.get("choices", [])}
            value = ", ".join(labels.get(v, v) for v in (value if isinstance(value, list) else [value]))
        elif x["kind"] == "follow_up_consent":
            value = "Yes" if value else "No"
        elif x["kind"] == "rating":
            value = f"{value} of {x.get('scale_max', 5)}"
        lines.append((q.localized(x["text"], "en", organization=response.organization.name), str(value)))
    return lines


def mail_case_alert(case: FollowUpCase) -> bool:
    """The alert to the owner and the CX CoE, once per case."""
    # The claim commits only with the mail: a failed send leaves the alert to the task's retry.
    with transaction.atomic():
        if not FollowUpCase.objects.filter(pk=case.pk, alerted_at__isnull=True).update(alerted_at=timezone.now()):
            return False
        recipients = case_recipients(case)
        if not recipients:
            return False
        organization = case.organization
        send_templated_mail(
            to=recipients,
            template="feedback/email/case_alert",
            context={
                "case": case,
                "organization": organization,
                "response": case.response,
                "answers": answer_lines(case.response),
                "url": absolute_url(reverse("feedback:case_detail", args=[organization.slug, case.pk])),
            },
        )
    return True


CASE_FIELDS = ("owner", "state", "notes", "outcome", "root_cause")


@transaction.atomic
def update_case(*, case: FollowUpCase, actor, request=None, **values) -> FollowUpCase:
    organization = case.organization
    _check_same_org(organization, owner=values.get("owner"))
    before = {f: getattr(case, f) for f in CASE_FIELDS}
    for field, value in values.items():
        if field not in CASE_FIELDS:
            raise ValueError(f"{field} cannot be changed here")
        setattr(case, field, value)
    if case.state == FollowUpCase.State.RESOLVED:
        errors = {}
        if not (case.outcome or "").strip():
            errors["outcome"] = "Say how the case was resolved."
        if not case.root_cause:
            errors["root_cause"] = "Choose a root cause."
        if errors:
            raise ValidationError(errors)
        case.closed_at = case.closed_at or timezone.now()
    else:
        case.closed_at = None
    case.updated_at = timezone.now()
    case.full_clean(exclude=["organization", "response"])
    case.save()
    changed = {f: str(getattr(case, f)) for f in CASE_FIELDS if before[f] != getattr(case, f)}
    if changed:
        record(
            organization=organization, actor=actor, verb="case.updated", target=case, payload=changed, request=request
        )
    return case


def overdue_cases(now: datetime | None = None):
    return FollowUpCase.objects.exclude(state=FollowUpCase.State.RESOLVED).filter(due_at__lt=now or timezone.now())


def remind_overdue_case(case_id: int, now: datetime | None = None) -> bool:
    """At most one overdue reminder per case per day (in the organization's time zone); escalate to the
    unit leader (else the CX CoE) once it has been overdue for the organization's escalation days. Each
    claim commits only with its mail, so a failed send is tried again by the task's retry."""
    now = now or timezone.now()
    case = (
        FollowUpCase.objects.select_related("organization", "owner__user", "client", "project", "response")
        .filter(pk=case_id)
        .exclude(state=FollowUpCase.State.RESOLVED)
        .first()
    )
    if case is None or case.due_at >= now:
        return False
    organization = case.organization
    url = absolute_url(reverse("feedback:case_detail", args=[organization.slug, case.pk]))
    sent = False
    # A calendar day, not 23 hours: hourly runs 23 hours apart can both fall on one day.
    start_of_day = timezone.localtime(now, organization.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic():
        if FollowUpCase.objects.filter(
            Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=start_of_day), pk=case.pk
        ).update(last_reminded_at=now):
            recipients = case_recipients(case)
            if recipients:
                send_templated_mail(
                    to=recipients[:1],
                    template="feedback/email/case_overdue",
                    context={"case": case, "organization": organization, "url": url},
                )
                sent = True
    escalate_after = feedback_settings(organization).escalation_days
    if case.escalated_at is None and case.due_at <= now - timedelta(days=escalate_after):
        leader = _escalation_target(case)
        with transaction.atomic():
            if FollowUpCase.objects.filter(pk=case.pk, escalated_at__isnull=True).update(
                escalated_at=now, escalated_to=leader
            ):
                record(
                    organization=organization,
                    actor=None,
                    verb="case.escalated",
                    target=case,
                    payload={"to": str(leader.user) if leader else ""},
                )
                if leader:
                    send_templated_mail(
                        to=[leader.user.email],
                        template="feedback/email/case_escalated",
                        context={"case": case, "organization": organization, "url": url, "leader": leader},
                    )
                    sent = True
    return sent


def _escalation_target(case: FollowUpCase) -> Membership | None:
    """The unit leader of the case's unit, or of its parent unit; without one (or without a unit), the
    longest-standing CX CoE member, who runs the follow-up program. None only if there is neither."""
    members = Membership.objects.for_org(case.organization).active().select_related("user").order_by("joined_at", "pk")
    leaders = list(members.with_role(Role.UNIT_LEADER))
    unit = case.unit
    for candidate in (unit.pk, unit.parent_id) if unit else ():
        found = next((m for m in leaders if candidate and m.unit_id == candidate), None)
        if found:
            return found
    return members.with_role(Role.CX_COE).first()


def can_approve_thank_you(response: Response, membership: Membership) -> bool:
    """The project's manager approves a promoter's thank-you (it goes in their name); the CX CoE and
    admins may too, for a project whose manager has left."""
    return membership.can("feedback.manage") or (
        membership.can("feedback.send") and response.project_manager_id == membership.pk
    )


@transaction.atomic
def approve_thank_you(*, response: Response, actor_membership: Membership, request=None) -> Response:
    """Approve the promoter thank-you mail (see can_approve_thank_you); it goes out after commit, once."""
    from .tasks import send_thank_you

    if not can_approve_thank_you(response, actor_membership):
        raise PermissionDenied("Only the project's manager or the CX CoE approves this thank-you.")
    if response.nps_score is None or response.nps_score < 9:
        raise ValidationError("Thank-you mails are for promoters (a score of 9 or 10).")
    contact = response.contact
    if not contact.mailable:
        why = "has opted out of our mail" if contact.opted_out_at else "cannot be mailed (their address bounced)"
        raise ValidationError(f"{contact.name} {why}, so no thank-you can be sent.")
    if not Response.objects.filter(pk=response.pk, thank_you_approved_by__isnull=True).update(
        thank_you_approved_by=actor_membership
    ):
        raise ValidationError("A thank-you was already approved for this response.")
    record(
        organization=response.organization,
        actor=actor_membership.user,
        verb="response.thank_you_approved",
        target=response,
        request=request,
    )
    enqueue(send_thank_you, response.organization_id, response.pk)
    return response


def mail_thank_you(response: Response) -> bool:
    """Once per approved response, and only while the contact still takes our mail (they may have opted
    out after the approval). The claim commits only with the mail, so a failed send is retried."""
    approver = response.thank_you_approved_by
    contact = response.contact
    if not contact.mailable:
        return False
    with transaction.atomic():
        if not Response.objects.filter(pk=response.pk, thank_you_sent_at__isnull=True).update(
            thank_you_sent_at=timezone.now()
        ):
            return False
        send_templated_mail(
            to=[contact.email],
            template="feedback/email/thank_you",
            context={
                "organization": response.organization,
                "contact": contact,
                "project": response.project,
                "approver": approver,
            },
            from_email=formataddr(
                (
                    f"{response.organization.name} via {approver.user.display_name}",
                    parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
                )
            ),
            reply_to=[approver.user.email],
        )
    return True


# --- Bounces ---------------------------------------------------------------------------------------

SOFT_BOUNCE_LIMIT = 3


@transaction.atomic
def record_bounce(*, organization, email: str, kind: str, reason: str = "") -> Contact | None:
    """kind: "hard", "soft" or "complaint". A hard bounce or a complaint stops mail at once; soft bounces
    after SOFT_BOUNCE_LIMIT. Returns the contact, or None when the address is unknown."""
    contact = Contact.objects.for_org(organization).filter(email=email.strip().lower()).first()
    if contact is None:
        return None
    now = timezone.now()
    if kind == "complaint":
        opt_out_contact(contact=contact, reason="Marked our mail as spam")
    elif kind == "hard":
        Contact.objects.filter(pk=contact.pk, bounced_at__isnull=True).update(
            bounced_at=now, bounce_reason=reason[:300]
        )
    else:
        Contact.objects.filter(pk=contact.pk).update(soft_bounce_count=F("soft_bounce_count") + 1)
        Contact.objects.filter(pk=contact.pk, bounced_at__isnull=True, soft_bounce_count__gte=SOFT_BOUNCE_LIMIT).update(
            bounced_at=now, bounce_reason=(reason or "Repeated soft bounces")[:300]
        )
    contact.refresh_from_db()
    if contact.bounced_at:
        SurveyRequest.objects.filter(contact=contact).update(next_reminder_at=None)
        SurveyRequest.objects.filter(
            contact=contact,
            state__in=[SurveyRequest.State.SENT],
            responded_at__isnull=True,
            sent_at__gte=now - timedelta(days=7),
        ).update(state=SurveyRequest.State.BOUNCED)
    record(
        organization=organization,
        actor=None,
        verb=f"contact.bounce_{kind}",
        target=contact,
        payload={"reason": reason[:200]},
    )
    return contact
