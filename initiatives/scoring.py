"""The cost/benefit formulas, as pure functions: each returns the score and the formula written out
with the figures used, which the pages show next to every score."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Result:
    value: Decimal
    formula: str


def fmt(number) -> str:
    number = Decimal(number)
    return f"{number.normalize():f}" if number == number.to_integral() else f"{number.quantize(TWO_PLACES):f}"


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _positive_effort(effort_days) -> Decimal:
    effort = Decimal(effort_days)
    if effort <= 0:
        raise ValueError("Effort must be more than zero person-days.")
    return effort


def value_effort(customer_benefit: int, business_value: int, confidence: int, effort_days) -> Result:
    """(customer benefit + business value) × confidence ÷ effort in person-days."""
    effort = _positive_effort(effort_days)
    value = _rounded(Decimal(customer_benefit + business_value) * Decimal(confidence) / 100 / effort)
    formula = (
        f"(benefit {customer_benefit} + business value {business_value}) × confidence {confidence}% "
        f"÷ effort {fmt(effort)} person-days = {fmt(value)}"
    )
    return Result(value, formula)


def rice(reach: int, impact, confidence: int, effort_days) -> Result:
    """(reach × impact × confidence) ÷ effort in person-days."""
    effort = _positive_effort(effort_days)
    value = _rounded(Decimal(reach) * Decimal(impact) * Decimal(confidence) / 100 / effort)
    formula = (
        f"(reach {reach} × impact {fmt(impact)} × confidence {confidence}%) "
        f"÷ effort {fmt(effort)} person-days = {fmt(value)}"
    )
    return Result(value, formula)


def weighted(scores: list[tuple[str, Decimal, int]]) -> Result:
    """Σ(weight × score) ÷ Σ weight over the organization's criteria, each scored 0-10."""
    if not scores:
        raise ValueError("Define at least one criterion with a weight before scoring with weighted criteria.")
    total_weight = sum(Decimal(weight) for _, weight, _ in scores)
    if total_weight <= 0:
        raise ValueError("The criteria's weights must add up to more than zero.")
    value = _rounded(sum(Decimal(weight) * score for _, weight, score in scores) / total_weight)
    terms = " + ".join(f"{fmt(weight)}×{score} {name}" for name, weight, score in scores)
    formula = f"({terms}) ÷ {fmt(total_weight)} = {fmt(value)}"
    return Result(value, formula)


QUICK_WIN, BIG_BET, FILL_IN, MONEY_PIT = "Quick win", "Big bet", "Fill-in", "Money pit"
VALUE_SPLIT = 10  # half of the 0-20 value scale


def quadrant(value: int, effort_days, effort_split) -> str:
    """Where an initiative falls on the value-versus-effort 2×2. Effort is split at `effort_split`
    (the median effort of the initiatives shown), value at the middle of its 0-20 scale."""
    high_value = value >= VALUE_SPLIT
    low_effort = Decimal(effort_days) <= Decimal(effort_split)
    if high_value:
        return QUICK_WIN if low_effort else BIG_BET
    return FILL_IN if low_effort else MONEY_PIT


def median(numbers) -> Decimal:
    ordered = sorted(Decimal(n) for n in numbers)
    if not ordered:
        raise ValueError("No numbers to take the median of.")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
