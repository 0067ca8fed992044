"""Every change to initiatives, scores, ranking rounds, the change board and action items.

Each function runs in one transaction, checks its rules (raising ValidationError with a message a
person can act on, and changing nothing), records itself in the audit log and, for initiatives, on
their timeline; mail goes out after commit through tasks."""

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone

from cxprogram.audit.services import record
from cxprogram.core import dates
from cxprogram.core.mail import MAIL_ERRORS, absolute_url, send_templated_mail
from cxprogram.core.tasks import enqueue
from cxprogram.tenancy.models import Membership, Organization

from . import ranking, scoring
from .models import (
    BOARD_STATUSES,
    CLOSED_STATUSES,
    DELIVERY_STATUSES,
    MAX_MONEY,
    MAX_PERSON_DAYS,
    ActionItem,
    AgendaItem,
    Attendance,
    Ballot,
    BoardMember,
    ChecklistItem,
    CodeCounter,
    Criterion,
    CriterionScore,
    Decision,
    Dependency,
    DigestLog,
    Domain,
    Health,
    HealthUpdate,
    Horizon,
    Initiative,
    Meeting,
    Program,
    RankingItem,
    RankingRound,
    Score,
    ScoringMethod,
    Source,
    Stakeholder,
    Status,
    TeamMember,
    TimelineEvent,
)
from .schedule import monday_of, next_meeting_at
from .selectors import committed, digest_for, with_score

logger = logging.getLogger(__name__)

RICE_IMPACTS = (Decimal("0.25"), Decimal("0.5"), Decimal("1"), Decimal("2"), Decimal("3"))
MAX_REACH = 10_000_000
DIGEST_HOUR = 8  # Monday, local time
MAX_PLAN_YEARS = 10


# --- Shared helpers --------------------------------------------------------------------------


def program_for(organization: Organization) -> Program:
    program, _ = Program.objects.get_or_create(organization=organization)
    return program


def _require(actor: Membership | None, permission: str) -> None:
    if actor is not None and not actor.can(permission):
        raise PermissionDenied


def _audit(organization, actor: Membership | None, verb: str, target, payload=None, request=None) -> None:
    record(
        organization=organization,
        actor=actor.user if actor else None,
        verb=verb,
        target=target,
        payload=payload or {},
        request=request,
    )


def _timeline(initiative: Initiative, kind: str, text: str, actor: Membership | None) -> None:
    TimelineEvent.objects.create(
        organization_id=initiative.organization_id, initiative=initiative, kind=kind, text=text[:500], actor=actor
    )


def _member_of(organization, membership: Membership | None, field: str, required: bool = True) -> None:
    if membership is None:
        if required:
            raise ValidationError({field: "Choose a person."})
        return
    if membership.organization_id != organization.pk or not membership.is_active:
        raise ValidationError({field: "Choose an active member of this organization."})


def _decimal(value, field: str, *, maximum: Decimal, positive: bool = False, label: str = "") -> Decimal:
    """Parse and bound an estimate: negative, zero (when it must be positive) or absurd values are refused."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: "Enter a number."}) from None
    if not number.is_finite():
        raise ValidationError({field: "Enter a number."})
    label = label or field.replace("_", " ").capitalize()
    if number < 0 or (positive and number == 0):
        raise ValidationError({field: f"{label} must be {'more than zero' if positive else 'zero or more'}."})
    if number > maximum:
        raise ValidationError({field: f"{label} of {number:,} is not plausible: the most is {maximum:,}."})
    return number


def _int_between(value, field: str, low: int, high: int, label: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: "Enter a whole number."}) from None
    if not low <= number <= high:
        raise ValidationError({field: f"{label} goes from {low} to {high}."})
    return number


def _lock(initiative: Initiative) -> Initiative:
    return Initiative.objects.select_for_update().get(pk=initiative.pk)


def can_steer(actor: Membership, initiative: Initiative) -> bool:
    """The owner and the CX Center of Excellence run an initiative's delivery."""
    return actor.can("initiatives.manage") or (actor.pk is not None and initiative.owner_id == actor.pk)


def _require_steer(actor: Membership | None, initiative: Initiative) -> None:
    if actor is not None and not can_steer(actor, initiative):
        raise PermissionDenied


# --- Initiatives -----------------------------------------------------------------------------


def _next_number(organization) -> int:
    counter, _ = CodeCounter.objects.get_or_create(organization=organization)
    counter = CodeCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


@transaction.atomic
def submit_idea(
    *,
    organization,
    actor: Membership,
    title: str,
    description: str = "",
    domain: Domain | None = None,
    source: str = Source.STAFF_IDEA,
    source_reference: str = "",
    response=None,
    case=None,
    request=None,
    now: datetime | None = None,
) -> Initiative:
    """Anyone may put an idea in the backlog; it starts as submitted, for the CoE to qualify. An idea
    raised from a feedback response or case links back to it."""
    _require(actor, "initiatives.submit")
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Say in a few words what should change."})
    if source not in Source.values:
        raise ValidationError({"source": "Choose where the idea comes from."})
    if domain is not None and domain.organization_id != organization.pk:
        raise ValidationError({"domain": "Choose one of this organization's domains."})
    for field, row in (("response", response), ("case", case)):
        if row is not None and row.organization_id != organization.pk:
            raise ValidationError({field: "Choose feedback of this organization."})
    if case is not None and response is None:
        response = case.response
    now = now or timezone.now()
    initiative = Initiative.objects.create(
        organization=organization,
        number=_next_number(organization),
        title=title[:200],
        description=(description or "").strip(),
        domain=domain,
        source=source,
        source_reference=(source_reference or "").strip()[:255],
        response=response,
        case=case,
        submitted_by=actor,
        unit=actor.unit if actor else None,
        created_at=now,
        status_changed_at=now,
    )
    _timeline(initiative, TimelineEvent.Kind.STATUS, "Submitted as an idea.", actor)
    _audit(organization, actor, "initiative.submitted", initiative, {"source": source}, request)
    return initiative


EDITABLE_FIELDS = (
    "title",
    "description",
    "domain",
    "source",
    "source_reference",
    "target_metrics",
    "owner",
    "unit",
    "horizon",
    "target_start",
    "target_end",
)


@transaction.atomic
def update_initiative(*, initiative: Initiative, actor: Membership, request=None, **changes) -> Initiative:
    _require_steer(actor, initiative)
    initiative = _lock(initiative)
    if initiative.is_closed:
        raise ValidationError(
            f"{initiative.code} is {initiative.get_status_display().lower()}: it can no longer change."
        )
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    organization = initiative.organization
    if "title" in changes and not (changes["title"] or "").strip():
        raise ValidationError({"title": "An initiative needs a title."})
    if changes.get("domain") is not None and changes["domain"].organization_id != organization.pk:
        raise ValidationError({"domain": "Choose one of this organization's domains."})
    if changes.get("unit") is not None and changes["unit"].organization_id != organization.pk:
        raise ValidationError({"unit": "Choose one of this organization's units."})
    if "owner" in changes:
        _member_of(organization, changes["owner"], "owner", required=False)
    if changes.get("horizon") and changes["horizon"] not in Horizon.values:
        raise ValidationError({"horizon": "Choose short, mid or long term."})
    if "target_metrics" in changes:
        changes["target_metrics"] = [m.strip()[:120] for m in changes["target_metrics"] or [] if m and m.strip()][:10]
    start = changes.get("target_start", initiative.target_start)
    end = changes.get("target_end", initiative.target_end)
    _check_dates(start, end)
    changed = {}
    for field, value in changes.items():
        if getattr(initiative, field) != value:
            setattr(initiative, field, value)
            changed[field] = str(value) if value is not None else None
    if changed:
        initiative.save()
        _audit(organization, actor, "initiative.updated", initiative, changed, request)
        if {"owner", "target_start", "target_end", "horizon"} & set(changed):
            _timeline(initiative, TimelineEvent.Kind.PLAN, _plan_text(initiative), actor)
    return initiative


def _check_dates(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise ValidationError({"target_end": "The target end comes before the target start."})
    for field, day in (("target_start", start), ("target_end", end)):
        if day and not (date(2000, 1, 1) <= day <= timezone.localdate() + timedelta(days=365 * MAX_PLAN_YEARS)):
            raise ValidationError({field: f"Choose a date within the next {MAX_PLAN_YEARS} years."})


def _plan_text(initiative: Initiative) -> str:
    owner = initiative.owner.user.display_name if initiative.owner else "nobody yet"
    horizon = initiative.get_horizon_display() or "no horizon"
    window = f"{initiative.target_start or '?'} → {initiative.target_end or '?'}"
    return f"Plan: {horizon}, owner {owner}, {window}."


# --- The status flow -------------------------------------------------------------------------

OPEN_STATUSES = frozenset(Status.values) - CLOSED_STATUSES

# name: (statuses it may start from, status it leads to, verb for messages)
TRANSITIONS = {
    "qualify": (frozenset({Status.SUBMITTED}), Status.QUALIFIED, "qualified"),
    "decline": (frozenset({Status.SUBMITTED}), Status.DECLINED, "declined"),
    "merge": (frozenset({Status.SUBMITTED}), Status.MERGED, "merged"),
    "rank": (frozenset({Status.QUALIFIED, Status.RANKED}), Status.RANKED, "ranked"),
    "approve": (BOARD_STATUSES, Status.APPROVED, "approved"),
    "defer": (BOARD_STATUSES, Status.DEFERRED, "deferred"),
    "reject": (BOARD_STATUSES, Status.REJECTED, "rejected"),
    "schedule": (frozenset({Status.APPROVED}), Status.SCHEDULED, "scheduled"),
    "start": (frozenset({Status.SCHEDULED}), Status.IN_PROGRESS, "started"),
    "complete": (frozenset({Status.IN_PROGRESS}), Status.DONE, "marked done"),
    "cancel": (OPEN_STATUSES, Status.CANCELLED, "cancelled"),
}
BOARD_TRANSITIONS = frozenset({"approve", "defer", "reject"})


def allowed_transitions(initiative: Initiative) -> list[str]:
    return [name for name, (sources, _, _) in TRANSITIONS.items() if initiative.status in sources]


def _move(initiative: Initiative, name: str, actor: Membership | None, text: str, payload=None, request=None):
    sources, target, verb = TRANSITIONS[name]
    if initiative.status not in sources:
        allowed = ", ".join(Status(s).label.lower() for s in Status.values if s in sources)
        raise ValidationError(
            f"{initiative.code} is {initiative.get_status_display().lower()}, so it cannot be {verb}: "
            f"only an initiative that is {allowed} can."
        )
    previous = initiative.status
    initiative.status = target
    initiative.status_changed_at = timezone.now()
    initiative.save()
    _timeline(initiative, TimelineEvent.Kind.STATUS, text, actor)
    _audit(
        initiative.organization,
        actor,
        f"initiative.{name}",
        initiative,
        {"from": previous, "to": target, **(payload or {})},
        request,
    )
    return initiative


def _reason(reason: str, field: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: f"Give a reason: {what}"})
    return reason[:2000]


@transaction.atomic
def qualify(*, initiative: Initiative, actor: Membership, horizon: str = "", domain=None, request=None) -> Initiative:
    """The CoE accepts an idea as real CX work: it needs a description and a horizon."""
    _require(actor, "initiatives.manage")
    initiative = _lock(initiative)
    horizon = horizon or initiative.horizon
    if initiative.status == Status.SUBMITTED:
        if not initiative.description.strip():
            raise ValidationError(
                {"description": "Describe the problem and the change before qualifying: the board will read it."}
            )
        if horizon not in Horizon.values:
            raise ValidationError({"horizon": "Choose a horizon (short, mid or long term) to qualify it."})
        if domain is not None:
            if domain.organization_id != initiative.organization_id:
                raise ValidationError({"domain": "Choose one of this organization's domains."})
            initiative.domain = domain
        initiative.horizon = horizon
    return _move(initiative, "qualify", actor, "Qualified by the CX Center of Excellence.", request=request)


@transaction.atomic
def decline(*, initiative: Initiative, actor: Membership, reason: str, request=None) -> Initiative:
    _require(actor, "initiatives.manage")
    initiative = _lock(initiative)
    if initiative.status == Status.SUBMITTED:
        initiative.status_note = _reason(reason, "reason", "the person who submitted it will read it.")
    return _move(initiative, "decline", actor, f"Declined: {initiative.status_note}", request=request)


@transaction.atomic
def merge(*, initiative: Initiative, actor: Membership, into: Initiative, request=None) -> Initiative:
    """A duplicate joins the initiative it repeats; the original keeps a note of it."""
    _require(actor, "initiatives.manage")
    initiative = _lock(initiative)
    if into is None or into.organization_id != initiative.organization_id:
        raise ValidationError({"into": "Choose the initiative it duplicates."})
    if into.pk == initiative.pk:
        raise ValidationError({"into": "An initiative cannot be merged into itself."})
    if into.status in CLOSED_STATUSES:
        raise ValidationError({"into": f"{into.code} is {into.get_status_display().lower()}: merge into an open one."})
    if initiative.status == Status.SUBMITTED:
        initiative.merged_into = into
    _move(initiative, "merge", actor, f"Merged into {into.code} as a duplicate.", {"into": into.code}, request)
    _timeline(into, TimelineEvent.Kind.NOTE, f"{initiative.code} “{initiative.title}” was merged into this.", actor)
    return initiative


@transaction.atomic
def rank(
    *, initiative: Initiative, actor: Membership | None, priority: int, request=None, note: str = ""
) -> Initiative:
    """Give a qualified initiative its priority (1 = first). It must be scored first."""
    _require(actor, "initiatives.manage")
    initiative = _lock(initiative)
    priority = _int_between(priority, "priority", 1, 100000, "Priority")
    if initiative.status in TRANSITIONS["rank"][0] and not Score.objects.filter(initiative=initiative).exists():
        raise ValidationError("Score it before ranking it: the board compares cost and benefit.")
    initiative.priority = priority
    return _move(
        initiative, "rank", actor, note or f"Ranked with priority {priority}.", {"priority": priority}, request
    )


@transaction.atomic
def schedule(
    *, initiative: Initiative, actor: Membership, target_start: date, target_end: date, request=None
) -> Initiative:
    """An approved initiative gets its delivery window (it must end by the board's deadline)."""
    _require_steer(actor, initiative)
    initiative = _lock(initiative)
    if initiative.status == Status.APPROVED:
        if not target_start or not target_end:
            raise ValidationError({"target_start": "Give the target start and end."})
        _check_dates(target_start, target_end)
        if initiative.owner_id is None:
            raise ValidationError({"owner": "Name an owner before scheduling."})
        deadline = _approved_deadline(initiative)
        if deadline and target_end > deadline:
            raise ValidationError({"target_end": f"The change board set the deadline to {deadline:%-d %b %Y}."})
        initiative.target_start, initiative.target_end = target_start, target_end
    text = f"Scheduled from {dates.day(target_start)} to {dates.day(target_end)}."
    return _move(initiative, "schedule", actor, text, request=request)


def _approved_deadline(initiative: Initiative) -> date | None:
    decision = (
        Decision.objects.filter(initiative=initiative, outcome=Decision.Outcome.APPROVE).order_by("-decided_at").first()
    )
    return decision.deadline if decision else None


@transaction.atomic
def start(*, initiative: Initiative, actor: Membership, request=None) -> Initiative:
    """Work starts once nothing it depends on is still waiting."""
    _require_steer(actor, initiative)
    initiative = _lock(initiative)
    if initiative.status == Status.SCHEDULED:
        waiting = [
            d.blocker.code
            for d in Dependency.objects.filter(initiative=initiative).select_related("blocker")
            if d.blocker.status not in (Status.DONE, Status.CANCELLED, Status.IN_PROGRESS)
        ]
        if waiting:
            raise ValidationError(
                f"{initiative.code} depends on {', '.join(sorted(waiting))}, which has not started yet. "
                "Start that first or remove the dependency."
            )
    return _move(initiative, "start", actor, "Work started.", request=request)


@transaction.atomic
def complete(*, initiative: Initiative, actor: Membership, request=None) -> Initiative:
    """Done means every item of the definition of done is ticked."""
    _require_steer(actor, initiative)
    initiative = _lock(initiative)
    if initiative.status == Status.IN_PROGRESS:
        items = list(ChecklistItem.objects.filter(initiative=initiative))
        if not items:
            raise ValidationError("Write the definition of done first: add the checklist items that prove it is done.")
        open_items = [i.text for i in items if not i.is_done]
        if open_items:
            raise ValidationError(
                f"{len(open_items)} item(s) of the definition of done are not ticked yet: " + "; ".join(open_items[:5])
            )
    return _move(
        initiative, "complete", actor, "Marked done: every item of the definition of done is ticked.", request=request
    )


@transaction.atomic
def cancel(*, initiative: Initiative, actor: Membership, reason: str, request=None) -> Initiative:
    _require(actor, "initiatives.manage")
    initiative = _lock(initiative)
    if initiative.status in OPEN_STATUSES:
        initiative.status_note = _reason(reason, "reason", "the owner and the team will read it.")
    return _move(initiative, "cancel", actor, f"Cancelled: {initiative.status_note}", request=request)


# Kanban: dropping a card on a column runs the transition that leads there, with the initiative's data.
def move_to(*, initiative: Initiative, actor: Membership, status: str, request=None) -> Initiative:
    if status == initiative.status:
        return initiative
    if status == Status.QUALIFIED:
        return qualify(initiative=initiative, actor=actor, request=request)
    if status == Status.RANKED:
        priority = initiative.priority or next_free_priority(initiative.organization)
        return rank(initiative=initiative, actor=actor, priority=priority, request=request)
    if status == Status.SCHEDULED:
        return schedule(
            initiative=initiative,
            actor=actor,
            target_start=initiative.target_start,
            target_end=initiative.target_end,
            request=request,
        )
    if status == Status.IN_PROGRESS:
        return start(initiative=initiative, actor=actor, request=request)
    if status == Status.DONE:
        return complete(initiative=initiative, actor=actor, request=request)
    if status in (Status.APPROVED, Status.DEFERRED, Status.REJECTED):
        raise ValidationError("The change board decides this: put it on the next meeting's agenda.")
    raise ValidationError("Use the initiative's page for this: it needs a reason or a choice.")


def next_free_priority(organization) -> int:
    last = (
        Initiative.objects.for_org(organization)
        .filter(priority__isnull=False)
        .exclude(status__in=CLOSED_STATUSES)
        .order_by("-priority")
        .values_list("priority", flat=True)
        .first()
    )
    return (last or 0) + 1


# --- Dependencies, team, definition of done --------------------------------------------------


def _dependency_path(organization, start_id: int, goal_id: int) -> list[int] | None:
    """A chain of "blocked by" links from start to goal, if there is one (one query, then in memory)."""
    edges = defaultdict(list)
    for initiative_id, blocker_id in Dependency.objects.for_org(organization).values_list(
        "initiative_id", "blocker_id"
    ):
        edges[initiative_id].append(blocker_id)
    parents, frontier = {start_id: None}, [start_id]
    while frontier:
        node = frontier.pop()
        if node == goal_id:
            path = []
            while node is not None:
                path.append(node)
                node = parents[node]
            return path[::-1]
        for nxt in edges[node]:
            if nxt not in parents:
                parents[nxt] = node
                frontier.append(nxt)
    return None


@transaction.atomic
def add_dependency(*, initiative: Initiative, blocker: Initiative, actor: Membership, request=None) -> Dependency:
    """`initiative` waits for `blocker`. A dependency that would close a loop is refused, showing the loop."""
    _require_steer(actor, initiative)
    organization = initiative.organization
    if blocker is None or blocker.organization_id != organization.pk:
        raise ValidationError({"blocker": "Choose an initiative of this organization."})
    if blocker.pk == initiative.pk:
        raise ValidationError({"blocker": "An initiative cannot depend on itself."})
    # Serialize dependency changes per organization so two concurrent additions cannot form a loop.
    CodeCounter.objects.select_for_update().filter(organization=organization).first()
    if Dependency.objects.filter(initiative=initiative, blocker=blocker).exists():
        raise ValidationError({"blocker": f"{initiative.code} already depends on {blocker.code}."})
    path = _dependency_path(organization, blocker.pk, initiative.pk)
    if path:
        codes = dict(Initiative.objects.for_org(organization).filter(pk__in=path).values_list("pk", "number"))
        chain = " → ".join(f"CX-{codes[pk]:03d}" for pk in path)
        raise ValidationError(
            {
                "blocker": f"That would make a cycle: {blocker.code} already waits for {initiative.code} "
                f"({chain}). Remove a link of that chain first."
            }
        )
    dependency = Dependency.objects.create(organization=organization, initiative=initiative, blocker=blocker)
    _timeline(initiative, TimelineEvent.Kind.PLAN, f"Now depends on {blocker.code} “{blocker.title}”.", actor)
    _audit(organization, actor, "initiative.dependency_added", initiative, {"blocker": blocker.code}, request)
    return dependency


@transaction.atomic
def remove_dependency(*, dependency: Dependency, actor: Membership, request=None) -> None:
    initiative = dependency.initiative
    _require_steer(actor, initiative)
    code = dependency.blocker.code
    dependency.delete()
    _timeline(initiative, TimelineEvent.Kind.PLAN, f"No longer depends on {code}.", actor)
    _audit(initiative.organization, actor, "initiative.dependency_removed", initiative, {"blocker": code}, request)


@transaction.atomic
def add_team_member(*, initiative: Initiative, membership: Membership, actor: Membership, role: str = "", request=None):
    _require_steer(actor, initiative)
    _member_of(initiative.organization, membership, "membership")
    member, created = TeamMember.objects.get_or_create(
        organization=initiative.organization,
        initiative=initiative,
        membership=membership,
        defaults={"role": (role or "").strip()[:80]},
    )
    if not created:
        raise ValidationError({"membership": f"{membership.user.display_name} is already on the team."})
    _audit(initiative.organization, actor, "initiative.team_added", initiative, {"member": membership.pk}, request)
    return member


@transaction.atomic
def remove_team_member(*, member: TeamMember, actor: Membership, request=None) -> None:
    _require_steer(actor, member.initiative)
    _audit(member.organization, actor, "initiative.team_removed", member.initiative, {"member": member.membership_id})
    member.delete()


@transaction.atomic
def add_checklist_item(*, initiative: Initiative, text: str, actor: Membership, request=None) -> ChecklistItem:
    _require_steer(actor, initiative)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write what must be true for it to be done."})
    if initiative.is_closed:
        raise ValidationError(f"{initiative.code} is {initiative.get_status_display().lower()}.")
    position = ChecklistItem.objects.filter(initiative=initiative).count()
    item = ChecklistItem.objects.create(
        organization=initiative.organization, initiative=initiative, text=text[:200], position=position
    )
    _audit(initiative.organization, actor, "initiative.checklist_added", initiative, {"text": item.text}, request)
    return item


@transaction.atomic
def tick_checklist_item(*, item: ChecklistItem, done: bool, actor: Membership, request=None) -> ChecklistItem:
    _require_steer(actor, item.initiative)
    if item.initiative.status == Status.DONE:
        raise ValidationError("The initiative is done: its definition of done can no longer change.")
    item.done_at = timezone.now() if done else None
    item.done_by = actor if done else None
    item.save(update_fields=["done_at", "done_by"])
    verb = "initiative.checklist_ticked" if done else "initiative.checklist_unticked"
    _audit(item.organization, actor, verb, item.initiative, {"text": item.text}, request)
    return item


# --- Scores ----------------------------------------------------------------------------------


def compute_score(method: str, score: Score, criterion_values: list[tuple[str, Decimal, int]]) -> scoring.Result:
    if method == ScoringMethod.RICE:
        return scoring.rice(score.reach, score.impact, score.confidence, score.effort_days)
    if method == ScoringMethod.WEIGHTED:
        return scoring.weighted(criterion_values)
    return scoring.value_effort(score.customer_benefit, score.business_value, score.confidence, score.effort_days)


@transaction.atomic
def save_score(
    *,
    initiative: Initiative,
    actor: Membership,
    customer_benefit,
    business_value,
    cost,
    effort_days,
    confidence=80,
    reach=0,
    impact=1,
    criteria: dict | None = None,
    request=None,
) -> Score:
    """Score (or re-score) a qualified initiative with the organization's method."""
    _require(actor, "initiatives.manage")
    initiative = _lock(initiative)
    if initiative.status == Status.SUBMITTED:
        raise ValidationError("Qualify the idea before scoring it.")
    if initiative.is_closed:
        raise ValidationError(f"{initiative.code} is {initiative.get_status_display().lower()}: no need to score it.")
    organization = initiative.organization
    program = program_for(organization)
    values = {
        "customer_benefit": _int_between(customer_benefit, "customer_benefit", 0, 10, "Customer benefit"),
        "business_value": _int_between(business_value, "business_value", 0, 10, "Business value"),
        "cost": _decimal(cost, "cost", maximum=MAX_MONEY, label="Cost"),
        "effort_days": _decimal(effort_days, "effort_days", maximum=MAX_PERSON_DAYS, positive=True, label="Effort"),
        "confidence": _int_between(confidence, "confidence", 1, 100, "Confidence (%)"),
        "reach": _int_between(reach, "reach", 0, MAX_REACH, "Reach"),
        "impact": _decimal(impact, "impact", maximum=Decimal(3), label="Impact"),
    }
    if values["impact"] not in RICE_IMPACTS:
        raise ValidationError({"impact": "Impact is one of 0.25 (minimal), 0.5, 1, 2 or 3 (massive)."})
    all_criteria = list(Criterion.objects.for_org(organization))
    criteria = criteria or {}
    criterion_values = []
    for criterion in all_criteria:
        raw = criteria.get(criterion.pk, criteria.get(str(criterion.pk)))
        if raw in (None, ""):
            if program.scoring_method == ScoringMethod.WEIGHTED:
                raise ValidationError({f"criterion_{criterion.pk}": f"Score “{criterion.name}” from 0 to 10."})
            continue
        value = _int_between(raw, f"criterion_{criterion.pk}", 0, 10, criterion.name)
        criterion_values.append((criterion, value))
    score = Score.objects.filter(initiative=initiative).first() or Score(
        organization=organization, initiative=initiative
    )
    for field, value in values.items():
        setattr(score, field, value)
    try:
        result = compute_score(program.scoring_method, score, [(c.name, c.weight, v) for c, v in criterion_values])
    except ValueError as error:
        raise ValidationError(str(error)) from None
    score.method, score.value, score.formula = program.scoring_method, result.value, result.formula
    score.scored_by, score.scored_at = actor, timezone.now()
    score.save()
    CriterionScore.objects.filter(score=score).delete()
    CriterionScore.objects.bulk_create(
        CriterionScore(organization=organization, score=score, criterion=c, value=v) for c, v in criterion_values
    )
    _timeline(initiative, TimelineEvent.Kind.SCORE, f"Scored: {result.formula}.", actor)
    _audit(organization, actor, "initiative.scored", initiative, {"value": str(result.value)}, request)
    return score


def _rescore(organization, method: str) -> int:
    """Recompute every score with `method`; criteria not scored yet count as zero under weighted scoring."""
    criteria = list(Criterion.objects.for_org(organization))
    scores = list(Score.objects.for_org(organization).prefetch_related("criterion_scores"))
    for score in scores:
        given = {cs.criterion_id: cs.value for cs in score.criterion_scores.all()}
        try:
            result = compute_score(method, score, [(c.name, c.weight, given.get(c.pk, 0)) for c in criteria])
        except ValueError as error:
            raise ValidationError({"scoring_method": str(error)}) from None
        score.method, score.value, score.formula = method, result.value, result.formula
    Score.objects.bulk_update(scores, ["method", "value", "formula"])
    return len(scores)


@transaction.atomic
def set_scoring_method(*, organization, actor: Membership, method: str, request=None) -> Program:
    _require(actor, "initiatives.manage")
    if method not in ScoringMethod.values:
        raise ValidationError({"scoring_method": "Choose a scoring method."})
    program = Program.objects.select_for_update().get(pk=program_for(organization).pk)
    previous = program.scoring_method
    program.scoring_method = method
    program.save(update_fields=["scoring_method"])
    rescored = _rescore(organization, method)
    _audit(
        organization,
        actor,
        "initiatives.scoring_method_changed",
        program,
        {"from": previous, "to": method, "rescored": rescored},
        request,
    )
    return program


@transaction.atomic
def save_criterion(
    *, organization, actor: Membership, name: str, weight, criterion: Criterion | None = None, request=None
):
    _require(actor, "initiatives.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the criterion."})
    weight = _decimal(weight, "weight", maximum=Decimal(100), positive=True, label="Weight")
    taken = Criterion.objects.for_org(organization).filter(name__iexact=name)
    if criterion is not None:
        taken = taken.exclude(pk=criterion.pk)
    if taken.exists():
        raise ValidationError({"name": "There is already a criterion with this name."})
    criterion = criterion or Criterion(organization=organization)
    criterion.name, criterion.weight = name[:80], weight
    criterion.save()
    if program_for(organization).scoring_method == ScoringMethod.WEIGHTED:
        _rescore(organization, ScoringMethod.WEIGHTED)
    _audit(
        organization, actor, "initiatives.criterion_saved", criterion, {"name": name, "weight": str(weight)}, request
    )
    return criterion


@transaction.atomic
def delete_criterion(*, criterion: Criterion, actor: Membership, request=None) -> None:
    _require(actor, "initiatives.manage")
    organization = criterion.organization
    if (
        program_for(organization).scoring_method == ScoringMethod.WEIGHTED
        and Criterion.objects.for_org(organization).count() == 1
    ):
        raise ValidationError("Weighted scoring needs at least one criterion: switch method first or add another.")
    _audit(organization, actor, "initiatives.criterion_deleted", criterion, {"name": criterion.name}, request)
    criterion.delete()
    if program_for(organization).scoring_method == ScoringMethod.WEIGHTED:
        _rescore(organization, ScoringMethod.WEIGHTED)


@transaction.atomic
def save_domain(*, organization, actor: Membership, name: str, domain: Domain | None = None, request=None) -> Domain:
    _require(actor, "initiatives.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the domain."})
    taken = Domain.objects.for_org(organization).filter(name__iexact=name)
    if domain is not None:
        taken = taken.exclude(pk=domain.pk)
    if taken.exists():
        raise ValidationError({"name": "There is already a domain with this name."})
    domain = domain or Domain(organization=organization)
    domain.name = name[:80]
    domain.save()
    _audit(organization, actor, "initiatives.domain_saved", domain, {"name": domain.name}, request)
    return domain


# --- Stakeholder ranking rounds --------------------------------------------------------------


@transaction.atomic
def open_round(
    *,
    organization,
    actor: Membership,
    title: str,
    initiatives: list[Initiative],
    stakeholders: list[Membership],
    closes_at: datetime,
    now: datetime | None = None,
    request=None,
) -> RankingRound:
    """The CoE asks named stakeholders to order a set of initiatives; they are mailed at once."""
    _require(actor, "initiatives.manage")
    now = now or timezone.now()
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Name the round, e.g. “Q3 priorities”."})
    initiatives = list({i.pk: i for i in initiatives}.values())
    if len(initiatives) < 2:
        raise ValidationError({"initiatives": "Choose at least two initiatives to rank."})
    for initiative in initiatives:
        if initiative.organization_id != organization.pk:
            raise ValidationError({"initiatives": "Choose initiatives of this organization."})
        if initiative.status not in BOARD_STATUSES:
            raise ValidationError(
                {
                    "initiatives": f"{initiative.code} is {initiative.get_status_display().lower()}: "
                    "only qualified, ranked or deferred initiatives are ranked."
                }
            )
    stakeholders = list({m.pk: m for m in stakeholders}.values())
    if not stakeholders:
        raise ValidationError({"stakeholders": "Name at least one stakeholder."})
    for membership in stakeholders:
        _member_of(organization, membership, "stakeholders")
    if closes_at <= now + timedelta(hours=1):
        raise ValidationError({"closes_at": "Leave stakeholders at least an hour to vote."})
    if closes_at > now + timedelta(days=90):
        raise ValidationError({"closes_at": "Close the round within 90 days."})
    # Remind a day before the close, or half-way through a short round.
    remind_at = max(closes_at - timedelta(days=1), now + (closes_at - now) / 2)
    round_ = RankingRound.objects.create(
        organization=organization,
        title=title[:200],
        opened_by=actor,
        opened_at=now,
        closes_at=closes_at,
        remind_at=remind_at,
    )
    RankingItem.objects.bulk_create(
        RankingItem(organization=organization, round=round_, initiative=i) for i in initiatives
    )
    Stakeholder.objects.bulk_create(
        Stakeholder(organization=organization, round=round_, membership=m) for m in stakeholders
    )
    _audit(
        organization,
        actor,
        "ranking.opened",
        round_,
        {"items": len(initiatives), "stakeholders": len(stakeholders)},
        request,
    )
    from .tasks import send_round_invitations

    enqueue(send_round_invitations, round_.pk)
    return round_


def _round_url(round_: RankingRound) -> str:
    return absolute_url(reverse("initiatives:round", args=[round_.organization.slug, round_.pk]))


def mail_round_invitations(round_: RankingRound) -> int:
    """Mail each stakeholder not yet invited; the conditional update claims each mail once."""
    sent = 0
    for stakeholder in Stakeholder.objects.filter(round=round_, invited_at__isnull=True).select_related(
        "membership__user"
    ):
        with transaction.atomic():
            if not Stakeholder.objects.filter(pk=stakeholder.pk, invited_at__isnull=True).update(
                invited_at=timezone.now()
            ):
                continue
            send_templated_mail(
                to=[stakeholder.membership.user.email],
                template="initiatives/email/round_opened",
                context={
                    "round": round_,
                    "person": stakeholder.membership,
                    "url": _round_url(round_),
                    "items": round_.items.count(),
                },
            )
            sent += 1
    return sent


def _ballot_order(round_: RankingRound, order) -> list[int]:
    try:
        return [int(pk) for pk in order]
    except (TypeError, ValueError):
        raise ValidationError({"order": "A ballot is a list of initiative ids, most important first."}) from None


@transaction.atomic
def submit_ballot(
    *, round_: RankingRound, actor: Membership, order, now: datetime | None = None, request=None
) -> Ballot:
    """A stakeholder's ordering; they may change it until the round closes."""
    now = now or timezone.now()
    round_ = RankingRound.objects.select_for_update().get(pk=round_.pk)
    if not round_.is_open or round_.closes_at <= now:
        closed = dates.local(round_.closes_at, r"j M Y \a\t H:i", round_.organization.tz)
        raise ValidationError(f"This round closed on {closed}: ballots are no longer accepted.")
    if not Stakeholder.objects.filter(round=round_, membership=actor).exists():
        raise ValidationError("You are not a stakeholder of this round: only the people named in it can vote.")
    order = _ballot_order(round_, order)
    try:
        ranking.check_ballot(order, list(round_.items.values_list("initiative_id", flat=True)))
    except ranking.BallotError as error:
        raise ValidationError({"order": str(error)}) from None
    ballot, created = Ballot.objects.update_or_create(
        organization=round_.organization, round=round_, membership=actor, defaults={"order": order, "submitted_at": now}
    )
    _audit(
        round_.organization,
        actor,
        "ranking.ballot_submitted" if created else "ranking.ballot_changed",
        round_,
        {},
        request,
    )
    return ballot


@transaction.atomic
def close_round(
    *, round_: RankingRound, actor: Membership | None, now: datetime | None = None, request=None
) -> RankingRound:
    """Combine the ballots by Borda count; the combined rank becomes each initiative's priority."""
    _require(actor, "initiatives.manage")
    now = now or timezone.now()
    round_ = RankingRound.objects.select_for_update().get(pk=round_.pk)
    if not round_.is_open:
        raise ValidationError("This round is already closed.")
    items = list(round_.items.select_related("initiative").order_by("pk"))
    ballots = [b.order for b in Ballot.objects.filter(round=round_).order_by("submitted_at", "pk")]
    if not ballots and actor is not None:
        raise ValidationError("No stakeholder has voted yet: there is nothing to combine.")
    by_id = {item.initiative_id: item for item in items}
    for initiative_id, points, combined in ranking.combined_ranking(ballots, list(by_id)):
        item = by_id[initiative_id]
        item.points, item.combined_rank = points, combined
    RankingItem.objects.bulk_update(items, ["points", "combined_rank"])
    round_.state, round_.closed_at = RankingRound.State.CLOSED, now
    round_.agreement = ranking.kendalls_w(ballots, list(by_id))
    round_.save(update_fields=["state", "closed_at", "agreement"])
    if ballots:
        for item in items:
            initiative = item.initiative
            text = (
                f"Combined rank {item.combined_rank} of {len(items)} in “{round_.title}” ({item.points} Borda points)."
            )
            if (
                initiative.status in (Status.QUALIFIED, Status.RANKED)
                and Score.objects.filter(initiative=initiative).exists()
            ):
                rank(initiative=initiative, actor=None, priority=item.combined_rank, note=text)
            elif initiative.status in BOARD_STATUSES:
                Initiative.objects.filter(pk=initiative.pk).update(priority=item.combined_rank)
                _timeline(initiative, TimelineEvent.Kind.RANKING, text, actor)
    _audit(
        round_.organization,
        actor,
        "ranking.closed",
        round_,
        {"ballots": len(ballots), "agreement": str(round_.agreement)},
        request,
    )
    return round_


def ranking_sweep(organization, now: datetime | None = None) -> dict:
    """Periodic: remind stakeholders who have not voted when the reminder is due; close rounds whose time is up."""
    now = now or timezone.now()
    reminded = closed = 0
    due = RankingRound.objects.for_org(organization).filter(
        state=RankingRound.State.OPEN, remind_at__lte=now, reminded_at__isnull=True, closes_at__gt=now
    )
    for round_ in due:
        with transaction.atomic():
            if not RankingRound.objects.filter(pk=round_.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            voted = Ballot.objects.filter(round=round_).values_list("membership_id", flat=True)
            for stakeholder in round_.stakeholders.exclude(membership_id__in=voted).select_related("membership__user"):
                send_templated_mail(
                    to=[stakeholder.membership.user.email],
                    template="initiatives/email/round_reminder",
                    context={"round": round_, "person": stakeholder.membership, "url": _round_url(round_)},
                )
                reminded += 1
    for round_ in RankingRound.objects.for_org(organization).filter(state=RankingRound.State.OPEN, closes_at__lte=now):
        close_round(round_=round_, actor=None, now=now)
        closed += 1
    return {"reminded": reminded, "closed": closed}


# --- The change board ------------------------------------------------------------------------


@transaction.atomic
def set_board_members(*, organization, actor: Membership, memberships: list[Membership], request=None) -> None:
    _require(actor, "initiatives.manage")
    for membership in memberships:
        _member_of(organization, membership, "members")
    wanted = {m.pk for m in memberships}
    current = set(BoardMember.objects.for_org(organization).values_list("membership_id", flat=True))
    BoardMember.objects.for_org(organization).exclude(membership_id__in=wanted).delete()
    BoardMember.objects.bulk_create(BoardMember(organization=organization, membership_id=pk) for pk in wanted - current)
    _audit(
        organization,
        actor,
        "board.members_set",
        None,
        {"added": sorted(wanted - current), "removed": sorted(current - wanted)},
        request,
    )


@transaction.atomic
def set_limits(
    *, organization, actor: Membership, capacity_person_days_per_month, budget_per_quarter, request=None
) -> Program:
    """Executives set how much the change board may commit: person-days a month and budget a quarter."""
    _require(actor, "limits.manage")
    capacity = (
        None
        if capacity_person_days_per_month in (None, "")
        else _decimal(
            capacity_person_days_per_month, "capacity_person_days_per_month", maximum=MAX_PERSON_DAYS, label="Capacity"
        )
    )
    budget = (
        None
        if budget_per_quarter in (None, "")
        else _decimal(budget_per_quarter, "budget_per_quarter", maximum=MAX_MONEY, label="Budget")
    )
    program = Program.objects.select_for_update().get(pk=program_for(organization).pk)
    program.capacity_person_days_per_month, program.budget_per_quarter = capacity, budget
    program.limits_updated_by, program.limits_updated_at = actor, timezone.now()
    program.save()
    _audit(
        organization, actor, "board.limits_set", program, {"capacity": str(capacity), "budget": str(budget)}, request
    )
    return program


@transaction.atomic
def set_board_schedule(
    *, organization, actor: Membership, weekday: int, week: int, at, lead_days: int, request=None
) -> Program:
    _require(actor, "initiatives.manage")
    program = Program.objects.select_for_update().get(pk=program_for(organization).pk)
    program.board_weekday = _int_between(weekday, "board_weekday", 0, 4, "Weekday")
    program.board_week = _int_between(week, "board_week", 1, 4, "Week of the month")
    program.agenda_lead_days = _int_between(lead_days, "agenda_lead_days", 1, 28, "Days ahead")
    program.board_time = at
    program.save()
    _audit(
        organization, actor, "board.schedule_set", program, {"weekday": weekday, "week": week, "at": str(at)}, request
    )
    return program


def ensure_next_meeting(organization, now: datetime | None = None) -> Meeting:
    """The next planned meeting, created on the schedule when there is none (idempotent)."""
    now = now or timezone.now()
    upcoming = (
        Meeting.objects.for_org(organization)
        .filter(state=Meeting.State.PLANNED, scheduled_for__gte=now)
        .order_by("scheduled_for")
        .first()
    )
    if upcoming:
        return upcoming
    program = program_for(organization)
    when = next_meeting_at(now, organization.tz, program.board_weekday, program.board_week, program.board_time)
    with transaction.atomic():
        meeting, created = Meeting.objects.get_or_create(organization=organization, scheduled_for=when)
        if created:
            _audit(organization, None, "board.meeting_planned", meeting, {"at": when.isoformat()})
    return meeting


@transaction.atomic
def build_agenda(meeting: Meeting, now: datetime | None = None) -> list[AgendaItem]:
    """Items waiting for the board (ranked first by priority, then qualified by score), deferred ones,
    then delivery work at risk. Items already decided at this meeting stay as they are."""
    organization = meeting.organization
    decided = set(meeting.decisions.values_list("initiative_id", flat=True))
    meeting.agenda.exclude(initiative_id__in=decided).delete()
    base = with_score(Initiative.objects.for_org(organization)).exclude(pk__in=decided)
    by_priority = F("priority").asc(nulls_last=True)
    new = base.filter(status__in=[Status.RANKED, Status.QUALIFIED]).order_by(
        by_priority, F("score_value").desc(nulls_last=True), "number"
    )
    deferred = base.filter(status=Status.DEFERRED).order_by(by_priority, "number")
    at_risk = base.filter(status__in=DELIVERY_STATUSES, health__in=[Health.AT_RISK, Health.OFF_TRACK]).order_by(
        "number"
    )
    position = meeting.agenda.count()
    items = []
    for kind, queryset in (
        (AgendaItem.Kind.NEW, new),
        (AgendaItem.Kind.DEFERRED, deferred),
        (AgendaItem.Kind.AT_RISK, at_risk),
    ):
        for initiative in queryset:
            position += 1
            items.append(
                AgendaItem(
                    organization=organization, meeting=meeting, initiative=initiative, kind=kind, position=position
                )
            )
    AgendaItem.objects.bulk_create(items)
    meeting.agenda_built_at = now or timezone.now()
    meeting.save(update_fields=["agenda_built_at"])
    return items


def board_recipients(organization) -> list[Membership]:
    return list(
        Membership.objects.for_org(organization)
        .active()
        .filter(pk__in=BoardMember.objects.for_org(organization).values("membership_id"))
        .select_related("user")
    )


def _meeting_url(meeting: Meeting, name: str = "initiatives:meeting") -> str:
    return absolute_url(reverse(name, args=[meeting.organization.slug, meeting.pk]))


def mail_agenda(meeting: Meeting, now: datetime | None = None) -> int:
    """Build and mail the agenda to the board, once: the conditional update is the claim."""
    now = now or timezone.now()
    with transaction.atomic():
        if not Meeting.objects.filter(pk=meeting.pk, agenda_mailed_at__isnull=True).update(agenda_mailed_at=now):
            return 0
        build_agenda(meeting, now)
        agenda = list(meeting.agenda.select_related("initiative", "initiative__owner__user"))
        recipients = board_recipients(meeting.organization)
        if recipients:
            send_templated_mail(
                to=[m.user.email for m in recipients],
                template="initiatives/email/agenda",
                context={
                    "meeting": meeting,
                    "agenda": agenda,
                    "url": _meeting_url(meeting),
                    "tz": meeting.organization.tz,
                },
            )
        _audit(
            meeting.organization, None, "board.agenda_mailed", meeting, {"items": len(agenda), "to": len(recipients)}
        )
    return len(recipients)


def board_sweep(organization, now: datetime | None = None) -> dict:
    """Periodic: plan the next meeting, and mail each agenda once, `agenda_lead_days` ahead."""
    now = now or timezone.now()
    meeting = ensure_next_meeting(organization, now)
    lead = timedelta(days=program_for(organization).agenda_lead_days)
    mailed = 0
    if meeting.agenda_mailed_at is None and meeting.scheduled_for - lead <= now:
        mailed = mail_agenda(meeting, now)
    return {"meeting": meeting.pk, "mailed": mailed}


@transaction.atomic
def record_attendance(*, meeting: Meeting, actor: Membership, present: list[Membership], request=None) -> None:
    _require(actor, "board.decide")
    for membership in present:
        _member_of(meeting.organization, membership, "present")
    wanted = {m.pk for m in present}
    meeting.attendance.exclude(membership_id__in=wanted).delete()
    existing = set(meeting.attendance.values_list("membership_id", flat=True))
    Attendance.objects.bulk_create(
        Attendance(organization=meeting.organization, meeting=meeting, membership_id=pk) for pk in wanted - existing
    )
    _audit(meeting.organization, actor, "board.attendance_recorded", meeting, {"present": sorted(wanted)}, request)


def _local_date(moment: datetime, organization) -> date:
    return timezone.localtime(moment, organization.tz).date()


@transaction.atomic
def decide(
    *,
    meeting: Meeting,
    initiative: Initiative,
    actor: Membership,
    outcome: str,
    deadline: date | None = None,
    owner: Membership | None = None,
    person_days=None,
    budget=None,
    note: str = "",
    override_reason: str = "",
    request=None,
) -> Decision:
    """The board approves (deadline, owner, person-days, budget; within the strategy limits unless
    overridden with a reason), defers (with a note, back on the next agenda) or rejects (with a reason)."""
    _require(actor, "board.decide")
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    organization = meeting.organization
    if initiative.organization_id != organization.pk:
        raise ValidationError("Choose an initiative of this organization.")
    if meeting.is_held:
        raise ValidationError("This meeting is closed and its minutes are out: decide at the next board.")
    if Decision.objects.filter(meeting=meeting, initiative=initiative).exists():
        raise ValidationError(f"{initiative.code} was already decided at this meeting.")
    if outcome not in Decision.Outcome.values:
        raise ValidationError({"outcome": "Approve, defer or reject."})
    initiative = _lock(initiative)
    if initiative.status not in BOARD_STATUSES:
        raise ValidationError(
            f"{initiative.code} is {initiative.get_status_display().lower()}: it is not waiting for the board."
        )
    if not meeting.attendance.exists():
        raise ValidationError("Record who is present before deciding: decisions are recorded with the attendance.")
    decision = Decision(
        organization=organization, meeting=meeting, initiative=initiative, outcome=outcome, decided_by=actor
    )
    meeting_day = _local_date(meeting.scheduled_for, organization)
    if outcome == Decision.Outcome.APPROVE:
        if deadline is None:
            raise ValidationError({"deadline": "Set the deadline."})
        if deadline <= meeting_day:
            raise ValidationError({"deadline": "The deadline must come after the meeting."})
        _check_dates(None, deadline)
        _member_of(organization, owner, "owner")
        decision.deadline, decision.owner = deadline, owner
        decision.person_days = _decimal(
            person_days, "person_days", maximum=MAX_PERSON_DAYS, positive=True, label="Person-days"
        )
        decision.budget = _decimal(
            budget if budget not in (None, "") else 0, "budget", maximum=MAX_MONEY, label="Budget"
        )
        breaches = limit_breaches(organization, meeting_day, decision.person_days, decision.budget)
        override_reason = (override_reason or "").strip()
        if breaches and not override_reason:
            raise ValidationError(
                {"override_reason": " ".join(breaches) + " Give a reason to override the strategy limits."}
            )
        decision.override_reason = override_reason if breaches else ""
        initiative.owner, initiative.target_end = owner, deadline
        initiative.person_days, initiative.budget = decision.person_days, decision.budget
        if initiative.target_start and initiative.target_start > deadline:
            initiative.target_start = None
        text = (
            f"Approved by the change board: deadline {deadline:%-d %b %Y}, owner {owner.user.display_name}, "
            f"{floatformat(decision.person_days, '-2g')} person-days, budget {floatformat(decision.budget, '-2g')}."
        )
    else:
        what = (
            "it goes back on the next agenda with it."
            if outcome == Decision.Outcome.DEFER
            else "the owner and the submitter will read it."
        )
        decision.note = _reason(note, "note", what)
        initiative.status_note = decision.note
        text = f"{Decision.Outcome(outcome).label} by the change board: {decision.note}"
    decision.save()
    _move(initiative, outcome, actor, text, {"meeting": meeting.pk}, request)
    if decision.override_reason:
        _audit(
            organization,
            actor,
            "board.limits_overridden",
            decision.initiative,
            {"breaches": breaches, "reason": decision.override_reason},
            request,
        )
    AgendaItem.objects.get_or_create(
        organization=organization,
        meeting=meeting,
        initiative=initiative,
        defaults={"kind": AgendaItem.Kind.NEW, "position": meeting.agenda.count() + 1},
    )
    return decision


def limit_breaches(organization, day: date, person_days: Decimal, budget: Decimal) -> list[str]:
    program = program_for(organization)
    usage = committed(organization, day)
    breaches = []
    if program.capacity_person_days_per_month is not None:
        remaining = program.capacity_person_days_per_month - usage["person_days"]
        if person_days > remaining:
            breaches.append(
                f"This approval takes {scoring.fmt(person_days)} person-days; "
                f"{scoring.fmt(max(remaining, 0))} remain this month."
            )
    if program.budget_per_quarter is not None:
        remaining = program.budget_per_quarter - usage["budget"]
        if budget > 0 and budget > remaining:  # a no-cost approval never breaks the budget
            breaches.append(
                f"It needs a budget of {budget:,} {program.currency}; {max(remaining, 0):,} remain this quarter."
            )
    return breaches


@transaction.atomic
def close_meeting(
    *, meeting: Meeting, actor: Membership, notes: str = "", now: datetime | None = None, request=None
) -> Meeting:
    """Close the meeting: its minutes are fixed and mailed to the board and the owners concerned."""
    _require(actor, "board.decide")
    now = now or timezone.now()
    if not Meeting.objects.filter(pk=meeting.pk, state=Meeting.State.PLANNED).update(
        state=Meeting.State.HELD, held_at=now, notes=(notes or "").strip()
    ):
        raise ValidationError("This meeting is already closed.")
    if not meeting.attendance.exists():
        raise ValidationError("Record who was present before closing the meeting.")
    meeting.refresh_from_db()
    _audit(
        meeting.organization, actor, "board.meeting_closed", meeting, {"decisions": meeting.decisions.count()}, request
    )
    from .tasks import send_minutes

    enqueue(send_minutes, meeting.pk)
    return meeting


def mail_minutes(meeting: Meeting) -> int:
    from .minutes import minutes_context, minutes_pdf

    with transaction.atomic():
        if not Meeting.objects.filter(pk=meeting.pk, state=Meeting.State.HELD, minutes_mailed_at__isnull=True).update(
            minutes_mailed_at=timezone.now()
        ):
            return 0
        context = minutes_context(meeting)
        owners = [d.owner for d in context["decisions"] if d.owner] + [
            d.initiative.owner for d in context["decisions"] if d.initiative.owner
        ]
        emails = sorted({m.user.email for m in board_recipients(meeting.organization) + owners if m.is_active})
        if emails:
            send_templated_mail(
                to=emails,
                template="initiatives/email/minutes",
                context={**context, "url": _meeting_url(meeting, "initiatives:minutes")},
                attachments=[
                    (
                        f"minutes-{_local_date(meeting.scheduled_for, meeting.organization)}.pdf",
                        minutes_pdf(meeting, context),
                        "application/pdf",
                    )
                ],
            )
        _audit(meeting.organization, None, "board.minutes_mailed", meeting, {"to": len(emails)})
    return len(emails)


# --- Action items, weekly updates, digests ---------------------------------------------------


@transaction.atomic
def add_action_item(
    *, initiative: Initiative, actor: Membership, title: str, owner: Membership, due_on: date, request=None
) -> ActionItem:
    _require_steer(actor, initiative)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Say what needs doing."})
    if initiative.is_closed:
        raise ValidationError(f"{initiative.code} is {initiative.get_status_display().lower()}: no more action items.")
    _member_of(initiative.organization, owner, "owner")
    if due_on is None:
        raise ValidationError({"due_on": "Set a due date."})
    _check_dates(None, due_on)
    item = ActionItem.objects.create(
        organization=initiative.organization, initiative=initiative, title=title[:200], owner=owner, due_on=due_on
    )
    _timeline(
        initiative,
        TimelineEvent.Kind.PLAN,
        f"Action item “{item.title}” for {owner.user.display_name}, due {due_on:%-d %b}.",
        actor,
    )
    _audit(initiative.organization, actor, "action_item.added", initiative, {"title": item.title}, request)
    return item


@transaction.atomic
def set_action_item_status(*, item: ActionItem, actor: Membership, status: str, request=None) -> ActionItem:
    if actor is not None and actor.pk != item.owner_id and not can_steer(actor, item.initiative):
        raise PermissionDenied
    if status not in ActionItem.State.values:
        raise ValidationError({"status": "Choose open, in progress or done."})
    item.status = status
    item.done_at = timezone.now() if status == ActionItem.State.DONE else None
    item.save(update_fields=["status", "done_at"])
    _audit(
        item.organization,
        actor,
        "action_item.status_changed",
        item.initiative,
        {"title": item.title, "status": status},
        request,
    )
    return item


@transaction.atomic
def post_update(
    *, initiative: Initiative, actor: Membership, health: str, text: str, today: date | None = None, request=None
) -> HealthUpdate:
    """The owner's weekly word on delivery: the health shown everywhere, and a line on the timeline."""
    _require_steer(actor, initiative)
    if initiative.status not in DELIVERY_STATUSES:
        raise ValidationError("Weekly updates are for approved, scheduled or in-progress initiatives.")
    if health not in Health.values:
        raise ValidationError({"health": "Choose on track, at risk or off track."})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Say in a sentence or two how it is going."})
    today = today or timezone.localdate(timezone=initiative.organization.tz)
    update, _ = HealthUpdate.objects.update_or_create(
        organization=initiative.organization,
        initiative=initiative,
        week_of=monday_of(today),
        defaults={"health": health, "text": text[:2000], "author": actor, "created_at": timezone.now()},
    )
    Initiative.objects.filter(pk=initiative.pk).update(health=health)
    initiative.health = health
    _timeline(initiative, TimelineEvent.Kind.UPDATE, f"{Health(health).label}: {text}", actor)
    _audit(initiative.organization, actor, "initiative.update_posted", initiative, {"health": health}, request)
    return update


def digest_week(organization, now: datetime) -> date | None:
    """The week whose digest is due: from 08:00 on Monday, local time, until Monday ends."""
    local = timezone.localtime(now, organization.tz)
    if local.weekday() == 0 and local.hour >= DIGEST_HOUR:
        return local.date()
    return None


def send_weekly_digests(organization, now: datetime | None = None) -> int:
    """Periodic (hourly): on Monday morning in the organization's time zone, each person with open
    action items or initiatives gets one digest. The DigestLog row, created with the mail in one
    savepoint, makes later runs that week skip them; a mail that fails is retried the next hour."""
    now = now or timezone.now()
    week = digest_week(organization, now)
    if week is None:
        return 0
    today = timezone.localtime(now, organization.tz).date()
    already = set(DigestLog.objects.for_org(organization).filter(week_of=week).values_list("membership_id", flat=True))
    actions_url = absolute_url(reverse("initiatives:actions", args=[organization.slug]))
    sent = 0
    for membership, content in digest_for(organization, today).items():
        if membership.pk in already:
            continue
        try:
            with transaction.atomic():
                DigestLog.objects.create(organization=organization, membership=membership, week_of=week, sent_at=now)
                send_templated_mail(
                    to=[membership.user.email],
                    template="initiatives/email/weekly_digest",
                    context={"person": membership, "today": today, "url": actions_url, **content},
                )
        except IntegrityError:
            continue  # another run sent it a moment ago
        except MAIL_ERRORS:
            # Its log row went with the savepoint, so the next hour tries again; the others' rows stay
            # in the sweep's transaction, so those already mailed are not mailed twice.
            logger.warning("Weekly digest to membership %s failed", membership.pk, exc_info=True)
            continue
        sent += 1
    return sent


def remind_overdue(organization, now: datetime | None = None) -> int:
    """Periodic: each action item that passed its due date is reminded to its owner once."""
    now = now or timezone.now()
    today = timezone.localtime(now, organization.tz).date()
    overdue = (
        ActionItem.objects.for_org(organization)
        .exclude(status=ActionItem.State.DONE)
        .filter(due_on__lt=today, overdue_reminded_at__isnull=True)
        .select_related("owner__user", "initiative")
    )
    by_owner = defaultdict(list)
    for item in overdue:
        by_owner[item.owner].append(item)
    sent = 0
    for owner, items in by_owner.items():
        if not owner.is_active:
            continue
        try:
            with transaction.atomic():
                claimed = ActionItem.objects.filter(
                    pk__in=[i.pk for i in items], overdue_reminded_at__isnull=True
                ).update(overdue_reminded_at=now)
                if not claimed:
                    continue
                send_templated_mail(
                    to=[owner.user.email],
                    template="initiatives/email/overdue",
                    context={
                        "person": owner,
                        "items": items,
                        "today": today,
                        "url": absolute_url(reverse("initiatives:actions", args=[organization.slug])),
                    },
                )
        except MAIL_ERRORS:
            # As for the digest: this owner's claim is undone (tried next hour), the others' are kept.
            logger.warning("Overdue reminder to membership %s failed", owner.pk, exc_info=True)
            continue
        sent += 1
    return sent


def follow_up_sweep(organization, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {"digests": send_weekly_digests(organization, now), "overdue": remind_overdue(organization, now)}
