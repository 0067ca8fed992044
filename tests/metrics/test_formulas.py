"""Every figure against cases worked out by hand (the arithmetic is in the comments), plus properties that must
hold for any input."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import formulas as f

counts = st.integers(min_value=0, max_value=100_000)
# The machine is shared: generous timing, so that a busy neighbour cannot fail a property.
robust = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("score", "category"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_category_boundaries(score, category):
    assert f.nps_category(score) == category


@pytest.mark.parametrize("score", [-1, 11])
def test_nps_category_rejects_out_of_range(score):
    with pytest.raises(ValueError):
        f.nps_category(score)


def test_nps_from_counts():
    # 50 promoters, 30 passives, 20 detractors: 50% − 20% = 30
    assert f.nps(50, 30, 20) == pytest.approx(30.0)
    # more detractors than promoters: (1 − 3) / 6 = −33.3
    assert f.nps(1, 2, 3) == pytest.approx(-33.333, abs=1e-3)
    assert f.nps(0, 0, 0) is None


def test_margin_of_error_by_hand():
    # p = .5, d = .2, n = 100: variance = (.7 − .3²) / 100 = .0061; 1.96 × 100 × √.0061 = 15.308
    assert f.nps_margin_of_error(50, 30, 20) == pytest.approx(15.308, abs=1e-3)
    # p = d = .5, n = 10: variance = (1 − 0) / 10 = .1; 1.96 × 100 × √.1 = 61.981
    assert f.nps_margin_of_error(5, 0, 5) == pytest.approx(61.981, abs=1e-3)
    # everyone a promoter: no spread, no margin
    assert f.nps_margin_of_error(10, 0, 0) == 0
    assert f.nps_margin_of_error(0, 0, 0) is None


def test_finite_population_correction_by_hand():
    # 100 responses out of 200 contacts: √(100 / 199) = .70888; 15.308 × .70888 = 10.852
    assert f.finite_population_correction(100, 200) == pytest.approx(0.70888, abs=1e-5)
    assert f.nps_margin_of_error(50, 30, 20, population=200) == pytest.approx(10.852, abs=1e-3)
    # everybody answered: the figure is the population's, exactly
    assert f.finite_population_correction(12, 12) == 0
    assert f.nps_margin_of_error(6, 3, 3, population=12) == 0
    # unknown population, or repeat answers (more responses than people): no correction
    assert f.finite_population_correction(100, None) == 1
    assert f.finite_population_correction(30, 20) == 1
    assert f.finite_population_correction(1, 1) == 0


def test_too_few_rule_hides_the_score_but_keeps_n():
    four = f.NpsFigure(promoters=3, passives=0, detractors=1, min_n=5)
    assert four.too_few and four.score is None and four.margin is None and four.n == 4
    five = f.NpsFigure(promoters=3, passives=1, detractors=1, min_n=5)
    # (3 − 1) / 5 = 40
    assert not five.too_few and five.score == pytest.approx(40.0)
    # an organization that sets a higher minimum sees the same five responses as too few
    assert f.NpsFigure(3, 1, 1, min_n=10).too_few
    assert four.as_dict() == {
        "nps": None,
        "margin_of_error": None,
        "n": 4,
        "too_few": True,
        "promoters": 3,
        "passives": 0,
        "detractors": 1,
    }


def test_every_contact_answering_once_is_an_exact_score_below_the_minimum():
    everyone = f.NpsFigure(2, 1, 0, min_n=5, population=3, one_per_person=True)
    # (2 − 0) / 3 = 66.7, and with the whole population answering there is nothing to estimate
    assert everyone.census and not everyone.too_few
    assert everyone.score == pytest.approx(66.67, abs=0.01) and everyone.margin == 0
    # three of four contacts, or three responses that may come from fewer people: still too few
    assert f.NpsFigure(2, 1, 0, min_n=5, population=4, one_per_person=True).too_few
    assert f.NpsFigure(2, 1, 0, min_n=5, population=3).too_few


def test_nps_figure_applies_the_population():
    figure = f.NpsFigure(50, 30, 20, population=200)
    assert figure.as_dict()["margin_of_error"] == 10.9  # 10.852 rounded to one decimal
    assert figure.share(figure.detractors) == pytest.approx(20.0)


def test_revenue_retention_with_expansion_contraction_churn_and_a_new_client():
    # Base period → this period: A 100 → 120 (expansion 20), B 100 → 70 (contraction 30),
    # C 50 → 0 (churned 50), D 0 → 40 (new: outside the cohort). Base revenue = 250.
    base, churned, contraction, expansion = Decimal(250), Decimal(50), Decimal(30), Decimal(20)
    # gross churn = (50 + 30) / 250 = 32%; retention = 170 / 250 = 68%; net = (250 − 80 + 20) / 250 = 76%
    assert f.gross_revenue_churn(base, churned, contraction) == pytest.approx(32.0)
    assert f.gross_revenue_retention(base, churned, contraction) == pytest.approx(68.0)
    assert f.net_revenue_retention(base, churned, contraction, expansion) == pytest.approx(76.0)
    # with big expansion net retention passes 100%: (250 − 80 + 130) / 250 = 120%
    assert f.net_revenue_retention(base, churned, contraction, Decimal(130)) == pytest.approx(120.0)
    assert f.net_revenue_retention(Decimal(0), Decimal(0), Decimal(0), Decimal(0)) is None


def test_client_lifetime_value_by_hand():
    # 10,000 a year per account × 40% margin ÷ 20% yearly churn = 20,000
    assert f.client_lifetime_value(Decimal(10000), Decimal("0.40"), 20.0) == Decimal("20000.00")
    # 1 of 3 clients lost: 33.33…%; 9,000 × .5 ÷ (1/3) = 13,500
    assert f.client_lifetime_value(Decimal(9000), Decimal("0.5"), f.client_churn_rate(1, 3)) == Decimal("13500.00")
    # nobody lost: a lifetime without end has no value to show
    assert f.client_lifetime_value(Decimal(10000), Decimal("0.40"), 0.0) is None
    assert f.client_lifetime_value(Decimal(10000), Decimal("0.40"), None) is None


def test_rates():
    assert f.win_rate(3, 8) == pytest.approx(37.5)
    assert f.win_rate(0, 0) is None
    assert f.response_rate(45, 120) == pytest.approx(37.5)
    assert f.client_churn_rate(2, 10) == pytest.approx(20.0)


@robust
@given(counts, counts, counts)
def test_nps_is_between_minus_and_plus_100(p, pa, d):
    score = f.nps(p, pa, d)
    if p + pa + d == 0:
        assert score is None
    else:
        assert -100 <= score <= 100


@robust
@given(counts, counts, counts, st.one_of(st.none(), st.integers(min_value=1, max_value=400_000)))
def test_margin_is_never_negative_and_never_grows_with_a_known_population(p, pa, d, population):
    margin = f.nps_margin_of_error(p, pa, d)
    corrected = f.nps_margin_of_error(p, pa, d, population=population)
    if p + pa + d == 0:
        assert margin is None and corrected is None
    else:
        assert 0 <= corrected <= margin + 1e-9
        # the widest possible spread is half promoters, half detractors: 1.96 × 100 × √(1/n)
        assert margin <= 196 / (p + pa + d) ** 0.5 + 1e-9


@robust
@given(st.integers(min_value=0, max_value=10_000), st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)))
def test_population_correction_is_between_0_and_1(n, population):
    assert 0 <= f.finite_population_correction(n, population) <= 1


@robust
@given(
    st.integers(min_value=1, max_value=10**7),
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=0, max_value=10**7),
)
def test_retention_identities(base, churned, contraction, expansion):
    churned = min(churned, base)
    contraction = min(contraction, base - churned)
    base, churned, contraction, expansion = map(Decimal, (base, churned, contraction, expansion))
    grr = f.gross_revenue_retention(base, churned, contraction)
    assert 0 <= grr <= 100
    assert grr + f.gross_revenue_churn(base, churned, contraction) == pytest.approx(100)
    assert f.net_revenue_retention(base, churned, contraction, expansion) >= grr - 1e-9
