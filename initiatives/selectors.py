"""Reads for pages, the API, mails and the metrics app. Aggregates run in SQL; page queries are bounded."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from cxprogram.tenancy.models import Membership

from . import scoring
from .models import (
    BOARD_STATUSES,
    CLOSED_STATUSES,
    DELIVERY_STATUSES,
    ActionItem,
    Decision,
    Dependency,
    HealthUpdate,
    Horizon,
    Initiative,
    Program,
    Score,
    Status,
    TeamMember,
)
from .schedule import month_bounds, quarter_bounds


def ideas_generated(organization, since: datetime, until: datetime) -> int:
    """ "CX ideas generated": ideas members submitted in [since, until), whatever became of them."""
    return (
        Initiative.objects.for_org(organization)
        .filter(submitted_by__isnull=False, created_at__gte=since, created_at__lt=until)
        .count()
    )


def with_score(queryset):
    scores = Score.objects.filter(initiative=OuterRef("pk"))
    return queryset.annotate(
        score_value=Subquery(scores.values("value")[:1]),
        score_formula=Subquery(scores.values("formula")[:1]),
    )


SORTS = {
    "code": "number",
    "title": "title",
    "status": "status",
    "priority": "priority",
    "score": "score_value",
    "owner": "owner__user__full_name",
    "horizon": "horizon",
    "end": "target_end",
}


def backlog(
    organization, *, q="", status="", horizon="", owner="", domain="", sort="", include_closed=False, submitted_by=None
):
    """The backlog table: filtered, sorted, with the score and owner in the same query. The ideas of one
    submitter (`submitted_by`) include the closed ones: what became of each is what they look for."""
    queryset = with_score(Initiative.objects.for_org(organization)).select_related("owner__user", "domain")
    if submitted_by is not None:
        queryset = queryset.filter(submitted_by=submitted_by)
    if status:
        queryset = queryset.filter(status=status)
    elif not include_closed and submitted_by is None:
        queryset = queryset.exclude(status__in=CLOSED_STATUSES)
    if horizon:
        queryset = queryset.filter(horizon=horizon)
    if owner:
        queryset = queryset.filter(owner_id=owner)
    if domain:
        queryset = queryset.filter(domain_id=domain)
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        match = Q(title__icontains=q) | Q(description__icontains=q)
        if digits and q.strip().upper().startswith("CX"):
            match |= Q(number=int(digits))
        queryset = queryset.filter(match)
    field = SORTS.get(sort.lstrip("-"))
    if field:
        expression = F(field).desc(nulls_last=True) if sort.startswith("-") else F(field).asc(nulls_last=True)
        return queryset.order_by(expression, "-number")
    return queryset.order_by(F("priority").asc(nulls_last=True), "-number")


def local_bounds(organization, start: date, end: date) -> tuple[datetime, datetime]:
    tz = organization.tz
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end, time.min, tzinfo=tz)


def committed(organization, on: date, *, program: Program | None = None) -> dict:
    """What the board approved in `on`'s calendar month (person-days) and fiscal quarter (budget),
    with the limits and what remains of them."""
    from .services import program_for

    program = program or program_for(organization)
    approvals = Decision.objects.for_org(organization).filter(outcome=Decision.Outcome.APPROVE)
    month = local_bounds(organization, *month_bounds(on))
    quarter_dates = quarter_bounds(on, organization.fiscal_year_start_month)
    quarter = local_bounds(organization, *quarter_dates)
    totals = approvals.aggregate(
        person_days=Coalesce(
            Sum("person_days", filter=Q(meeting__scheduled_for__gte=month[0], meeting__scheduled_for__lt=month[1])),
            0,
            output_field=Decision._meta.get_field("person_days"),
        ),
        budget=Coalesce(
            Sum("budget", filter=Q(meeting__scheduled_for__gte=quarter[0], meeting__scheduled_for__lt=quarter[1])),
            0,
            output_field=Decision._meta.get_field("budget"),
        ),
    )
    capacity, budget = program.capacity_person_days_per_month, program.budget_per_quarter
    return {
        "person_days": totals["person_days"],
        "budget": totals["budget"],
        "capacity": capacity,
        "budget_limit": budget,
        "person_days_remaining": None if capacity is None else capacity - totals["person_days"],
        "budget_remaining": None if budget is None else budget - totals["budget"],
        "person_days_over": None if capacity is None else max(totals["person_days"] - capacity, 0),
        "budget_over": None if budget is None else max(totals["budget"] - budget, 0),
        "month_start": month_bounds(on)[0],
        "quarter_start": quarter_dates[0],
        "quarter_last_day": quarter_dates[1] - timedelta(days=1),
        "currency": program.currency,
    }


def digest_for(organization, today: date) -> dict:
    """Per active member: their open action items (overdue ones apart) and open initiatives they own."""
    result = defaultdict(lambda: {"items": [], "overdue": [], "initiatives": []})
    members = {m.pk: m for m in Membership.objects.for_org(organization).active().select_related("user")}
    items = (
        ActionItem.objects.for_org(organization)
        .exclude(status=ActionItem.State.DONE)
        .filter(owner_id__in=members)
        .select_related("initiative")
    )
    for item in items:
        result[members[item.owner_id]]["overdue" if item.due_on < today else "items"].append(item)
    owned = (
        Initiative.objects.for_org(organization)
        .filter(owner_id__in=members, status__in=DELIVERY_STATUSES | BOARD_STATUSES)
        .order_by("target_end", "number")
    )
    for initiative in owned:
        initiative.is_overdue = bool(initiative.target_end and initiative.target_end < today)
        result[members[initiative.owner_id]]["initiatives"].append(initiative)
    return dict(result)


def matrix_points(organization) -> dict:
    """The value-versus-effort 2×2 of scored, open initiatives, with each one's quadrant."""
    scores = list(
        Score.objects.for_org(organization)
        .exclude(initiative__status__in=CLOSED_STATUSES)
        .select_related("initiative")
        .order_by("initiative__number")
    )
    if not scores:
        return {"points": [], "effort_split": None, "value_split": scoring.VALUE_SPLIT}
    split = scoring.median(s.effort_days for s in scores)
    points = [
        {
            "id": s.initiative_id,
            "code": s.initiative.code,
            "title": s.initiative.title,
            "status": s.initiative.get_status_display(),
            "value": s.total_value,
            "effort": float(s.effort_days),
            "cost": float(s.cost),
            "score": float(s.value),
            "formula": s.formula,
            "quadrant": scoring.quadrant(s.total_value, s.effort_days, split),
        }
        for s in scores
    ]
    return {"points": points, "effort_split": float(split), "value_split": scoring.VALUE_SPLIT}


def kanban(organization) -> list[dict]:
    """Columns of the board's flow, with the cards in each (closed initiatives are left out)."""
    columns = [
        Status.SUBMITTED,
        Status.QUALIFIED,
        Status.RANKED,
        Status.DEFERRED,
        Status.APPROVED,
        Status.SCHEDULED,
        Status.IN_PROGRESS,
        Status.DONE,
    ]
    cards = defaultdict(list)
    queryset = (
        Initiative.objects.for_org(organization)
        .filter(status__in=columns)
        .select_related("owner__user")
        .order_by(F("priority").asc(nulls_last=True), "-number")
    )
    for initiative in queryset:
        if initiative.status == Status.DONE and len(cards[Status.DONE]) >= 20:
            continue  # the most recent done ones are enough to celebrate
        cards[initiative.status].append(initiative)
    return [{"status": s, "label": Status(s).label, "cards": cards[s]} for s in columns]


def roadmap(organization) -> dict:
    """Lanes by horizon for open initiatives, and the timeline of those with dates: a bar from start to end,
    or a milestone for one with only a deadline, and the dependencies between them. A dependency is out of
    order when the waiting initiative is planned to start (or, a milestone, to be done) before its blocker
    is due to end."""
    open_ = (
        Initiative.objects.for_org(organization)
        .exclude(status__in=CLOSED_STATUSES - {Status.DONE})
        .exclude(status__in=[Status.SUBMITTED])
        .select_related("owner__user", "domain")
        .order_by(F("priority").asc(nulls_last=True), "number")
    )
    lanes = {h: [] for h in Horizon.values}
    bars = {}
    for initiative in open_:
        if initiative.horizon:
            lanes[initiative.horizon].append(initiative)
        if initiative.target_end and initiative.status not in (Status.QUALIFIED, Status.RANKED, Status.DEFERRED):
            bars[initiative.pk] = {
                "id": initiative.pk,
                "code": initiative.code,
                "title": initiative.title,
                "status": initiative.get_status_display(),
                "health": initiative.health,
                "start": initiative.target_start or initiative.target_end,
                "end": initiative.target_end,
                "milestone": not initiative.target_start or initiative.target_start >= initiative.target_end,
            }
    links = []
    for blocked, blocker in Dependency.objects.for_org(organization).values_list("initiative_id", "blocker_id"):
        if blocker in bars and blocked in bars:
            waits, first = bars[blocked], bars[blocker]
            links.append({"from": blocker, "to": blocked, "out_of_order": waits["start"] < first["end"]})
    conflicts = [{"waits": bars[link["to"]], "blocker": bars[link["from"]]} for link in links if link["out_of_order"]]
    return {
        "lanes": [{"horizon": h, "label": Horizon(h).label, "items": lanes[h]} for h in Horizon.values],
        "timeline": {"bars": list(bars.values()), "links": links, "conflicts": conflicts},
    }


def initiative_page(organization, pk: int):
    """One initiative with everything its page shows, in a fixed number of queries."""
    queryset = Initiative.objects.for_org(organization).select_related(
        "owner__user", "submitted_by__user", "domain", "unit", "merged_into", "response__client", "case"
    )
    queryset = queryset.prefetch_related(
        "checklist",
        Prefetch("team_members", queryset=_team_queryset()),
        Prefetch("blocked_by_links", queryset=Dependency.objects.select_related("blocker")),
        Prefetch("blocks_links", queryset=Dependency.objects.select_related("initiative")),
        Prefetch("action_items", queryset=ActionItem.objects.select_related("owner__user")),
        Prefetch("updates", queryset=_updates_queryset()),
        Prefetch("decisions", queryset=Decision.objects.select_related("meeting", "owner__user")),
        Prefetch("scores", queryset=Score.objects.prefetch_related("criterion_scores__criterion")),
    )
    return get_object_or_404(queryset, pk=pk)


def _team_queryset():
    return TeamMember.objects.select_related("membership__user")


def _updates_queryset():
    return HealthUpdate.objects.select_related("author__user")


def status_counts(organization) -> dict:
    rows = Initiative.objects.for_org(organization).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def my_action_items(organization, membership, *, scope="mine", state="open"):
    queryset = ActionItem.objects.for_org(organization).select_related("owner__user", "initiative")
    if scope == "mine":
        queryset = queryset.filter(owner=membership)
    if state == "open":
        queryset = queryset.exclude(status=ActionItem.State.DONE)
    elif state == "done":
        queryset = queryset.filter(status=ActionItem.State.DONE)
    return queryset.order_by("due_on", "pk")
