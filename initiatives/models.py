"""The CX backlog: initiatives and how they are prioritized, decided, scheduled and followed through.

Rules that span rows (status flow, dependency cycles, strategy limits, ballots) live in services.py;
the models hold the data and the invariants a single row can check."""

from datetime import time
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cxprogram.core import dates
from cxprogram.tenancy.models import Membership, TenantModel, TenantQuerySet, Unit

# Sanity bounds for estimates: anything outside is a typo, not a plan.
MAX_PERSON_DAYS = Decimal("10000")
MAX_MONEY = Decimal("1000000000")


class ScoringMethod(models.TextChoices):
    VALUE_EFFORT = "value_effort", "Value / effort"
    RICE = "rice", "RICE"
    WEIGHTED = "weighted", "Weighted criteria"


class Program(TenantModel):
    """One row per organization: how initiatives are scored, the strategy limits, the board's rhythm."""

    scoring_method = models.CharField(max_length=20, choices=ScoringMethod.choices, default=ScoringMethod.VALUE_EFFORT)
    currency = models.CharField(max_length=3, default="USD")
    capacity_person_days_per_month = models.DecimalField(
        max_digits=9,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_PERSON_DAYS)],
        help_text="Person-days the change board may commit per calendar month. Empty: no limit.",
    )
    budget_per_quarter = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_MONEY)],
        help_text="Budget the change board may commit per fiscal quarter. Empty: no limit.",
    )
    limits_updated_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    limits_updated_at = models.DateTimeField(null=True, blank=True)
    # The board meets on the Nth <weekday> of each month (default: first Tuesday) at a local time.
    board_weekday = models.PositiveSmallIntegerField(
        default=1,
        choices=[(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday")],
    )
    board_week = models.PositiveSmallIntegerField(
        default=1, choices=[(1, "First"), (2, "Second"), (3, "Third"), (4, "Fourth")]
    )
    board_time = models.TimeField(default=time(10))
    agenda_lead_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="program_one_per_org")]

    def __str__(self):
        return f"Program settings of {self.organization}"


class CodeCounter(TenantModel):
    """The last initiative number handed out; locked with SELECT ... FOR UPDATE when taking the next one."""

    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="codecounter_one_per_org")]


class Domain(TenantModel):
    """An organization-defined area of CX work: onboarding, communication, billing, delivery..."""

    name = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="domain_unique_name")]

    def __str__(self):
        return self.name


class Criterion(TenantModel):
    """A criterion of the weighted scoring method, scored 0-10, with its weight."""

    name = models.CharField(max_length=80)
    weight = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["-weight", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="criterion_unique_name")]

    def __str__(self):
        return f"{self.name} (×{self.weight.normalize():f})"


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    QUALIFIED = "qualified", "Qualified"
    DECLINED = "declined", "Declined"
    MERGED = "merged", "Merged"
    RANKED = "ranked", "Ranked"
    APPROVED = "approved", "Approved"
    DEFERRED = "deferred", "Deferred"
    REJECTED = "rejected", "Rejected"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


CLOSED_STATUSES = frozenset({Status.DECLINED, Status.MERGED, Status.REJECTED, Status.DONE, Status.CANCELLED})
# Waiting for the change board's decision.
BOARD_STATUSES = frozenset({Status.QUALIFIED, Status.RANKED, Status.DEFERRED})
# Decided and being delivered.
DELIVERY_STATUSES = frozenset({Status.APPROVED, Status.SCHEDULED, Status.IN_PROGRESS})


class Source(models.TextChoices):
    STAFF_IDEA = "staff_idea", "Staff idea"
    CLIENT_FEEDBACK = "client_feedback", "Client feedback"
    STRATEGY = "strategy", "Strategy"
    CHANGE_BOARD = "change_board", "Change board"


class Horizon(models.TextChoices):
    SHORT = "short", "Short term"
    MID = "mid", "Mid term"
    LONG = "long", "Long term"


class Health(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"


class InitiativeQuerySet(TenantQuerySet):
    def open(self):
        return self.exclude(status__in=CLOSED_STATUSES)


class Initiative(TenantModel):
    number = models.PositiveIntegerField(editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.SET_NULL, related_name="initiatives")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF_IDEA)
    source_reference = models.CharField(max_length=255, blank=True, help_text="Where it came from, in words.")
    response = models.ForeignKey(
        "feedback.Response", null=True, blank=True, on_delete=models.SET_NULL, related_name="initiatives"
    )
    case = models.ForeignKey(
        "feedback.FollowUpCase", null=True, blank=True, on_delete=models.SET_NULL, related_name="initiatives"
    )
    target_metrics = models.JSONField(default=list, blank=True, help_text="Charter metrics it aims to move.")
    submitted_by = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    owner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_initiatives"
    )
    team = models.ManyToManyField(Membership, through="TeamMember", related_name="initiatives", blank=True)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    horizon = models.CharField(max_length=10, choices=Horizon.choices, blank=True)
    target_start = models.DateField(null=True, blank=True)
    target_end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    status_note = models.TextField(blank=True, help_text="Why it was declined, deferred, rejected or cancelled.")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")
    priority = models.PositiveIntegerField(null=True, blank=True, help_text="1 is the most important.")
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.ON_TRACK)
    person_days = models.DecimalField(max_digits=9, decimal_places=1, null=True, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    dependencies = models.ManyToManyField(
        "self", through="Dependency", symmetrical=False, related_name="dependents", blank=True
    )

    objects = InitiativeQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="initiative_unique_number"),
            models.CheckConstraint(
                condition=Q(target_end__isnull=True)
                | Q(target_start__isnull=True)
                | Q(target_end__gte=models.F("target_start")),
                name="initiative_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="initiative_org_status")]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def code(self) -> str:
        return f"CX-{self.number:03d}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class TeamMember(TenantModel):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="team_members")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "initiative", "membership"], name="teammember_unique")
        ]


class Dependency(TenantModel):
    """`blocker` must finish before `initiative` can: initiative is blocked by blocker."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="blocked_by_links")
    blocker = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="blocks_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "initiative", "blocker"], name="dependency_unique"),
            models.CheckConstraint(condition=~Q(initiative=models.F("blocker")), name="dependency_not_self"),
        ]


class ChecklistItem(TenantModel):
    """One item of an initiative's definition of done."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["organization", "initiative"], name="checklist_org_initiative")]

    def __str__(self):
        return self.text

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Score(TenantModel):
    """The cost/benefit estimate of an initiative. `value` is computed with the organization's method
    when saved (and again when the method changes), so lists sort by it in SQL."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="scores")
    customer_benefit = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    business_value = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    cost = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    effort_days = models.DecimalField(max_digits=9, decimal_places=1)
    confidence = models.PositiveSmallIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Percent."
    )
    reach = models.PositiveIntegerField(default=0, help_text="Clients affected per quarter (RICE).")
    impact = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("1"), help_text="RICE impact.")
    method = models.CharField(max_length=20, choices=ScoringMethod.choices)
    value = models.DecimalField(max_digits=14, decimal_places=4)
    formula = models.CharField(max_length=400)
    scored_by = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "initiative"], name="score_one_per_initiative")]

    def __str__(self):
        return f"Score of {self.initiative}"

    @property
    def total_value(self) -> int:
        """The value axis of the 2×2: customer benefit plus business value (0-20)."""
        return self.customer_benefit + self.business_value


class CriterionScore(TenantModel):
    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="criterion_scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="+")
    value = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "score", "criterion"], name="criterionscore_unique")
        ]


class TimelineEvent(TenantModel):
    class Kind(models.TextChoices):
        STATUS = "status", "Status"
        NOTE = "note", "Note"
        UPDATE = "update", "Weekly update"
        SCORE = "score", "Score"
        DECISION = "decision", "Board decision"
        RANKING = "ranking", "Ranking"
        PLAN = "plan", "Plan"

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.CharField(max_length=500)
    actor = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "initiative", "created_at"], name="timeline_org_init_at")]


class HealthUpdate(TenantModel):
    """The owner's short weekly update: one per initiative per week (a second one that week replaces it)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="updates")
    week_of = models.DateField(help_text="The Monday of the week.")
    health = models.CharField(max_length=10, choices=Health.choices)
    text = models.TextField(max_length=2000)
    author = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_of"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "initiative", "week_of"], name="healthupdate_one_per_week")
        ]


class ActionItem(TenantModel):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="action_items")
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    overdue_reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["organization", "owner", "status"], name="actionitem_org_owner_status")]

    def __str__(self):
        return self.title

    @property
    def is_done(self) -> bool:
        return self.status == self.State.DONE


class RankingRound(TenantModel):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    title = models.CharField(max_length=200)
    opened_by = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    closes_at = models.DateTimeField()
    remind_at = models.DateTimeField(help_text="When stakeholders who have not voted are reminded.")
    reminded_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    agreement = models.DecimalField(
        max_digits=5, decimal_places=4, null=True, blank=True, help_text="Kendall's W, 0 to 1."
    )

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["organization", "state"], name="rankinground_org_state")]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class RankingItem(TenantModel):
    round = models.ForeignKey(RankingRound, on_delete=models.CASCADE, related_name="items")
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="+")
    points = models.PositiveIntegerField(null=True, blank=True, help_text="Borda points when closed.")
    combined_rank = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["combined_rank", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "round", "initiative"], name="rankingitem_unique")
        ]


class Stakeholder(TenantModel):
    round = models.ForeignKey(RankingRound, on_delete=models.CASCADE, related_name="stakeholders")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    invited_at = models.DateTimeField(null=True, blank=True, help_text="When the opening mail went out.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "round", "membership"], name="stakeholder_unique")
        ]


class Ballot(TenantModel):
    """One stakeholder's ordering of the round's initiatives (ids, most important first)."""

    round = models.ForeignKey(RankingRound, on_delete=models.CASCADE, related_name="ballots")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    order = models.JSONField()
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "round", "membership"], name="ballot_unique")]


class BoardMember(TenantModel):
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "membership"], name="boardmember_unique")]


class Meeting(TenantModel):
    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        HELD = "held", "Held"

    scheduled_for = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED)
    agenda_built_at = models.DateTimeField(null=True, blank=True)
    agenda_mailed_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    minutes_mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_for"]
        constraints = [models.UniqueConstraint(fields=["organization", "scheduled_for"], name="meeting_unique_time")]

    def __str__(self):
        return f"Change board of {dates.local(self.scheduled_for, 'j F Y', self.organization.tz)}"

    @property
    def is_held(self) -> bool:
        return self.state == self.State.HELD


class AgendaItem(TenantModel):
    class Kind(models.TextChoices):
        NEW = "new", "To decide"
        DEFERRED = "deferred", "Deferred from an earlier board"
        AT_RISK = "at_risk", "In delivery, at risk"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "meeting", "initiative"], name="agendaitem_unique")
        ]


class Attendance(TenantModel):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "meeting", "membership"], name="attendance_unique")
        ]


class Decision(TenantModel):
    class Outcome(models.TextChoices):
        APPROVE = "approve", "Approved"
        DEFER = "defer", "Deferred"
        REJECT = "reject", "Rejected"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    deadline = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    person_days = models.DecimalField(max_digits=9, decimal_places=1, null=True, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.TextField(blank=True, help_text="The deferral note or the rejection reason.")
    override_reason = models.TextField(blank=True, help_text="Why the strategy limits were exceeded.")
    decided_by = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "meeting", "initiative"], name="decision_unique")
        ]


class DigestLog(TenantModel):
    """A weekly digest sent to one person: the row is the claim that makes the Monday mail go out once."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    week_of = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "membership", "week_of"], name="digestlog_once_a_week")
        ]
