"""Borda count and Kendall's W for any round: properties that must hold whatever the ballots, and comparisons
with reference implementations written differently from the code (pairwise wins for Borda, the mean Spearman
correlation for W)."""

from decimal import Decimal
from fractions import Fraction
from itertools import combinations
from math import floor

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initiatives import ranking

# The machine is shared: generous timing, so that a busy neighbour cannot fail a property.
robust = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def rounds(draw, min_items=2, max_items=7, min_ballots=1, max_ballots=9):
    """(items, ballots): a round's initiative ids, and ballots that each order all of them."""
    items = draw(st.lists(st.integers(1, 10_000), min_size=min_items, max_size=max_items, unique=True))
    ballots = draw(st.lists(st.permutations(items), min_size=min_ballots, max_size=max_ballots))
    return items, ballots


def reference_borda(ballots, items) -> dict:
    # A Borda point is a win over one item ranked lower on the same ballot.
    return {item: sum(len(ballot) - 1 - list(ballot).index(item) for ballot in ballots) for item in items}


def reference_ranking(ballots, items) -> list[tuple]:
    """Standard competition ranking: an item's rank is 1 + the number of items with strictly more points;
    ties are listed in the round's item order."""
    points = reference_borda(ballots, items)
    ordered = sorted(items, key=lambda item: (-points[item], items.index(item)))
    return [(item, points[item], 1 + sum(p > points[item] for p in points.values())) for item in ordered]


def spearman(a, b) -> Fraction:
    n = len(a)
    d2 = sum((a.index(item) - b.index(item)) ** 2 for item in a)
    return 1 - Fraction(6 * d2, n * (n * n - 1))


def reference_w(ballots) -> Decimal:
    """W from the mean Spearman correlation over all pairs of ballots: mean ρ = (mW − 1) / (m − 1), exactly,
    rounded half up to four places as the code stores it."""
    m = len(ballots)
    pairs = list(combinations(ballots, 2))
    mean_rho = sum(spearman(list(a), list(b)) for a, b in pairs) / len(pairs)
    w = (mean_rho * (m - 1) + 1) / m
    return Decimal(floor(w * 10_000 + Fraction(1, 2))) / 10_000


@robust
@given(rounds())
def test_every_permutation_is_an_accepted_ballot(round_):
    items, ballots = round_
    for ballot in ballots:
        ranking.check_ballot(ballot, items)


@robust
@given(rounds())
def test_borda_totals_are_n_choose_2_per_ballot(round_):
    items, ballots = round_
    n = len(items)
    assert sum(ranking.borda_points(ballots, items).values()) == len(ballots) * n * (n - 1) // 2


@robust
@given(rounds(min_items=1))
def test_borda_points_and_combined_ranking_match_the_reference(round_):
    items, ballots = round_
    assert ranking.borda_points(ballots, items) == reference_borda(ballots, items)
    assert ranking.combined_ranking(ballots, items) == reference_ranking(ballots, items)


@robust
@given(rounds(), st.randoms(use_true_random=False))
def test_the_order_ballots_arrive_in_changes_nothing(round_, random):
    items, ballots = round_
    shuffled = list(ballots)
    random.shuffle(shuffled)
    assert ranking.combined_ranking(shuffled, items) == ranking.combined_ranking(ballots, items)
    assert ranking.kendalls_w(shuffled, items) == ranking.kendalls_w(ballots, items)


@robust
@given(rounds(min_ballots=2))
def test_kendalls_w_is_between_0_and_1_and_matches_the_spearman_reference(round_):
    items, ballots = round_
    w = ranking.kendalls_w(ballots, items)
    assert Decimal(0) <= w <= Decimal(1)
    assert w == reference_w(ballots)


@robust
@given(st.lists(st.integers(1, 10_000), min_size=2, max_size=7, unique=True).flatmap(st.permutations), st.data())
def test_unanimous_ballots_give_w_1_and_the_ballot_order(ballot, data):
    items = sorted(ballot)
    m = data.draw(st.integers(2, 9), label="ballots")
    ballots = [list(ballot)] * m
    assert ranking.kendalls_w(ballots, items) == Decimal(1)
    n = len(items)
    # Everyone agrees: the combined ranking is that ballot, with distinct ranks 1..n.
    assert ranking.combined_ranking(ballots, items) == [(item, m * (n - 1 - i), i + 1) for i, item in enumerate(ballot)]


@robust
@given(st.lists(st.integers(1, 10_000), min_size=2, max_size=7, unique=True).flatmap(st.permutations))
def test_two_opposite_ballots_give_w_0_and_an_all_way_tie(ballot):
    items = sorted(ballot)
    ballots = [list(ballot), list(reversed(ballot))]
    assert ranking.kendalls_w(ballots, items) == Decimal(0)
    # Every item gets n − 1 points: all share rank 1, listed in the round's item order.
    n = len(items)
    assert ranking.combined_ranking(ballots, items) == [(item, n - 1, 1) for item in items]


@robust
@given(rounds(), st.data())
def test_adding_a_ballot_and_its_reverse_leaves_the_combined_order_unchanged(round_, data):
    items, ballots = round_
    extra = data.draw(st.permutations(items), label="extra ballot")
    before = ranking.combined_ranking(ballots, items)
    after = ranking.combined_ranking([*ballots, extra, list(reversed(extra))], items)
    n = len(items)
    assert [(item, rank) for item, _, rank in after] == [(item, rank) for item, _, rank in before]
    assert [points for _, points, _ in after] == [points + n - 1 for _, points, _ in before]


@robust
@given(rounds(min_ballots=0, max_ballots=1) | rounds(min_items=1, max_items=1))
def test_kendalls_w_is_undefined_below_two_ballots_or_two_items(round_):
    items, ballots = round_
    assert ranking.kendalls_w(ballots, items) is None


@robust
@given(rounds(min_ballots=2), st.randoms(use_true_random=False))
def test_renaming_the_items_changes_neither_points_nor_agreement(round_, random):
    items, ballots = round_
    new_ids = random.sample(range(20_000, 40_000), len(items))
    rename = dict(zip(items, new_ids, strict=True))
    renamed = [[rename[item] for item in ballot] for ballot in ballots]
    new_items = [rename[item] for item in items]
    assert ranking.kendalls_w(renamed, new_items) == ranking.kendalls_w(ballots, items)
    assert [(rename[i], p, r) for i, p, r in ranking.combined_ranking(ballots, items)] == ranking.combined_ranking(
        renamed, new_items
    )
