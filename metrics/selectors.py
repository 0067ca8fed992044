"""Every figure of the program, computed in SQL, in one place: pages, the API, exports, alerts and the board
report all read them from here.

A figure is asked for over a `Period` (dates in the organization's time zone) and a `Slice` (unit, project
manager, client, project, contact kind, template, client tag). Each method runs a fixed number of queries,
whatever the amount of data: aggregates with FILTER (Count/Sum with `filter=`), grouped in the database; the
Python side only turns the grouped counts into figures with `formulas`.

Large organizations: response and request counts of past months are read from `MonthlyRollup` (refreshed by a
periodic task, see services.refresh_rollups) and the months since from the live tables; both are plain
counts, so they add up. `MetricsSettings.rollup_through` is the boundary; until a first refresh everything is
read live. Slices the rollup does not carry (client, project, client tag) and periods that do not start and
end on a month boundary are always read live.
"""

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter
from django.utils import timezone

from cxprogram.tenancy.models import Membership, Unit
from feedback.models import Contact, FollowUpCase, Project, Response, SurveyRequest

from . import adoption
from . import formulas as f
from .models import AdoptionAnswer, AdoptionResponse, MetricsSettings, MetricTarget, MonthlyRollup, ProposalRecord
from .models import RevenueRecord as Revenue

ZERO = Decimal(0)
CATEGORIES = ("promoter", "passive", "detractor")
CATEGORY_Q = {
    "promoter": Q(nps_score__gte=f.PROMOTER_MIN),
    "passive": Q(nps_score__gte=f.PASSIVE_MIN, nps_score__lt=f.PROMOTER_MIN),
    "detractor": Q(nps_score__lt=f.PASSIVE_MIN),
}
SHORT = {"promoter": "p", "passive": "pa", "detractor": "d"}


def category_counts() -> dict:
    """p, pa, d: promoters, passives and detractors among scored responses, as filtered counts."""
    return {SHORT[cat]: Count("pk", filter=q) for cat, q in CATEGORY_Q.items()}


# --- Periods and slices -------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@dataclass(frozen=True)
class Period:
    """[start, end) in the organization's local dates."""

    start: date
    end: date

    @classmethod
    def months(cls, first: date, last: date) -> "Period":
        """From the month of `first` to the month of `last`, both whole."""
        return cls(month_start(first), add_months(month_start(last), 1))

    @classmethod
    def last_months(cls, count: int, today: date) -> "Period":
        """The `count` months ending with the current one (which is still running)."""
        current = month_start(today)
        return cls(add_months(current, 1 - count), add_months(current, 1))

    @property
    def month_aligned(self) -> bool:
        return self.start.day == 1 and self.end.day == 1

    @property
    def month_count(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    def previous(self) -> "Period":
        """The period of the same length just before (whole months when this one is)."""
        if self.month_aligned:
            return Period(add_months(self.start, -self.month_count), self.start)
        return Period(self.start - (self.end - self.start), self.start)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.month_aligned and self.month_count == 1:
            return f"{self.start:%B %Y}"
        if self.month_aligned:
            return f"{self.start:%b %Y} – {self.last_day:%b %Y}"
        return f"{self.start:%-d %b %Y} – {self.last_day:%-d %b %Y}"

    def bounds(self, tz) -> tuple[datetime, datetime]:
        return datetime.combine(self.start, time.min, tz), datetime.combine(self.end, time.min, tz)

    def month_starts(self) -> list[date]:
        return [add_months(month_start(self.start), i) for i in range(max(self.month_count, 1))]

    def quarter_starts(self) -> list[date]:
        quarters, q = [], quarter_start(self.start)
        while q < self.end:
            quarters.append(q)
            q = add_months(q, 3)
        return quarters


@dataclass(frozen=True)
class Slice:
    """Which responses a figure covers. Empty fields do not filter."""

    unit_id: int | None = None
    project_manager_id: int | None = None
    client_id: int | None = None
    project_id: int | None = None
    contact_kind: str = ""
    template_id: int | None = None
    client_tag: str = ""

    @property
    def is_all(self) -> bool:
        return self == Slice()

    @property
    def rollup_ok(self) -> bool:
        return self.client_id is None and self.project_id is None and not self.client_tag

    def _units(self):
        # A top-level unit covers its sub-units.
        return Unit.objects.filter(Q(pk=self.unit_id) | Q(parent_id=self.unit_id)).values("pk")

    def responses(self) -> Q:
        q = Q()
        if self.unit_id:
            q &= Q(unit__in=self._units())
        if self.project_manager_id:
            q &= Q(project_manager_id=self.project_manager_id)
        if self.client_id:
            q &= Q(client_id=self.client_id)
        if self.project_id:
            q &= Q(project_id=self.project_id)
        if self.contact_kind:
            q &= Q(contact_kind=self.contact_kind)
        if self.template_id:
            q &= Q(template_version__template_id=self.template_id)
        if self.client_tag:
            # Tags are a JSON list; the quoted tag cannot match a longer tag by accident.
            q &= Q(client__tags__icontains=f'"{self.client_tag}"')
        return q

    def requests(self) -> Q:
        q = Q()
        if self.unit_id:
            q &= Q(project__unit__in=self._units())
        if self.project_manager_id:
            q &= Q(project__project_manager_id=self.project_manager_id)
        if self.client_id:
            q &= Q(project__client_id=self.client_id)
        if self.project_id:
            q &= Q(project_id=self.project_id)
        if self.contact_kind:
            q &= Q(contact__kind=self.contact_kind)
        if self.template_id:
            q &= Q(batch__template_version__template_id=self.template_id)
        if self.client_tag:
            q &= Q(project__client__tags__icontains=f'"{self.client_tag}"')
        return q

    def rollups(self) -> Q:
        q = Q()
        if self.unit_id:
            q &= Q(unit__in=self._units())
        if self.project_manager_id:
            q &= Q(project_manager_id=self.project_manager_id)
        if self.contact_kind:
            q &= Q(contact_kind=self.contact_kind)
        if self.template_id:
            q &= Q(template_id=self.template_id)
        return q

    def clients(self, prefix: str = "") -> Q:
        """For figures per client (revenue, cases): the slices that describe a client."""
        q = Q()
        if self.unit_id:
            q &= Q(**{f"{prefix}unit__in": self._units()})
        if self.client_id:
            q &= Q(**{f"{prefix}pk": self.client_id})
        if self.client_tag:
            q &= Q(**{f"{prefix}tags__icontains": f'"{self.client_tag}"'})
        return q


ALL = Slice()

# Grouping keys: (expression on Response, on SurveyRequest, on MonthlyRollup or None when not rolled up)
GROUPS = {
    "unit": ("unit_id", "project__unit_id", "unit_id"),
    "top_unit": (
        Coalesce("unit__parent_id", "unit_id"),
        Coalesce("project__unit__parent_id", "project__unit_id"),
        Coalesce("unit__parent_id", "unit_id"),
    ),
    "project_manager": ("project_manager_id", "project__project_manager_id", "project_manager_id"),
    "template": ("template_version__template_id", "batch__template_version__template_id", "template_id"),
    "contact_kind": ("contact_kind", "contact__kind", "contact_kind"),
    "client": ("client_id", "project__client_id", None),
    "project": ("project_id", "project_id", None),
    "batch": ("batch_id", "batch_id", None),
}


@dataclass
class RequestFigure:
    delivered: int = 0
    answered: int = 0
    seconds: int = 0

    @property
    def rate(self) -> float | None:
        return f.response_rate(self.answered, self.delivered)

    @property
    def hours_to_answer(self) -> float | None:
        return self.seconds / self.answered / 3600 if self.answered else None

    def as_dict(self) -> dict:
        return {
            "delivered": self.delivered,
            "answered": self.answered,
            "response_rate": None if self.rate is None else round(self.rate, 1),
            "hours_to_answer": None if self.hours_to_answer is None else round(self.hours_to_answer, 1),
        }


@dataclass
class RevenueFigures:
    period: Period
    base: Decimal = ZERO
    current: Decimal = ZERO
    churned: Decimal = ZERO
    contraction: Decimal = ZERO
    expansion: Decimal = ZERO
    clients_at_start: int = 0
    clients_lost: int = 0
    clients_active: int = 0
    new_clients: int = 0
    new_revenue: Decimal = ZERO
    gross_margin: Decimal = Decimal("0.35")

    @property
    def gross_churn(self):
        return f.gross_revenue_churn(self.base, self.churned, self.contraction)

    @property
    def gross_retention(self):
        return f.gross_revenue_retention(self.base, self.churned, self.contraction)

    @property
    def net_retention(self):
        return f.net_revenue_retention(self.base, self.churned, self.contraction, self.expansion)

    @property
    def client_churn(self):
        return f.client_churn_rate(self.clients_lost, self.clients_at_start)

    @property
    def revenue_per_account(self) -> Decimal | None:
        return (self.current / self.clients_active).quantize(Decimal("0.01")) if self.clients_active else None

    @property
    def lifetime_value(self) -> Decimal | None:
        if self.revenue_per_account is None:
            return None
        return f.client_lifetime_value(self.revenue_per_account, self.gross_margin, self.client_churn)

    def as_dict(self) -> dict:
        def r(x):
            return None if x is None else round(float(x), 2)

        return {
            "period_start": self.period.start,
            "period_end": self.period.last_day,
            "revenue": r(self.current),
            "base_revenue": r(self.base),
            "churned_revenue": r(self.churned),
            "contraction": r(self.contraction),
            "expansion": r(self.expansion),
            "gross_revenue_churn": r(self.gross_churn),
            "gross_revenue_retention": r(self.gross_retention),
            "net_revenue_retention": r(self.net_retention),
            "clients_at_start": self.clients_at_start,
            "clients_lost": self.clients_lost,
            "client_churn_rate": r(self.client_churn),
            "new_clients": self.new_clients,
            "new_client_revenue": r(self.new_revenue),
            "revenue_per_account": r(self.revenue_per_account),
            "client_lifetime_value": r(self.lifetime_value),
        }


@dataclass
class AccountFigures:
    """Account NPS over the clients of a slice, by the organization's convention, and revenue at risk."""

    convention: str
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    clients: int = 0
    clients_at_risk: int = 0
    revenue_at_risk: Decimal = ZERO
    min_n: int = f.DEFAULT_MIN_N
    rows: list = field(default_factory=list)

    @property
    def figure(self) -> f.NpsFigure:
        return f.NpsFigure(self.promoters, self.passives, self.detractors, self.min_n)


def settings_for(organization) -> MetricsSettings:
    """The organization's metrics settings, or the defaults (unsaved) when it never changed them."""
    return MetricsSettings.objects.for_org(organization).first() or MetricsSettings(organization=organization)


class Metrics:
    """The figures of one organization. Settings are read once; each method runs a fixed number of queries."""

    def __init__(self, organization, settings: MetricsSettings | None = None):
        self.organization = organization
        self.settings = settings or settings_for(organization)
        self.tz = organization.tz

    # --- helpers ---------------------------------------------------------------------------------------

    def today(self) -> date:
        return timezone.localdate(timezone=self.tz)

    def _responses(self):
        return Response.objects.for_org(self.organization).filter(nps_score__isnull=False)

    def _requests(self):
        return SurveyRequest.objects.for_org(self.organization).filter(state=SurveyRequest.State.SENT)

    def _split(self, period: Period, slc: Slice) -> tuple[Period | None, Period | None]:
        """(the part read from rollups, the part read live)."""
        boundary = self.settings.rollup_through
        if boundary is None or not slc.rollup_ok or not period.month_aligned or period.start >= boundary:
            return None, period
        if period.end <= boundary:
            return period, None
        return Period(period.start, boundary), Period(boundary, period.end)

    @property
    def freshness(self) -> dict:
        """How fresh the figures are: past months as of the last rollup refresh, later months live."""
        return {"rollup_through": self.settings.rollup_through, "refreshed_at": self.settings.rollups_refreshed_at}

    def _group_expr(self, by: str | None, source: int):
        if by is None:
            return None
        if by in ("month", "quarter"):
            trunc = TruncMonth if by == "month" else TruncQuarter
            if source == 2:
                return trunc("month")
            return trunc("submitted_at" if source == 0 else "sent_at", tzinfo=self.tz)
        expr = GROUPS[by][source]
        if expr is None:
            raise ValueError(f"{by} is not kept in the rollups")
        return F(expr) if isinstance(expr, str) else expr

    @staticmethod
    def _key(value):
        return value.date() if isinstance(value, datetime) else value

    def _grouped(self, queryset, by, source, aggregates: dict):
        """Rows of {key, **aggregates} for a queryset grouped by `by` (or one row when by is None)."""
        expr = self._group_expr(by, source)
        if expr is None:
            return [{"key": None, **queryset.aggregate(**aggregates)}]
        rows = queryset.annotate(key=expr).values("key").annotate(**aggregates).order_by()
        return [{**row, "key": self._key(row["key"])} for row in rows]

    # --- NPS -------------------------------------------------------------------------------------------

    def _nps_counts(self, period: Period, slc: Slice, by: str | None) -> dict:
        counts: dict = defaultdict(lambda: [0, 0, 0])
        rolled, live = self._split(period, slc)
        if rolled:
            queryset = MonthlyRollup.objects.for_org(self.organization).filter(
                slc.rollups(), month__gte=rolled.start, month__lt=rolled.end
            )
            aggregates = {
                "p": Coalesce(Sum("promoters"), 0),
                "pa": Coalesce(Sum("passives"), 0),
                "d": Coalesce(Sum("detractors"), 0),
            }
            for row in self._grouped(queryset, by, 2, aggregates):
                c = counts[row["key"]]
                c[0], c[1], c[2] = c[0] + row["p"], c[1] + row["pa"], c[2] + row["d"]
        if live:
            since, until = live.bounds(self.tz)
            queryset = self._responses().filter(slc.responses(), submitted_at__gte=since, submitted_at__lt=until)
            aggregates = category_counts()
            for row in self._grouped(queryset, by, 0, aggregates):
                c = counts[row["key"]]
                c[0], c[1], c[2] = c[0] + row["p"], c[1] + row["pa"], c[2] + row["d"]
        return counts

    def _population(self, slc: Slice) -> int | None:
        """The contacts a client slice could hear from (for the finite-population correction). Known only for
        one client: elsewhere the population is large and the correction negligible."""
        if slc.client_id is None:
            return None
        return Contact.objects.for_org(self.organization).filter(client_id=slc.client_id).count()

    def nps(self, period: Period, slc: Slice = ALL) -> f.NpsFigure:
        p, pa, d = self._nps_counts(period, slc, None)[None]
        return f.NpsFigure(p, pa, d, self.settings.min_n, self._population(slc))

    def nps_by(self, period: Period, by: str, slc: Slice = ALL) -> list[tuple]:
        """[(key, NpsFigure)], largest n first."""
        counts = self._nps_counts(period, slc, by)
        figures = [(key, f.NpsFigure(*c, min_n=self.settings.min_n)) for key, c in counts.items()]
        return sorted(figures, key=lambda kf: (-kf[1].n, str(kf[0])))

    def nps_trend(self, period: Period, slc: Slice = ALL, grain: str = "month") -> list[tuple[date, f.NpsFigure]]:
        """One NpsFigure per month (or quarter) of the period, empty ones included."""
        counts = self._nps_counts(period, slc, grain)
        steps = period.month_starts() if grain == "month" else period.quarter_starts()
        return [(step, f.NpsFigure(*counts.get(step, (0, 0, 0)), min_n=self.settings.min_n)) for step in steps]

    # --- Requests: response rate and time to answer ----------------------------------------------------

    def _request_counts(self, period: Period, slc: Slice, by: str | None) -> dict:
        figures: dict = defaultdict(RequestFigure)
        rolled, live = self._split(period, slc)
        if by is not None and by not in ("month", "quarter") and GROUPS[by][2] is None:
            rolled, live = None, period
        if rolled:
            queryset = MonthlyRollup.objects.for_org(self.organization).filter(
                slc.rollups(), month__gte=rolled.start, month__lt=rolled.end
            )
            aggregates = {
                "delivered": Coalesce(Sum("delivered"), 0),
                "answered": Coalesce(Sum("answered"), 0),
                "seconds": Coalesce(Sum("seconds_to_answer"), 0),
            }
            for row in self._grouped(queryset, by, 2, aggregates):
                fig = figures[row["key"]]
                fig.delivered += row["delivered"]
                fig.answered += row["answered"]
                fig.seconds += row["seconds"]
        if live:
            since, until = live.bounds(self.tz)
            queryset = self._requests().filter(slc.requests(), sent_at__gte=since, sent_at__lt=until)
            for row in self._grouped(queryset, by, 1, request_aggregates()):
                fig = figures[row["key"]]
                fig.delivered += row["delivered"]
                fig.answered += row["answered"]
                fig.seconds += int(row["waited"].total_seconds()) if row["waited"] else 0
        return figures

    def requests(self, period: Period, slc: Slice = ALL) -> RequestFigure:
        return self._request_counts(period, slc, None)[None]

    def requests_by(self, period: Period, by: str, slc: Slice = ALL) -> list[tuple]:
        figures = self._request_counts(period, slc, by)
        return sorted(figures.items(), key=lambda kv: (-kv[1].delivered, str(kv[0])))

    def requests_trend(self, period: Period, slc: Slice = ALL, grain: str = "month") -> list[tuple]:
        figures = self._request_counts(period, slc, grain)
        steps = period.month_starts() if grain == "month" else period.quarter_starts()
        return [(step, figures.get(step, RequestFigure())) for step in steps]

    # --- Accounts -----------------------------------------------------------------------------------

    def _latest_per_contact(self, period: Period, slc: Slice):
        """Each contact's latest scored response in the period (and slice)."""
        since, until = period.bounds(self.tz)
        base = self._responses().filter(slc.responses(), submitted_at__gte=since, submitted_at__lt=until)
        newer = base.filter(contact=OuterRef("contact")).filter(
            Q(submitted_at__gt=OuterRef("submitted_at"))
            | Q(submitted_at=OuterRef("submitted_at"), pk__gt=OuterRef("pk"))
        )
        return base.filter(~Exists(newer))

    def accounts(self, period: Period, slc: Slice = ALL, with_rows: bool = False) -> AccountFigures:
        """Account NPS by the organization's convention, and the revenue at risk: the period's revenue of clients
        whose account score is a detractor's (0-6) or whose latest response was a detractor.

        Per client, from each contact's latest response: every-response counts each such response; the
        per-client conventions give each client one vote, classified by the average score of its contacts (or
        of its decision makers, when any answered)."""
        since, until = period.bounds(self.tz)
        latest = self._latest_per_contact(period, slc)
        last_score = (
            self._responses()
            .filter(client=OuterRef("client"), submitted_at__gte=since, submitted_at__lt=until)
            .filter(slc.responses())
            .order_by("-submitted_at", "-pk")
            .values("nps_score")[:1]
        )
        revenue = (
            Revenue.objects.for_org(self.organization)
            .filter(client=OuterRef("client"), month__gte=month_start(period.start), month__lt=period.end)
            .values("client")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        convention = self.settings.account_convention
        average = Avg("nps_score")
        if convention == MetricsSettings.AccountConvention.DECISION_MAKER_FIRST:
            score = Coalesce(Avg("nps_score", filter=Q(contact_kind=Contact.Kind.DECISION_MAKER)), average)
        else:
            score = average
        per_client = (
            latest.values("client")
            .annotate(
                p=Count("pk", filter=CATEGORY_Q["promoter"]),
                pa=Count("pk", filter=CATEGORY_Q["passive"]),
                d=Count("pk", filter=CATEGORY_Q["detractor"]),
                score=score,
                last=Subquery(last_score),
                revenue=Coalesce(Subquery(revenue, output_field=DecimalField()), ZERO, output_field=DecimalField()),
                latest_at=Max("submitted_at"),
            )
            .annotate(
                category=Case(
                    When(score__gte=f.PROMOTER_MIN, then=Value("promoter")),
                    When(score__gte=f.PASSIVE_MIN, then=Value("passive")),
                    default=Value("detractor"),
                ),
                at_risk=Case(
                    When(Q(score__lt=f.PASSIVE_MIN) | Q(last__lt=f.PASSIVE_MIN), then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                ),
            )
            .order_by()
        )
        if convention == MetricsSettings.AccountConvention.EVERY_RESPONSE:
            votes = {f"n_{short}": Sum(short) for short in SHORT.values()}
        else:
            votes = {f"n_{SHORT[cat]}": Count("client", filter=Q(category=cat)) for cat in CATEGORIES}
        # Aggregate names differ from the annotations they read: Django resolves a name to the newer one.
        totals = per_client.aggregate(
            **votes,
            n_clients=Count("client"),
            n_at_risk=Sum("at_risk"),
            n_revenue_at_risk=Sum("revenue", filter=Q(at_risk=1)),
        )
        figures = AccountFigures(
            convention=convention,
            promoters=totals["n_p"] or 0,
            passives=totals["n_pa"] or 0,
            detractors=totals["n_d"] or 0,
            clients=totals["n_clients"],
            clients_at_risk=totals["n_at_risk"] or 0,
            revenue_at_risk=totals["n_revenue_at_risk"] or ZERO,
            min_n=self.settings.min_n,
        )
        if with_rows:
            figures.rows = list(
                per_client.annotate(name=F("client__name")).order_by("-at_risk", "-revenue", "name")[:500]
            )
        return figures

    def account_trend(self, period: Period, client_id: int, grain: str = "quarter") -> list[tuple]:
        """A client's NPS per quarter (or month) over each contact's latest response in it."""
        trunc = TruncQuarter if grain == "quarter" else TruncMonth
        since, until = period.bounds(self.tz)
        base = (
            self._responses()
            .filter(client_id=client_id, submitted_at__gte=since, submitted_at__lt=until)
            .annotate(step=trunc("submitted_at", tzinfo=self.tz))
        )
        newer = base.filter(contact=OuterRef("contact"), step=OuterRef("step")).filter(
            Q(submitted_at__gt=OuterRef("submitted_at"))
            | Q(submitted_at=OuterRef("submitted_at"), pk__gt=OuterRef("pk"))
        )
        rows = base.filter(~Exists(newer)).values("step").annotate(**category_counts()).order_by()
        counts = {self._key(r["step"]): (r["p"], r["pa"], r["d"]) for r in rows}
        population = self._population(Slice(client_id=client_id))
        steps = period.quarter_starts() if grain == "quarter" else period.month_starts()
        return [
            (s, f.NpsFigure(*counts.get(s, (0, 0, 0)), self.settings.min_n, population, one_per_person=True))
            for s in steps
        ]

    def responses_by_contact(self, period: Period, client_id: int) -> list[dict]:
        """Per contact: n, average, last_at, the category counts, and `kind` as the pages name it."""
        since, until = period.bounds(self.tz)
        rows = list(
            self._responses()
            .filter(client_id=client_id, submitted_at__gte=since, submitted_at__lt=until)
            .values("contact_id", "contact__name", "contact__kind")
            .annotate(
                n=Count("pk"),
                average=Avg("nps_score"),
                last_at=Max("submitted_at"),
                **category_counts(),
            )
            .order_by("contact__name")
        )
        for row in rows:
            row["kind"] = Contact.Kind(row["contact__kind"]).label
        return rows

    # --- Revenue -------------------------------------------------------------------------------------

    def _revenue_records(self, slc: Slice):
        return Revenue.objects.for_org(self.organization).filter(slc.clients("client__"))

    def revenue(self, period: Period, slc: Slice = ALL) -> RevenueFigures:
        """Revenue of the period against the period of the same length before it (see formulas)."""
        period = Period.months(period.start, period.last_day)
        previous = period.previous()
        return self.revenue_series([previous, period], slc)[-1]

    def revenue_series(self, periods: list[Period], slc: Slice = ALL) -> list[RevenueFigures]:
        """RevenueFigures for consecutive periods, each against the one before it, in ONE query: revenue per
        client per period in an inner grouped query, the comparisons as filtered sums over it. The first
        period only serves as the base of the second."""
        first = periods[0].start
        records = self._revenue_records(slc).filter(month__gte=first, month__lt=periods[-1].end)
        columns = {
            f"r{i}": Coalesce(
                Sum("amount", filter=Q(month__gte=p.start, month__lt=p.end)), ZERO, output_field=DecimalField()
            )
            for i, p in enumerate(periods)
        }
        earlier = Revenue.objects.for_org(self.organization).filter(client=OuterRef("client"), amount__gt=0)
        per_client = records.values("client").annotate(**columns)
        for i, p in enumerate(periods):
            per_client = per_client.annotate(**{f"seen{i}": Exists(earlier.filter(month__lt=p.start))})
        aggregates = {}
        for i in range(1, len(periods)):
            base, cur = F(f"r{i - 1}"), F(f"r{i}")
            had, has = Q(**{f"r{i - 1}__gt": 0}), Q(**{f"r{i}__gt": 0})
            money = {"output_field": DecimalField()}
            aggregates |= {
                f"base{i}": Sum(f"r{i - 1}"),
                f"current{i}": Sum(f"r{i}"),
                f"churned{i}": Sum(f"r{i - 1}", filter=had & ~has),
                f"contraction{i}": Sum(ExpressionWrapper(base - cur, **money), filter=has & Q(**{f"r{i}__lt": base})),
                f"expansion{i}": Sum(ExpressionWrapper(cur - base, **money), filter=had & Q(**{f"r{i}__gt": base})),
                f"start{i}": Count("client", filter=had),
                f"lost{i}": Count("client", filter=had & ~has),
                f"active{i}": Count("client", filter=has),
                f"new{i}": Count("client", filter=has & Q(**{f"seen{i}": False})),
                f"new_revenue{i}": Sum(f"r{i}", filter=has & Q(**{f"seen{i}": False})),
            }
        totals = per_client.order_by().aggregate(**aggregates) if aggregates else {}
        result = []
        for i in range(1, len(periods)):
            result.append(
                RevenueFigures(
                    period=periods[i],
                    base=totals[f"base{i}"] or ZERO,
                    current=totals[f"current{i}"] or ZERO,
                    churned=totals[f"churned{i}"] or ZERO,
                    contraction=totals[f"contraction{i}"] or ZERO,
                    expansion=totals[f"expansion{i}"] or ZERO,
                    clients_at_start=totals[f"start{i}"],
                    clients_lost=totals[f"lost{i}"],
                    clients_active=totals[f"active{i}"],
                    new_clients=totals[f"new{i}"],
                    new_revenue=totals[f"new_revenue{i}"] or ZERO,
                    gross_margin=self.settings.gross_margin,
                )
            )
        return result

    def revenue_trend(self, period: Period, slc: Slice = ALL) -> list[RevenueFigures]:
        """Quarter by quarter (each against the quarter before), over the period's complete quarters: a quarter
        still running would look like a loss."""
        quarters = [Period(q, add_months(q, 3)) for q in period.quarter_starts() if add_months(q, 3) <= period.end]
        if not quarters:
            return []
        before = Period(add_months(quarters[0].start, -3), quarters[0].start)
        return self.revenue_series([before, *quarters], slc)

    def revenue_by_month(self, period: Period, slc: Slice = ALL) -> list[tuple[date, Decimal]]:
        rows = dict(
            self._revenue_records(slc)
            .filter(month__gte=period.start, month__lt=period.end)
            .values("month")
            .annotate(total=Sum("amount"))
            .values_list("month", "total")
            .order_by()
        )
        return [(m, rows.get(m, ZERO)) for m in period.month_starts()]

    # --- Proposals -----------------------------------------------------------------------------------

    def proposals(self, period: Period, slc: Slice = ALL) -> dict:
        """Submitted in the period; won and lost among those decided in the period."""
        q = Q(unit__in=slc._units()) if slc.unit_id else Q()
        if slc.client_id:
            q &= Q(client_id=slc.client_id)
        submitted_in = Q(submitted_on__gte=period.start, submitted_on__lt=period.end)
        decided_in = Q(decided_on__gte=period.start, decided_on__lt=period.end)
        totals = (
            ProposalRecord.objects.for_org(self.organization)
            .filter(q)
            .filter(submitted_in | decided_in)
            .aggregate(
                submitted=Count("pk", filter=submitted_in),
                won=Count("pk", filter=decided_in & Q(outcome=ProposalRecord.Outcome.WON)),
                lost=Count("pk", filter=decided_in & Q(outcome=ProposalRecord.Outcome.LOST)),
                won_value=Sum("value", filter=decided_in & Q(outcome=ProposalRecord.Outcome.WON)),
            )
        )
        totals["win_rate"] = f.win_rate(totals["won"], totals["won"] + totals["lost"])
        return totals

    # --- Follow-up cases and behaviors ---------------------------------------------------------------

    def cases(self, slc: Slice = ALL) -> dict:
        """Open and overdue follow-up cases now."""
        q = slc.clients("client__")
        if slc.project_manager_id:
            q &= Q(project__project_manager_id=slc.project_manager_id)
        if slc.project_id:
            q &= Q(project_id=slc.project_id)
        open_q = ~Q(state=FollowUpCase.State.RESOLVED)
        return (
            FollowUpCase.objects.for_org(self.organization)
            .filter(q, open_q)
            .aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=timezone.now())))
        )

    def cases_within_sla(self, period: Period) -> dict:
        """Of the cases opened in the period, the share resolved by their due time (feedback's own figure,
        so that it matches the feedback pages): {"total", "within", "rate" (%)}."""
        from feedback.selectors import cases_closed_within_sla

        since, until = period.bounds(self.tz)
        result = cases_closed_within_sla(self.organization, since, until)
        return {"total": result["total"], "within": result["within"], "rate": percent(result["share"])}

    def participation(self, period: Period, slc: Slice = ALL) -> dict:
        """Share of active projects with a request sent in the period, and of their project managers who sent
        a batch in it."""
        since, until = period.bounds(self.tz)
        sent = self._requests().filter(sent_at__gte=since, sent_at__lt=until)
        q = slc.clients("client__")
        if slc.project_manager_id:
            q &= Q(project_manager_id=slc.project_manager_id)
        projects = (
            Project.objects.for_org(self.organization)
            .filter(q, status=Project.Status.ACTIVE)
            .annotate(asked=Exists(sent.filter(project=OuterRef("pk"))))
            .aggregate(total=Count("pk"), n_asked=Count("pk", filter=Q(asked=True)))
        )
        managers = (
            Membership.objects.for_org(self.organization)
            .active()
            .filter(
                pk__in=Project.objects.for_org(self.organization).filter(q, status="active").values("project_manager")
            )
            .annotate(asked=Exists(sent.filter(batch__sender=OuterRef("pk"))))
            .aggregate(total=Count("pk"), n_asked=Count("pk", filter=Q(asked=True)))
        )
        return {
            "projects": projects["total"],
            "projects_asked": projects["n_asked"],
            "project_rate": f.ratio(projects["n_asked"], projects["total"]),
            "managers": managers["total"],
            "managers_asked": managers["n_asked"],
            "manager_rate": f.ratio(managers["n_asked"], managers["total"]),
        }

    def ideas_generated(self, period: Period) -> int | None:
        try:
            from initiatives.selectors import ideas_generated
        except ImportError:
            return None
        since, until = period.bounds(self.tz)
        return ideas_generated(self.organization, since, until)

    def acknowledgment(self, unit_id: int | None = None) -> dict | None:
        try:
            from charters.selectors import acknowledgment_rate
        except ImportError:
            return None
        unit = Unit.objects.for_org(self.organization).filter(pk=unit_id).first() if unit_id else None
        result = acknowledgment_rate(self.organization, unit=unit)
        return {**result, "rate": percent(result["rate"])}

    def callouts(self, period: Period) -> dict | None:
        try:
            from charters.selectors import callout_counts
        except ImportError:
            return None
        since, until = period.bounds(self.tz)
        return callout_counts(self.organization, since=since, until=until)

    def adoption(self) -> dict:
        """Each quarter's assessment: overall score (0-100), score per dimension, respondents; latest last."""
        rows = (
            AdoptionAnswer.objects.for_org(self.organization)
            .filter(response__submitted_at__isnull=False)
            .values("response__survey__quarter", "dimension")
            .annotate(average=Avg("score"), n=Count("response", distinct=True))
            .order_by("response__survey__quarter")
        )
        quarters: dict = {}
        for row in rows:
            entry = quarters.setdefault(row["response__survey__quarter"], {"dimensions": {}, "respondents": 0})
            entry["dimensions"][row["dimension"]] = adoption.to_score(row["average"])
            entry["respondents"] = max(entry["respondents"], row["n"])
        labels = dict(adoption.DIMENSION_CHOICES)
        trend = []
        for quarter, entry in quarters.items():
            scores = list(entry["dimensions"].values())
            trend.append(
                {
                    "quarter": quarter,
                    "label": f"{quarter.year} Q{(quarter.month - 1) // 3 + 1}",
                    "score": sum(scores) / len(scores),
                    "respondents": entry["respondents"],
                    "dimensions": [(labels[k], entry["dimensions"].get(k)) for k in labels],
                }
            )
        return {"trend": trend, "latest": trend[-1] if trend else None}

    def adoption_invited(self) -> dict:
        latest = (
            AdoptionResponse.objects.for_org(self.organization)
            .values("survey_id")
            .annotate(invited=Count("pk"), answered=Count("pk", filter=Q(submitted_at__isnull=False)))
            .order_by("-survey__quarter")
            .first()
        )
        return latest or {"invited": 0, "answered": 0}

    # --- One figure by key (targets, the API, the executive summary) --------------------------------

    def value(self, key: str, period: Period, slc: Slice = ALL):
        """The figure for a catalog metric, as a number (None when there is not enough data)."""
        if key == "nps":
            return self.nps(period, slc).score
        if key == "account_nps":
            return self.accounts(period, slc).figure.score
        if key == "response_rate":
            return self.requests(period, slc).rate
        if key == "revenue_at_risk":
            return self.accounts(period, slc).revenue_at_risk
        if key in ("net_revenue_retention", "gross_revenue_churn", "new_clients", "client_lifetime_value"):
            figures = self.revenue(period, slc)
            return {
                "net_revenue_retention": figures.net_retention,
                "gross_revenue_churn": figures.gross_churn,
                "new_clients": figures.new_clients,
                "client_lifetime_value": figures.lifetime_value,
            }[key]
        if key == "win_rate":
            return self.proposals(period, slc)["win_rate"]
        if key == "feedback_participation":
            return self.participation(period, slc)["project_rate"]
        if key == "pm_participation":
            return self.participation(period, slc)["manager_rate"]
        if key == "cases_within_sla":
            return self.cases_within_sla(period)["rate"]
        if key == "ideas_generated":
            return self.ideas_generated(period)
        if key == "charter_acknowledgment":
            result = self.acknowledgment(slc.unit_id)
            return result["rate"] if result else None
        if key == "adoption_score":
            latest = self.adoption()["latest"]
            return latest["score"] if latest else None
        raise KeyError(key)

    def targets(self):
        return (
            MetricTarget.objects.for_org(self.organization)
            .select_related("unit", "owner__user")
            .order_by("metric", "-starts_on")
        )


def request_aggregates() -> dict:
    waited = ExpressionWrapper(F("responded_at") - F("sent_at"), output_field=DurationField())
    answered = Q(responded_at__isnull=False)
    return {
        "delivered": Count("pk"),
        "answered": Count("pk", filter=answered),
        "waited": Sum(waited, filter=answered),
    }


def percent(share: float | None) -> float | None:
    """Other apps report rates as shares (0-1); pages show percentages."""
    return None if share is None else share * 100


def drilldown(organization, period: Period, slc: Slice = ALL, category: str = ""):
    """The responses behind a figure: the same period and slice, optionally one category."""
    tz = organization.tz
    since, until = period.bounds(tz)
    queryset = (
        Response.objects.for_org(organization)
        .filter(slc.responses(), submitted_at__gte=since, submitted_at__lt=until)
        .select_related("client", "contact", "project", "project_manager__user", "unit")
    )
    if category in CATEGORY_Q:
        queryset = queryset.filter(CATEGORY_Q[category])
    return queryset


# Themes in detractors' comments: a comment counts toward a theme when it contains one of its words.
THEMES = {
    "Communication": ["communicat", "inform", "update", "told", "kept us", "heard back", "email", "call"],
    "Responsiveness": ["slow", "respon", "wait", "reply", "replies", "chase", "chasing"],
    "Schedule": ["late", "delay", "schedule", "deadline", "behind", "missed"],
    "Cost and fees": ["cost", "fee", "budget", "invoice", "price", "expensive", "change order"],
    "Quality": ["error", "mistake", "quality", "rework", "redo", "wrong", "coordination"],
    "Staffing": ["staff", "turnover", "new team", "junior", "handover", "replaced"],
}


def detractor_themes(organization, period: Period, slc: Slice = ALL, question: str = "reason") -> dict:
    """How many detractor comments (the answer to `question`) mention each theme, in ONE query."""
    queryset = drilldown(organization, period, slc, "detractor").exclude(**{f"answers__{question}": ""})
    text = f"answers__{question}__icontains"
    aggregates = {"commented": Count("pk", filter=Q(**{f"answers__{question}__isnull": False}))}
    for index, words in enumerate(THEMES.values()):
        match = Q()
        for word in words:
            match |= Q(**{text: word})
        aggregates[f"t{index}"] = Count("pk", filter=match)
    totals = queryset.order_by().aggregate(**aggregates)
    themes = [
        {"theme": name, "count": totals[f"t{i}"], "words": words} for i, (name, words) in enumerate(THEMES.items())
    ]
    themes.sort(key=lambda t: -t["count"])
    return {"commented": totals["commented"], "themes": themes}


def root_causes(organization, period: Period) -> list[dict]:
    since, until = period.bounds(organization.tz)
    labels = dict(FollowUpCase.RootCause.choices)
    rows = (
        FollowUpCase.objects.for_org(organization)
        .filter(created_at__gte=since, created_at__lt=until)
        .exclude(root_cause="")
        .values("root_cause")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    return [{"root_cause": labels.get(r["root_cause"], r["root_cause"]), "count": r["n"]} for r in rows]


def names(organization, model, ids) -> dict:
    """Labels for grouped keys (units, project managers, templates, clients) in one query."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    queryset = model.objects.for_org(organization).filter(pk__in=ids)
    if model is Membership:
        return {m.pk: m.user.display_name for m in queryset.select_related("user")}
    return {obj.pk: str(obj) for obj in queryset}
