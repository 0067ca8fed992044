"""Reads for feedback pages, the API and the metrics app. Aggregates run in SQL; every list is built
with a bounded number of queries."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from cxprogram.core import tokens
from cxprogram.tenancy.context import activate, system_scope
from cxprogram.tenancy.models import Organization

from .models import Batch, Client, Contact, FollowUpCase, Project, Response, SurveyRequest, SurveyTemplateVersion

OPEN_STATES = (SurveyRequest.State.SENT, SurveyRequest.State.SENDING)
ENDED_BATCH_STATES = (Batch.State.CLOSED, Batch.State.CANCELLED)


@dataclass(frozen=True)
class SurveyLink:
    """A survey link as the public pages see it, read in one statement by `survey_link`."""

    request_id: int
    organization_id: int
    organization_name: str
    organization_logo: str  # the logo's file name; "" without one
    project_name: str
    sender_name: str
    contact_id: int
    contact_language: str
    template_version_id: int
    closed: bool  # answers are refused: see `link_closed`
    answered: bool
    will_contact: bool  # its response opened a follow-up case or asked to be contacted
    saved_answers: dict  # the response's answers, else what autosave kept

    @property
    def logo_url(self) -> str:
        logo = self.organization_logo
        return Organization._meta.get_field("logo").storage.url(logo) if logo else ""


def link_closed(survey_request: SurveyRequest, now: datetime) -> bool:
    """A link refuses answers once revoked, expired or not (yet) sent, or when its batch is closed or
    cancelled. The same rule in SQL: migration 0009's CLOSED."""
    return bool(
        survey_request.revoked_at
        or survey_request.state not in OPEN_STATES
        or (survey_request.expires_at and survey_request.expires_at <= now)
        or survey_request.batch.state in ENDED_BATCH_STATES
    )


def survey_link(token: str) -> SurveyLink | None:
    """The link behind a survey token, whatever its state, or None for a link that never existed. Its
    organization becomes current for the transaction, so the statements after it pass row-level
    security. On PostgreSQL one statement (the function `feedback_survey_link`, migration 0009)."""
    if not tokens.looks_like_token(token):
        return None
    token_hash = tokens.hash_token(token)
    if not settings.IS_POSTGRES:
        return _survey_link_orm(token_hash)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM feedback_survey_link(%s)", [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    *columns, saved_answers = row
    return SurveyLink(*columns, saved_answers=json.loads(saved_answers))  # Django reads json columns as text


def _survey_link_orm(token_hash: str) -> SurveyLink | None:
    """The same look-up through the ORM, for SQLite (the embedded default, which has no row-level security)."""
    with system_scope():
        found = (
            SurveyRequest.objects.select_related(
                "organization", "contact", "project", "batch__sender__user", "response__case"
            )
            .filter(token_hash=token_hash)
            .first()
        )
    if found is None:
        return None
    activate(found.organization)
    response = getattr(found, "response", None)
    return SurveyLink(
        request_id=found.pk,
        organization_id=found.organization_id,
        organization_name=found.organization.name,
        organization_logo=found.organization.logo.name or "",
        project_name=found.project.name,
        sender_name=found.batch.sender.user.display_name,
        contact_id=found.contact_id,
        contact_language=found.contact.language,
        template_version_id=found.batch.template_version_id,
        closed=link_closed(found, timezone.now()),
        answered=response is not None,
        will_contact=response is not None and (response.follow_up_requested or hasattr(response, "case")),
        saved_answers=response.answers if response is not None else found.draft_answers,
    )


# Template versions never change (a new version is a new row): each is read once per process.
_VERSIONS: dict[int, SurveyTemplateVersion] = {}
_VERSIONS_KEPT = 512


def survey_version(link: SurveyLink) -> SurveyTemplateVersion:
    """The template version whose questions a link asks (its questions and languages only)."""
    version = _VERSIONS.get(link.template_version_id)
    if version is None:
        with system_scope():
            version = (
                SurveyTemplateVersion.objects.filter(organization_id=link.organization_id)
                .only("organization_id", "questions", "languages")
                .get(pk=link.template_version_id)
            )
        if len(_VERSIONS) >= _VERSIONS_KEPT:
            _VERSIONS.clear()
        _VERSIONS[version.pk] = version
    return version


def shown_version(posted_id: str) -> SurveyTemplateVersion | None:
    """The version a survey form names (its hidden `version` field), if this process has shown it;
    None otherwise. Whether the link asks that version is for the submit to check."""
    return _VERSIONS.get(int(posted_id)) if posted_id.isdigit() else None


def nps(scores: list[int]) -> int | None:
    """Net Promoter Score of a list of 0-10 scores: % promoters (9-10) minus % detractors (0-6)."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


def account_nps(client: Client, now: datetime | None = None) -> dict:
    """The simple NPS of each contact's latest scored response in the last 12 months."""
    now = now or timezone.now()
    since = now - timedelta(days=365)
    latest = {}
    rows = (
        Response.objects.for_org(client.organization)
        .filter(client=client, submitted_at__gte=since, submitted_at__lte=now, nps_score__isnull=False)
        .order_by("contact_id", "-submitted_at")
        .values_list("contact_id", "nps_score")
    )
    for contact_id, score in rows:
        latest.setdefault(contact_id, score)
    scores = list(latest.values())
    return {"score": nps(scores), "contacts": len(scores)}


def clients_list(organization, *, query="", status="", unit=None, sort="name"):
    clients = (
        Client.objects.for_org(organization)
        .select_related("unit__parent", "account_owner__user")  # a unit shows with its parent's name
        .annotate(
            contact_count=Count("contacts", distinct=True),
            project_count=Count("projects", distinct=True),
            last_response_at=Max("responses__submitted_at"),
        )
    )
    if query:
        clients = clients.filter(Q(name__icontains=query) | Q(industry__icontains=query) | Q(tags__icontains=query))
    if status:
        clients = clients.filter(status=status)
    if unit:
        clients = clients.filter(Q(unit=unit) | Q(unit__parent=unit))
    allowed = {"name", "industry", "status", "contact_count", "project_count", "last_response_at"}
    key = sort.lstrip("-")
    return clients.order_by(sort if key in allowed else "name", "pk")


def contacts_list(organization, *, query="", kind="", client=None, mailable="", sort="name"):
    contacts = Contact.objects.for_org(organization).select_related("client")
    if query:
        contacts = contacts.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(client__name__icontains=query)
        )
    if kind:
        contacts = contacts.filter(kind=kind)
    if client:
        contacts = contacts.filter(client=client)
    if mailable == "yes":
        contacts = contacts.filter(opted_out_at__isnull=True, bounced_at__isnull=True)
    elif mailable == "no":
        contacts = contacts.filter(Q(opted_out_at__isnull=False) | Q(bounced_at__isnull=False))
    allowed = {"name", "email", "client__name", "kind", "language"}
    return contacts.order_by(sort if sort.lstrip("-") in allowed else "name", "pk")


def projects_list(organization, *, query="", status="", phase="", project_manager=None, unit=None, sort="code"):
    projects = Project.objects.for_org(organization).select_related("client", "project_manager__user", "unit")
    if query:
        projects = projects.filter(
            Q(code__icontains=query) | Q(name__icontains=query) | Q(client__name__icontains=query)
        )
    if status:
        projects = projects.filter(status=status)
    if phase:
        projects = projects.filter(phase=phase)
    if project_manager:
        projects = projects.filter(project_manager=project_manager)
    if unit:
        projects = projects.filter(Q(unit=unit) | Q(unit__parent=unit))
    allowed = {"code", "name", "client__name", "phase", "status", "start_date", "end_date"}
    return projects.order_by(sort if sort.lstrip("-") in allowed else "code", "pk")


def _response_count():
    """A batch's responses, counted when read. Not a counter on the batch row: every submit of a batch
    would wait for the one before it to commit."""
    responses = Response.objects.filter(batch=OuterRef("pk")).order_by().values("batch").annotate(n=Count("pk"))
    return Coalesce(Subquery(responses.values("n")), 0)


def batches_list(organization, *, state="", sender=None):
    batches = (
        Batch.objects.for_org(organization)
        .select_related("sender__user", "template_version__template")
        .annotate(response_count=_response_count())
    )
    if state:
        batches = batches.filter(state=state)
    if sender:
        batches = batches.filter(sender=sender)
    return batches.order_by("-created_at", "-pk")


def batch_progress(batch: Batch) -> dict:
    counts = dict(
        SurveyRequest.objects.filter(batch=batch).values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    total = sum(counts.values())
    done = total - counts.get("queued", 0) - counts.get("sending", 0)
    return {
        "total": total,
        "done": done,
        "sent": counts.get("sent", 0) + counts.get("bounced", 0),
        "failed": counts.get("failed", 0),
        "percent": int(100 * done / total) if total else 100,
        "responses": Response.objects.filter(batch=batch).count(),
    }


def recipients(batch: Batch, contact_ids) -> dict[int, dict]:
    """How far each of these contacts of a sent batch got, keyed by contact: {"label", "tone", "response"}
    (the response's id once they answered). Two queries, whatever the number of contacts."""
    requests = SurveyRequest.objects.filter(batch=batch, contact_id__in=contact_ids).only(
        "contact_id", "state", "opened_at", "reminders_sent"
    )
    answered = dict(Response.objects.filter(batch=batch, contact_id__in=contact_ids).values_list("contact_id", "pk"))
    found = {}
    for request in requests:
        if request.contact_id in answered:
            label, tone = "Answered", "success"
        elif request.state in (SurveyRequest.State.BOUNCED, SurveyRequest.State.FAILED):
            label, tone = request.get_state_display(), "danger"
        elif request.state != SurveyRequest.State.SENT:
            label, tone = "Waiting to be sent", "muted"
        else:
            label, tone = ("Opened" if request.opened_at else "Sent"), "muted"
            if request.reminders_sent:
                label += f" · {request.reminders_sent} reminder{'s' if request.reminders_sent > 1 else ''}"
        found[request.contact_id] = {"label": label, "tone": tone, "response": answered.get(request.contact_id)}
    return found


def responses_list(
    organization,
    *,
    date_from=None,
    date_to=None,
    client=None,
    project=None,
    score_min=None,
    score_max=None,
    project_manager=None,
    query="",
    sort="-submitted_at",
):
    responses = Response.objects.for_org(organization).select_related(
        "contact", "client", "project", "project_manager__user"
    )
    if query:
        responses = responses.filter(
            Q(contact__name__icontains=query)
            | Q(contact__email__icontains=query)
            | Q(client__name__icontains=query)
            | Q(project__code__icontains=query)
            | Q(project__name__icontains=query)
        )
    if date_from:
        responses = responses.filter(submitted_at__date__gte=date_from)
    if date_to:
        responses = responses.filter(submitted_at__date__lte=date_to)
    if client:
        responses = responses.filter(client=client)
    if project:
        responses = responses.filter(project=project)
    if score_min is not None:
        responses = responses.filter(nps_score__gte=score_min)
    if score_max is not None:
        responses = responses.filter(nps_score__lte=score_max)
    if project_manager:
        responses = responses.filter(project_manager=project_manager)
    allowed = {"submitted_at", "nps_score", "client__name", "project__code"}
    return responses.order_by(sort if sort.lstrip("-") in allowed else "-submitted_at", "-pk")


def cases_list(organization, *, state="", owner=None, overdue=False, unit=None, root_cause="", sort="due_at"):
    cases = FollowUpCase.objects.for_org(organization).select_related(
        "client", "project", "owner__user", "response__contact"
    )
    if state == "active":
        cases = cases.exclude(state=FollowUpCase.State.RESOLVED)
    elif state:
        cases = cases.filter(state=state)
    if owner:
        cases = cases.filter(owner=owner)
    if overdue:
        cases = cases.exclude(state=FollowUpCase.State.RESOLVED).filter(due_at__lt=timezone.now())
    if unit:
        cases = cases.filter(Q(unit=unit) | Q(unit__parent=unit))
    if root_cause:
        cases = cases.filter(root_cause=root_cause)
    allowed = {"due_at", "created_at", "state", "client__name"}
    return cases.order_by(sort if sort.lstrip("-") in allowed else "due_at", "pk")


def cases_closed_within_sla(organization, since: datetime, until: datetime) -> dict:
    """Of the cases opened in [since, until), how many were resolved by their due time.
    {"total", "within", "share"} — share is a fraction 0..1, or None when no case was opened."""
    figures = (
        FollowUpCase.objects.for_org(organization)
        .filter(created_at__gte=since, created_at__lt=until)
        .aggregate(
            total=Count("pk"),
            within=Count(
                "pk", filter=Q(state=FollowUpCase.State.RESOLVED, closed_at__isnull=False, closed_at__lte=F("due_at"))
            ),
        )
    )
    total, within = figures["total"], figures["within"]
    return {"total": total, "within": within, "share": (within / total) if total else None}


def pm_home(organization, membership) -> dict:
    """What a project manager sees first: their open cases, their batches in flight, recent responses."""
    cases = list(cases_list(organization, state="active", owner=membership).select_related("response__contact")[:10])
    batches = list(
        batches_list(organization, sender=membership).filter(
            state__in=[Batch.State.DRAFT, Batch.State.SCHEDULED, Batch.State.SENDING]
        )[:10]
    )
    responses = list(responses_list(organization, project_manager=membership)[:10])
    return {"cases": cases, "batches": batches, "responses": responses}


def client_history(client: Client, limit: int = 20):
    return (
        Response.objects.for_org(client.organization)
        .filter(client=client)
        .select_related("contact", "project")
        .order_by("-submitted_at")[:limit]
    )
