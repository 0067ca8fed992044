"""The program's figures as pure functions: each takes counts or amounts that SQL already aggregated and
returns the figure. No database, no Django: `selectors` feeds them, and the tests check them against
hand-computed cases.

Conventions: percentages are returned on a 0-100 scale (NPS is a number of points in [-100, 100]);
a figure that is undefined for its inputs (a rate over nothing) is None, never 0, so that pages say "no data"
instead of showing a misleading zero.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

PROMOTER_MIN = 9  # 9-10
PASSIVE_MIN = 7  # 7-8; 0-6 are detractors
Z_95 = 1.96
DEFAULT_MIN_N = 5


def nps_category(score: int) -> str:
    """'promoter' (9-10), 'passive' (7-8) or 'detractor' (0-6) for a likelihood-to-recommend score."""
    if not 0 <= score <= 10:
        raise ValueError(f"An NPS score is 0-10, not {score}.")
    if score >= PROMOTER_MIN:
        return "promoter"
    return "passive" if score >= PASSIVE_MIN else "detractor"


def nps(promoters: int, passives: int, detractors: int) -> float | None:
    """Net Promoter Score: % promoters − % detractors, in points from −100 to 100. None without responses."""
    n = promoters + passives + detractors
    if n == 0:
        return None
    return 100.0 * (promoters - detractors) / n


def finite_population_correction(n: int, population: int | None) -> float:
    """√((N − n) / (N − 1)): how much less uncertain a sample is when it covers a known share of a small
    population (all of a client's contacts, say). 1 when the population is unknown; 0 when everyone answered.

    When n exceeds N (the same contacts answered more than once in the period) the responses are not a sample
    drawn without replacement from N, so no correction is applied (1): the safe, wider margin."""
    if population is None or n < 1 or n > population:
        return 1.0
    if population <= 1:
        return 0.0  # a population of one person who answered: nothing is unknown
    return math.sqrt((population - n) / (population - 1))


def nps_margin_of_error(
    promoters: int, passives: int, detractors: int, population: int | None = None, z: float = Z_95
) -> float | None:
    """The 95% margin of error of an NPS, in points.

    With shares p = promoters / n and d = detractors / n, the NPS (as a share) is p − d and the variance of
    its estimate is ((p + d) − (p − d)²) / n. The margin is z × 100 × √variance, times the finite-population
    correction when the population N is known. None without responses."""
    n = promoters + passives + detractors
    if n == 0:
        return None
    p, d = promoters / n, detractors / n
    variance = max(0.0, ((p + d) - (p - d) ** 2) / n)  # max(): float rounding can dip just below 0
    return z * 100.0 * math.sqrt(variance) * finite_population_correction(n, population)


def too_few(n: int, min_n: int = DEFAULT_MIN_N) -> bool:
    """Below the organization's minimum number of responses a slice is shown as "too few responses"."""
    return n < min_n


@dataclass(frozen=True)
class NpsFigure:
    """An NPS with everything a page needs to show it honestly."""

    promoters: int
    passives: int
    detractors: int
    min_n: int = DEFAULT_MIN_N
    population: int | None = None
    one_per_person: bool = False  # each response is a different person's (a contact's latest only)

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def census(self) -> bool:
        """Everybody the figure could hear from answered, once each: the score is exact, however few they
        are (a client with four contacts could otherwise never show one under a minimum of five)."""
        return self.one_per_person and bool(self.population) and self.n >= self.population

    @property
    def too_few(self) -> bool:
        return too_few(self.n, self.min_n) and not self.census

    @property
    def score(self) -> float | None:
        """The NPS, or None when there are too few responses to show one."""
        return None if self.too_few else nps(self.promoters, self.passives, self.detractors)

    @property
    def margin(self) -> float | None:
        if self.too_few:
            return None
        return nps_margin_of_error(self.promoters, self.passives, self.detractors, self.population)

    def share(self, count: int) -> float | None:
        return 100.0 * count / self.n if self.n else None

    def as_dict(self) -> dict:
        return {
            "nps": None if self.score is None else round(self.score, 1),
            "margin_of_error": None if self.margin is None else round(self.margin, 1),
            "n": self.n,
            "too_few": self.too_few,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
        }


def ratio(part, whole) -> float | None:
    """part / whole as a percentage; None when the whole is zero (a rate over nothing is not 0%)."""
    if not whole:
        return None
    return 100.0 * float(part) / float(whole)


def response_rate(responses: int, delivered: int) -> float | None:
    """Responses / requests delivered, in %."""
    return ratio(responses, delivered)


def win_rate(won: int, decided: int) -> float | None:
    """Proposals won / proposals decided (won or lost) in the period, in %. Pending proposals do not count:
    counting them as losses would punish a busy month."""
    return ratio(won, decided)


# --- Revenue ------------------------------------------------------------------------------------
# All revenue figures compare a client's revenue in the period with its revenue in the base period (the
# period of the same length just before). Clients with base revenue form the cohort; for them:
#   churned     = base revenue of clients with no revenue in the period (clients lost)
#   contraction = base − current, for clients whose revenue fell but did not stop
#   expansion   = current − base, for clients whose revenue grew
# New clients (no base revenue) are outside the cohort: their revenue is reported separately.


def gross_revenue_churn(base: Decimal, churned: Decimal, contraction: Decimal) -> float | None:
    """(churned + contraction) / base revenue, in %: the share of last period's revenue that was lost."""
    return ratio(churned + contraction, base)


def gross_revenue_retention(base: Decimal, churned: Decimal, contraction: Decimal) -> float | None:
    """(base − churned − contraction) / base, in %: revenue kept from existing clients, growth ignored.
    Never above 100%."""
    return ratio(base - churned - contraction, base)


def net_revenue_retention(base: Decimal, churned: Decimal, contraction: Decimal, expansion: Decimal) -> float | None:
    """(base − churned − contraction + expansion) / base, in %: existing clients' revenue now against then.
    Above 100% means growth from existing clients outweighed what was lost."""
    return ratio(base - churned - contraction + expansion, base)


def client_churn_rate(clients_lost: int, clients_at_start: int) -> float | None:
    """Clients lost / clients with revenue in the base period, in %."""
    return ratio(clients_lost, clients_at_start)


def client_lifetime_value(
    average_revenue_per_account: Decimal, gross_margin: Decimal, churn_rate_percent: float | None
) -> Decimal | None:
    """Average revenue per account × gross margin ÷ churn rate (all over the same period length).

    The expected lifetime of a client is 1 / churn rate periods, so this is the margin a client brings over
    its lifetime. Undefined (None) when no client was lost: the formula would divide by zero."""
    if not churn_rate_percent:
        return None
    churn = Decimal(str(churn_rate_percent)) / 100
    return (Decimal(average_revenue_per_account) * Decimal(gross_margin) / churn).quantize(Decimal("0.01"))
