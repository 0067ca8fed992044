"""The metrics an organization can set targets on, each defined once: its label, how it is shown and which
direction is good. `selectors.metric_value` computes each of them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str  # "business" or "behavior"
    unit: str  # "points", "percent", "currency", "count", "score"
    higher_is_better: bool = True
    definition: str = ""

    def format(self, value, currency: str = "USD") -> str:
        if value is None:
            return "—"
        if self.unit == "points":
            return f"{value:+.0f}"
        if self.unit == "percent":
            return f"{value:.1f}%"
        if self.unit == "currency":
            return f"{currency} {value:,.0f}"
        if self.unit == "score":
            return f"{value:.0f}/100"
        return f"{value:,.0f}"


METRICS = [
    Metric(
        "nps",
        "Net Promoter Score",
        "business",
        "points",
        definition="% promoters (9-10) − % detractors (0-6) among responses in the period.",
    ),
    Metric(
        "account_nps",
        "Account NPS",
        "business",
        "points",
        definition="NPS over accounts: each client's contacts' latest responses, by the organization's convention.",
    ),
    Metric(
        "response_rate",
        "Response rate",
        "behavior",
        "percent",
        definition="Responses / survey requests delivered in the period.",
    ),
    Metric(
        "net_revenue_retention",
        "Net revenue retention",
        "business",
        "percent",
        definition="Revenue now from clients who had revenue in the previous period, against their revenue then.",
    ),
    Metric(
        "gross_revenue_churn",
        "Gross revenue churn",
        "business",
        "percent",
        higher_is_better=False,
        definition="Revenue lost to departed and shrinking clients / their revenue in the previous period.",
    ),
    Metric(
        "new_clients",
        "New clients earned",
        "business",
        "count",
        definition="Clients whose first revenue falls in the period.",
    ),
    Metric(
        "client_lifetime_value",
        "Client lifetime value",
        "business",
        "currency",
        definition="Average revenue per account × gross margin ÷ client churn rate.",
    ),
    Metric(
        "win_rate",
        "Proposal win rate",
        "business",
        "percent",
        definition="Proposals won / proposals decided in the period.",
    ),
    Metric(
        "revenue_at_risk",
        "Revenue at risk",
        "business",
        "currency",
        higher_is_better=False,
        definition="Revenue of the period from clients whose account NPS is in the detractor range or whose "
        "latest response was a detractor.",
    ),
    Metric(
        "feedback_participation",
        "Feedback participation",
        "behavior",
        "percent",
        definition="Share of active projects with a feedback request sent in the period.",
    ),
    Metric(
        "pm_participation",
        "Project managers asking for feedback",
        "behavior",
        "percent",
        definition="Share of project managers with active projects who sent a batch in the period.",
    ),
    Metric(
        "cases_within_sla",
        "Follow-up cases closed within SLA",
        "behavior",
        "percent",
        definition="Cases closed by their due time / cases closed in the period.",
    ),
    Metric(
        "ideas_generated",
        "CX ideas generated",
        "behavior",
        "count",
        definition="Initiatives submitted in the period.",
    ),
    Metric(
        "charter_acknowledgment",
        "Charter acknowledgment rate",
        "behavior",
        "percent",
        definition="Members who acknowledged the charter in force / active members.",
    ),
    Metric(
        "adoption_score",
        "CX adoption assessment",
        "behavior",
        "score",
        definition="Average maturity score (0-100) of the latest quarterly staff assessment.",
    ),
]

BY_KEY = {m.key: m for m in METRICS}
CHOICES = [(m.key, m.label) for m in METRICS]


def get(key: str) -> Metric:
    return BY_KEY[key]
