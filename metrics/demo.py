"""Demo metrics for Harborview Design Group, after feedback's demo: 24 months of revenue per client (steady
accounts, growing and shrinking ones, clients lost and clients won), proposals, targets for the charter's
metrics, two quarters of the CX adoption assessment, and last month's board report. Then the targets are
evaluated, so every chart and tile has something to say. (A demo-sized organization is computed live: no
rollups.)"""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from cxprogram.tenancy.models import Unit
from feedback.models import Client

from . import adoption, services
from .models import (
    AdoptionAnswer,
    AdoptionResponse,
    AdoptionSurvey,
    BoardReport,
    MetricsSettings,
    MetricTarget,
    ProposalRecord,
    RevenueRecord,
)
from .selectors import add_months, month_start, quarter_start

MONTHS = 24
# How each account's revenue moves over the 24 months: (monthly base in thousands, trend per month, start, end)
# start/end are month indexes (0 = 24 months ago); None means the client is there throughout.
PROFILES = [
    (85, 0.012, None, None),  # growing
    (60, 0.0, None, None),  # steady
    (40, -0.02, None, None),  # shrinking
    (30, 0.0, None, 15),  # lost after 15 months
    (25, 0.03, 10, None),  # won 14 months ago
    (50, 0.005, None, None),
    (20, 0.0, 18, None),  # won 6 months ago
    (35, -0.01, None, 20),  # lost 4 months ago
]
TARGETS = [
    # metric, target, warning
    ("nps", 40, 30),
    ("response_rate", 45, 35),
    ("net_revenue_retention", 100, 95),
    ("gross_revenue_churn", 8, 12),
    ("win_rate", 40, 30),
    ("feedback_participation", 80, 60),
    ("cases_within_sla", 85, 70),
    ("adoption_score", 65, 50),
]
COMMENTARY = (
    "Client sentiment kept improving this month and the margin of error keeps narrowing as more project "
    "managers ask for feedback. Infrastructure's response rate still trails Buildings'; the CoE will pair its "
    "project managers with the two best-performing teams. Two detractor accounts carry most of the revenue at "
    "risk: both have open follow-up cases with owners and dates."
)


def seed(organization, people: dict) -> None:
    rng = random.Random(20260401)  # noqa: S311 (demo data)
    today = timezone.localdate(timezone=organization.tz)
    first = add_months(month_start(today), -(MONTHS - 1))
    MetricsSettings.objects.create(organization=organization, gross_margin=Decimal("0.38"), min_n=5)

    clients = list(Client.objects.for_org(organization).exclude(status=Client.Status.PROSPECT).order_by("pk"))
    revenue = []
    for index, client in enumerate(clients):
        base, trend, start, end = PROFILES[index % len(PROFILES)]
        base *= 1000 * (0.8 + rng.random() * 0.5)
        for month in range(MONTHS):
            if (start is not None and month < start) or (end is not None and month >= end):
                continue
            seasonal = 1 + 0.08 * ((month % 12) in (5, 6, 11))  # summer and year-end milestones
            amount = base * (1 + trend) ** month * seasonal * (0.85 + rng.random() * 0.3)
            revenue.append(
                RevenueRecord(
                    organization=organization,
                    client=client,
                    month=add_months(first, month),
                    amount=Decimal(amount).quantize(Decimal("1")),
                    source=RevenueRecord.Source.IMPORT,
                )
            )
    RevenueRecord.objects.bulk_create(revenue)

    units = list(Unit.objects.for_org(organization).filter(parent__isnull=False))
    proposals = []
    for number in range(1, 49):
        submitted = first + timedelta(days=int(number * (MONTHS * 30) / 50) + rng.randint(0, 10))
        decided = submitted + timedelta(days=rng.randint(20, 75))
        # Win rates improve as the program matures.
        chance = 0.3 + 0.25 * number / 48
        outcome = "pending" if decided > today else ("won" if rng.random() < chance else "lost")
        client = rng.choice(clients) if rng.random() < 0.6 else None
        proposals.append(
            ProposalRecord(
                organization=organization,
                reference=f"HDG-P{number:03d}",
                title=f"{rng.choice(['Feasibility study', 'Design services', 'Program management', 'Master plan'])}"
                f" {number}",
                client=client,
                prospect="" if client else rng.choice(["Oakridge Hospital", "Port Ellis", "Northshore ISD"]),
                unit=rng.choice(units) if units else None,
                value=Decimal(rng.randint(40, 900) * 1000),
                submitted_on=submitted,
                outcome=outcome,
                decided_on=None if outcome == "pending" else decided,
                source=RevenueRecord.Source.IMPORT,
            )
        )
    ProposalRecord.objects.bulk_create(proposals)

    year_start = today.replace(month=1, day=1)
    for metric, target, warning in TARGETS:
        MetricTarget.objects.create(
            organization=organization,
            metric=metric,
            target=Decimal(target),
            warning=Decimal(warning),
            starts_on=min(year_start, add_months(month_start(today), -5)),
            ends_on=year_start.replace(month=12, day=31),
            owner=people["cx_coe"],
        )

    members = list(people.values())
    this_quarter = quarter_start(today)
    for back, level in ((2, 2.9), (1, 3.4)):
        quarter = add_months(this_quarter, -3 * back)
        survey = AdoptionSurvey.objects.create(
            organization=organization,
            quarter=quarter,
            closes_on=add_months(quarter, 3) - timedelta(days=1),
            created_by=people["cx_coe"].user,
        )
        answers = []
        for member in members:
            response = AdoptionResponse.objects.create(
                organization=organization,
                survey=survey,
                membership=member,
                mailed_at=timezone.now() - timedelta(days=90 * back),
                submitted_at=timezone.now() - timedelta(days=90 * back - 3),
            )
            for offset, (key, _label) in enumerate(adoption.DIMENSION_CHOICES):
                score = round(level + (offset % 3 - 1) * 0.6 + rng.uniform(-0.8, 0.8))
                answers.append(
                    AdoptionAnswer(
                        organization=organization, response=response, dimension=key, score=max(1, min(5, score))
                    )
                )
        AdoptionAnswer.objects.bulk_create(answers)

    last_month = add_months(month_start(today), -1)
    BoardReport.objects.create(
        organization=organization,
        period_start=add_months(last_month, -2),
        period_end=month_start(today) - timedelta(days=1),
        commentary=COMMENTARY,
        created_by=people["cx_coe"].user,
    )
    services.evaluate_targets(organization)
