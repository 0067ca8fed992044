"""The cost/benefit formulas against figures worked out by hand."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from initiatives import scoring, services
from initiatives.models import Criterion, Score, ScoringMethod, Status
from tests.initiatives.factories import make_initiative


def test_value_effort_by_hand():
    # (8 + 6) × 80% ÷ 10 = 14 × 0.8 / 10 = 1.12
    result = scoring.value_effort(8, 6, 80, Decimal("10"))
    assert result.value == Decimal("1.12")
    assert result.formula == "(benefit 8 + business value 6) × confidence 80% ÷ effort 10 person-days = 1.12"


def test_rice_by_hand():
    # 400 clients × impact 2 × 50% ÷ 20 person-days = 400 / 20 = 20
    result = scoring.rice(400, Decimal("2"), 50, Decimal("20"))
    assert result.value == Decimal("20")
    assert result.formula == "(reach 400 × impact 2 × confidence 50%) ÷ effort 20 person-days = 20"
    # 150 × 0.5 × 80% ÷ 7.5 = 60 / 7.5 = 8
    assert scoring.rice(150, Decimal("0.5"), 80, Decimal("7.5")).value == Decimal("8")


def test_weighted_by_hand():
    # (3×8 + 2×5 + 1×2) ÷ (3+2+1) = 36 / 6 = 6
    result = scoring.weighted([("Client impact", Decimal(3), 8), ("Revenue", Decimal(2), 5), ("Ease", Decimal(1), 2)])
    assert result.value == Decimal("6")
    assert result.formula == "(3×8 Client impact + 2×5 Revenue + 1×2 Ease) ÷ 6 = 6"
    # (1.5×7 + 0.5×3) ÷ 2 = 12 / 2 = 6; (1×1 + 2×0) ÷ 3 = 0.3333
    assert scoring.weighted([("A", Decimal("1.5"), 7), ("B", Decimal("0.5"), 3)]).value == Decimal("6")
    assert scoring.weighted([("A", Decimal(1), 1), ("B", Decimal(2), 0)]).value == Decimal("0.3333")


def test_zero_effort_and_empty_criteria_are_refused():
    with pytest.raises(ValueError, match="more than zero"):
        scoring.value_effort(5, 5, 50, 0)
    with pytest.raises(ValueError, match="at least one criterion"):
        scoring.weighted([])


@pytest.mark.parametrize(
    ("value", "effort", "quadrant"),
    [(15, 5, scoring.QUICK_WIN), (15, 30, scoring.BIG_BET), (4, 5, scoring.FILL_IN), (4, 30, scoring.MONEY_PIT)],
)
def test_quadrants(value, effort, quadrant):
    assert scoring.quadrant(value, effort, effort_split=10) == quadrant


def test_median():
    assert scoring.median([3, 1, 2]) == 2
    assert scoring.median([4, 1, 3, 2]) == Decimal("2.5")


@pytest.mark.django_db
def test_scores_follow_the_organization_method_and_are_recomputed_when_it_changes(org, owner):
    initiative = make_initiative(org, owner, Status.QUALIFIED)
    services.save_score(
        initiative=initiative,
        actor=owner,
        customer_benefit=8,
        business_value=6,
        cost=5000,
        effort_days=10,
        confidence=80,
        reach=400,
        impact=2,
    )
    score = Score.objects.get(initiative=initiative)
    assert (score.method, score.value) == (ScoringMethod.VALUE_EFFORT, Decimal("1.12"))
    services.set_scoring_method(organization=org, actor=owner, method=ScoringMethod.RICE)
    score.refresh_from_db()
    # 400 × 2 × 80% ÷ 10 = 64
    assert (score.method, score.value) == (ScoringMethod.RICE, Decimal("64"))
    assert "reach 400" in score.formula
    criterion = Criterion.objects.create(organization=org, name="Client impact", weight=2)
    services.set_scoring_method(organization=org, actor=owner, method=ScoringMethod.WEIGHTED)
    score.refresh_from_db()
    assert score.value == 0  # not scored on the new criterion yet
    services.save_score(
        initiative=initiative,
        actor=owner,
        customer_benefit=8,
        business_value=6,
        cost=5000,
        effort_days=10,
        criteria={criterion.pk: 9},
    )
    score.refresh_from_db()
    assert score.value == Decimal("9") and score.formula == "(2×9 Client impact) ÷ 2 = 9"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("effort_days", -3, "Effort must be more than zero"),
        ("effort_days", 0, "Effort must be more than zero"),
        ("effort_days", 250000, "not plausible"),
        ("cost", -10, "Cost must be zero or more"),
        ("cost", "1e12", "not plausible"),
        ("cost", "lots", "Enter a number"),
        ("customer_benefit", 11, "goes from 0 to 10"),
        ("confidence", 0, "goes from 1 to 100"),
        ("impact", "1.5", "Impact is one of"),
    ],
)
def test_negative_or_absurd_estimates_are_refused_and_nothing_changes(org, owner, field, value, message):
    initiative = make_initiative(org, owner, Status.QUALIFIED)
    values = {"customer_benefit": 5, "business_value": 5, "cost": 100, "effort_days": 4, field: value}
    with pytest.raises(ValidationError) as caught:
        services.save_score(initiative=initiative, actor=owner, **values)
    assert message in str(caught.value.message_dict[field])
    assert not Score.objects.filter(initiative=initiative).exists()


@pytest.mark.django_db
def test_weighted_method_needs_every_criterion_scored(org, owner):
    criterion = Criterion.objects.create(organization=org, name="Reputation", weight=1)
    services.set_scoring_method(organization=org, actor=owner, method=ScoringMethod.WEIGHTED)
    initiative = make_initiative(org, owner, Status.QUALIFIED)
    with pytest.raises(ValidationError) as caught:
        services.save_score(
            initiative=initiative, actor=owner, customer_benefit=5, business_value=5, cost=1, effort_days=1
        )
    assert f"criterion_{criterion.pk}" in caught.value.message_dict


@pytest.mark.django_db
def test_ideas_are_scored_only_once_qualified(org, owner):
    idea = make_initiative(org, owner)
    with pytest.raises(ValidationError, match="Qualify the idea before scoring"):
        services.save_score(initiative=idea, actor=owner, customer_benefit=5, business_value=5, cost=1, effort_days=1)
