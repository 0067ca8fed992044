"""Metrics: the business data feedback does not hold (revenue per client per month, proposals), the
organization's metric settings and targets, alerts sent when a target is missed, the quarterly CX adoption
assessment, board reports, and the monthly rollups the dashboards read for past months."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from cxprogram.tenancy.models import Membership, TenantModel, Unit

from . import adoption, catalog


class MetricsSettings(TenantModel):
    """One row per organization; until it is saved, `selectors.settings_for` returns these defaults."""

    class AccountConvention(models.TextChoices):
        EVERY_RESPONSE = "every_response", "Every contact's latest response counts"
        AVERAGE_PER_CLIENT = "average_per_client", "One vote per client: the average of its contacts"
        DECISION_MAKER_FIRST = "decision_maker_first", "One vote per client: its decision makers first"

    min_n = models.PositiveSmallIntegerField(
        "minimum responses",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="A slice with fewer responses shows “too few responses” instead of a score.",
    )
    gross_margin = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.350"),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1"))],
        help_text="Share of revenue kept after direct costs (0.35 = 35%); used for client lifetime value.",
    )
    account_convention = models.CharField(
        "account NPS convention",
        max_length=24,
        choices=AccountConvention.choices,
        default=AccountConvention.EVERY_RESPONSE,
    )
    currency = models.CharField(max_length=3, default="USD")
    board_report_monthly = models.BooleanField(
        default=False, help_text="On the first of each month, mail last month's board report to the executives."
    )
    # Dashboards read months before this one from MonthlyRollup and later months live (see selectors).
    rollup_through = models.DateField(null=True, blank=True)
    rollups_refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "metrics settings"
        constraints = [models.UniqueConstraint(fields=["organization"], name="metricssettings_one_per_org")]

    def __str__(self):
        return f"Metrics settings of {self.organization_id}"


class RevenueRecord(TenantModel):
    """A client's revenue for one month (`month` is the first day of that month)."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered"
        IMPORT = "import", "CSV import"
        API = "api", "API"

    client = models.ForeignKey("feedback.Client", on_delete=models.CASCADE, related_name="revenue_records")
    month = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month", "client__name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "client", "month"], name="revenue_one_per_client_month"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="revenue_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["organization", "month"], name="revenue_org_month")]

    def __str__(self):
        return f"{self.client_id} {self.month:%Y-%m}: {self.amount}"


class ProposalRecord(TenantModel):
    """One proposal: submitted on a date, then won or lost (or still pending)."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    reference = models.CharField(max_length=60, help_text="Your proposal number; re-imports match on it.")
    title = models.CharField(max_length=200)
    client = models.ForeignKey("feedback.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    prospect = models.CharField(max_length=200, blank=True, help_text="The prospective client, if not yet a client.")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    submitted_on = models.DateField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    decided_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=RevenueRecord.Source.choices, default=RevenueRecord.Source.MANUAL)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_on", "reference"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "reference"], name="proposal_unique_reference"),
            models.CheckConstraint(
                condition=Q(outcome="pending", decided_on__isnull=True)
                | (~Q(outcome="pending") & Q(decided_on__isnull=False, decided_on__gte=F("submitted_on"))),
                name="proposal_decided_after_submitted",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "submitted_on"], name="proposal_org_submitted"),
            models.Index(fields=["organization", "decided_on"], name="proposal_org_decided"),
        ]

    def __str__(self):
        return f"{self.reference} · {self.title}"


class MetricTarget(TenantModel):
    """A target for one metric over a date range (optionally for one unit). The figure is measured from
    `starts_on` to today (or `ends_on`); beyond `warning` it is off target, between it and `target` it is a
    warning. The periodic evaluation stores the latest status here and alerts once per crossing."""

    class Status(models.TextChoices):
        UNKNOWN = "unknown", "Not enough data"
        ON_TARGET = "on_target", "On target"
        WARNING = "warning", "Near target"
        OFF_TARGET = "off_target", "Off target"

    SEVERITY = {Status.UNKNOWN: 0, Status.ON_TARGET: 0, Status.WARNING: 1, Status.OFF_TARGET: 2}

    metric = models.CharField(max_length=32, choices=catalog.CHOICES)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target = models.DecimalField(max_digits=14, decimal_places=2)
    warning = models.DecimalField(
        "warning threshold",
        max_digits=14,
        decimal_places=2,
        help_text="Between this and the target the metric is “near target”; beyond it, off target.",
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNKNOWN)
    last_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["metric", "starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="target_ends_after_start"),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="target_org_status")]

    def __str__(self):
        return f"{self.definition.label}: {self.target}"

    @property
    def definition(self) -> catalog.Metric:
        return catalog.get(self.metric)

    def status_for(self, value) -> str:
        if value is None:
            return self.Status.UNKNOWN
        value = Decimal(str(value))
        if self.definition.higher_is_better:
            if value >= self.target:
                return self.Status.ON_TARGET
            return self.Status.WARNING if value >= self.warning else self.Status.OFF_TARGET
        if value <= self.target:
            return self.Status.ON_TARGET
        return self.Status.WARNING if value <= self.warning else self.Status.OFF_TARGET


class MetricAlert(TenantModel):
    """A target's figure crossed into warning or off target. Created once per crossing (by a conditional
    update of the target's status); mailed once (`sent_at` is claimed by a conditional update)."""

    target = models.ForeignKey(MetricTarget, on_delete=models.CASCADE, related_name="alerts")
    status = models.CharField(max_length=12, choices=MetricTarget.Status.choices)
    previous_status = models.CharField(max_length=12, choices=MetricTarget.Status.choices)
    value = models.DecimalField(max_digits=16, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "created_at"], name="alert_org_created")]

    def __str__(self):
        return f"{self.target} → {self.status}"


class AdoptionSurvey(TenantModel):
    """One quarter's CX adoption assessment, sent by the CoE to every active member."""

    quarter = models.DateField(help_text="First day of the quarter it measures.")
    closes_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-quarter"]
        constraints = [models.UniqueConstraint(fields=["organization", "quarter"], name="adoption_one_per_quarter")]

    def __str__(self):
        return f"CX adoption assessment {self.quarter.year} Q{(self.quarter.month - 1) // 3 + 1}"

    @property
    def label(self) -> str:
        return f"{self.quarter.year} Q{(self.quarter.month - 1) // 3 + 1}"

    @property
    def is_open(self) -> bool:
        return timezone.localdate() <= self.closes_on


class AdoptionResponse(TenantModel):
    """A member's invitation to the assessment and, once submitted, their answers."""

    survey = models.ForeignKey(AdoptionSurvey, on_delete=models.CASCADE, related_name="responses")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    mailed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "survey", "membership"], name="adoption_one_per_member")
        ]

    def __str__(self):
        return f"{self.survey} · {self.membership_id}"


class AdoptionAnswer(TenantModel):
    response = models.ForeignKey(AdoptionResponse, on_delete=models.CASCADE, related_name="answers")
    dimension = models.CharField(max_length=16, choices=adoption.DIMENSION_CHOICES)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "response", "dimension"], name="adoption_answer_unique"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="adoption_score_1_5"),
        ]


class BoardReport(TenantModel):
    """The board report for a period, with the CoE's commentary. The PDF is rendered from live figures."""

    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day of the period.")
    commentary = models.TextField(blank=True, help_text="What the figures mean and what the CoE recommends.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "period_start", "period_end"], name="boardreport_unique"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="boardreport_end_after_start"),
        ]

    def __str__(self):
        return f"Board report {self.period_start:%b %Y} – {self.period_end:%b %Y}"


class MonthlyRollup(TenantModel):
    """Response and request counts per month and slice, recomputed by a periodic task so that dashboards of
    large organizations read thousands of rows instead of millions. Responses count in the month they were
    submitted; requests (delivered, answered, time to answer) in the month they were sent."""

    month = models.DateField()
    unit = models.ForeignKey(Unit, null=True, on_delete=models.CASCADE, related_name="+")
    project_manager = models.ForeignKey(Membership, null=True, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey("feedback.SurveyTemplate", null=True, on_delete=models.CASCADE, related_name="+")
    contact_kind = models.CharField(max_length=16, blank=True)
    promoters = models.PositiveIntegerField(default=0)
    passives = models.PositiveIntegerField(default=0)
    detractors = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    seconds_to_answer = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "month"], name="rollup_org_month")]
