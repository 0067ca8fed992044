"""Combining stakeholders' rankings, as pure functions.

A ballot orders all of a round's items, most important first. Borda count gives an item n-1 points
for a first place, n-2 for a second, ... 0 for the last; the combined rank orders items by points
(equal points share a rank). Kendall's W measures how far the stakeholders agree: 1 when every
ballot is the same, 0 when the rankings cancel out."""

from collections.abc import Hashable, Sequence
from decimal import ROUND_HALF_UP, Decimal


class BallotError(ValueError):
    pass


def check_ballot(order: Sequence[Hashable], items: Sequence[Hashable]) -> None:
    """Refuse a ballot that is not an ordering of exactly the round's items, saying what is wrong."""
    expected = set(items)
    seen, repeated = set(), []
    for item in order:
        if item in seen:
            repeated.append(item)
        seen.add(item)
    missing, unknown = expected - seen, seen - expected
    problems = []
    if unknown:
        problems.append(f"{len(unknown)} item(s) are not in this round")
    if missing:
        problems.append(f"{len(missing)} item(s) of the round are missing")
    if repeated:
        problems.append(f"{len(repeated)} item(s) appear more than once")
    if problems:
        raise BallotError("Rank every initiative of the round exactly once: " + "; ".join(problems) + ".")


def borda_points(ballots: Sequence[Sequence[Hashable]], items: Sequence[Hashable]) -> dict:
    n = len(items)
    points = dict.fromkeys(items, 0)
    for ballot in ballots:
        for position, item in enumerate(ballot):
            points[item] += n - 1 - position
    return points


def combined_ranking(ballots: Sequence[Sequence[Hashable]], items: Sequence[Hashable]) -> list[tuple]:
    """[(item, points, rank)], best first. Ties share the better rank (1, 2, 2, 4) and keep `items` order."""
    points = borda_points(ballots, items)
    ordered = sorted(items, key=lambda item: -points[item])  # sorted() is stable: ties keep their order
    result, previous, rank = [], None, 0
    for index, item in enumerate(ordered, start=1):
        if points[item] != previous:
            rank, previous = index, points[item]
        result.append((item, points[item], rank))
    return result


def kendalls_w(ballots: Sequence[Sequence[Hashable]], items: Sequence[Hashable]) -> Decimal | None:
    """W = 12·S / (m²·(n³ − n)), S the sum of squared deviations of each item's rank sum from the
    mean rank sum m(n+1)/2. None when it is undefined (fewer than two ballots or two items)."""
    m, n = len(ballots), len(items)
    if m < 2 or n < 2:
        return None
    rank_sums = dict.fromkeys(items, 0)
    for ballot in ballots:
        for position, item in enumerate(ballot, start=1):
            rank_sums[item] += position
    mean = Decimal(m * (n + 1)) / 2
    s = sum((Decimal(total) - mean) ** 2 for total in rank_sums.values())
    w = 12 * s / (m * m * (n**3 - n))
    return w.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
