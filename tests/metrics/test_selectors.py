"""The figures computed from the database, against counts worked out by hand in each test."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cxprogram.tenancy.models import Unit
from cxprogram.tenancy.permissions import Role
from feedback.models import FollowUpCase
from metrics import services
from metrics.models import MetricsSettings, ProposalRecord
from metrics.selectors import Metrics, Period, Slice, add_months, detractor_themes, drilldown
from tests.feedback.factories import make_client, make_contact
from tests.metrics.factories import Responses, add_revenue

pytestmark = pytest.mark.django_db

FEB = Period.months(date(2025, 2, 1), date(2025, 2, 1))


def at(day, hour=12):
    return datetime(2025, 2, day, hour, tzinfo=UTC)


@pytest.fixture
def world(org, member):
    """Two projects in February 2025.
    A (Buildings › Healthcare, PM Ann): 10, 9, 9 (an influencer), 8, 3 → 3 promoters, 1 passive, 1 detractor
    B (Infrastructure › Water, PM Ben): 10, 6, 5, 7, 2, 9 → 2 promoters, 1 passive, 3 detractors
    A also has 3 requests nobody answered."""
    buildings = Unit.objects.create(organization=org, name="Buildings")
    healthcare = Unit.objects.create(organization=org, name="Healthcare", parent=buildings)
    infrastructure = Unit.objects.create(organization=org, name="Infrastructure")
    water = Unit.objects.create(organization=org, name="Water", parent=infrastructure)
    ann, ben = member(Role.PROJECT_MANAGER), member(Role.PROJECT_MANAGER)
    builder = Responses(org, ann)
    a = builder.project(pm=ann, unit=healthcare, client=make_client(org, "Alpha Health", tags=["hospital", "key"]))
    b = builder.project(pm=ben, unit=water, client=make_client(org, "Bay Water"))
    for score, kind in [(10, "decision_maker"), (9, "decision_maker"), (9, "influencer"), (8, "user"), (3, "user")]:
        builder.add([score], project=a, kind=kind, submitted_at=at(10), comment="Late drawings" if score == 3 else "")
    builder.add([10, 6, 5, 7, 2, 9], project=b, submitted_at=at(12))
    builder.unanswered(3, a, sent_at=at(9))
    return {"org": org, "a": a, "b": b, "ann": ann, "ben": ben, "buildings": buildings, "healthcare": healthcare}


@pytest.fixture
def outsiders_everywhere(other_org, outsider):
    """Another organization with plenty of its own detractors, revenue and proposals in the same months."""
    builder = Responses(other_org, outsider)
    project = builder.project()
    builder.add([0, 0, 1, 2, 3, 10], project=project, submitted_at=at(11))
    builder.unanswered(5, project, sent_at=at(9))
    add_revenue(project.client, {"2025-01": 900, "2025-02": 1000})
    ProposalRecord.objects.create(
        organization=other_org,
        reference="O-1",
        title="Theirs",
        submitted_on=date(2025, 2, 3),
        outcome="won",
        decided_on=date(2025, 2, 20),
    )
    return other_org


def test_nps_with_n_and_margin_and_slices(world, outsiders_everywhere):
    metrics = Metrics(world["org"])
    overall = metrics.nps(FEB)
    # 5 promoters, 2 passives, 4 detractors of 11: (5 − 4) / 11 = 9.09; the other organization's six don't count
    assert (overall.promoters, overall.passives, overall.detractors) == (5, 2, 4)
    assert overall.score == pytest.approx(9.09, abs=0.01)
    # p = 5/11, d = 4/11: variance = (9/11 − (1/11)²) / 11 = .07363; 196 × √.07363 = 53.18
    assert overall.margin == pytest.approx(53.18, abs=0.01)
    # a top-level unit covers its sub-units: Buildings = project A = (3 − 1) / 5 = 40
    assert metrics.nps(FEB, Slice(unit_id=world["buildings"].pk)).score == pytest.approx(40)
    assert metrics.nps(FEB, Slice(project_manager_id=world["ben"].pk)).score == pytest.approx(-16.67, abs=0.01)
    assert metrics.nps(FEB, Slice(client_tag="hospital")).n == 5
    assert metrics.nps(FEB, Slice(client_tag="hosp")).n == 0  # a tag matches whole, not in part
    influencers = metrics.nps(FEB, Slice(contact_kind="influencer"))
    assert influencers.n == 1 and influencers.too_few and influencers.score is None


def test_too_few_follows_the_organization_setting(world):
    MetricsSettings.objects.create(organization=world["org"], min_n=6)
    metrics = Metrics(world["org"])
    assert metrics.nps(FEB, Slice(project_id=world["a"].pk)).too_few  # 5 < 6
    assert not metrics.nps(FEB, Slice(project_id=world["b"].pk)).too_few  # 6


def test_population_correction_for_one_client(world):
    metrics = Metrics(world["org"])
    figure = metrics.nps(FEB, Slice(client_id=world["a"].client_id))
    # project A's client has 8 contacts (5 answered, 3 did not): FPC = √(3/7)
    assert figure.population == 8
    plain = figure.margin / (3 / 7) ** 0.5
    assert plain == pytest.approx(1.96 * 100 * ((0.8 - 0.4**2) / 5) ** 0.5)


def test_breakdowns_and_trend(world):
    metrics = Metrics(world["org"])
    by_manager = dict(metrics.nps_by(FEB, "project_manager"))
    assert by_manager[world["ann"].pk].score == pytest.approx(40)
    assert by_manager[world["ben"].pk].n == 6
    by_top_unit = dict(metrics.nps_by(FEB, "top_unit"))
    assert by_top_unit[world["buildings"].pk].n == 5
    trend = metrics.nps_trend(Period.months(date(2025, 1, 1), date(2025, 3, 1)))
    assert [(step, fig.n) for step, fig in trend] == [
        (date(2025, 1, 1), 0),
        (date(2025, 2, 1), 11),
        (date(2025, 3, 1), 0),
    ]


def test_months_follow_the_organization_time_zone(org, owner):
    org.time_zone = "America/New_York"
    org.save()
    builder = Responses(org, owner)
    # 1 March 02:00 UTC is still 28 February in New York
    builder.add([10], submitted_at=datetime(2025, 3, 1, 2, tzinfo=UTC))
    trend = Metrics(org).nps_trend(Period.months(date(2025, 2, 1), date(2025, 3, 1)))
    assert [fig.n for _, fig in trend] == [1, 0]


def test_response_rate_and_time_to_answer(world, outsiders_everywhere):
    metrics = Metrics(world["org"])
    # 11 answered of 14 delivered (A: 5 of 8, B: 6 of 6); each answer came 2 days after its request
    overall = metrics.requests(FEB)
    assert (overall.answered, overall.delivered) == (11, 14)
    assert overall.rate == pytest.approx(78.57, abs=0.01)
    assert overall.hours_to_answer == pytest.approx(48)
    by_pm = dict(metrics.requests_by(FEB, "project_manager"))
    assert by_pm[world["ann"].pk].rate == pytest.approx(62.5)
    assert by_pm[world["ben"].pk].rate == pytest.approx(100)


def test_rollups_give_the_same_figures_and_say_how_fresh_they_are(world):
    org = world["org"]
    live = Metrics(org)
    expected = (live.nps(FEB).as_dict(), dict(live.nps_by(FEB, "top_unit")), live.requests(FEB).as_dict())
    services.refresh_rollups(org)
    rolled = Metrics(org)
    # every month up to the current one is rolled up
    assert rolled.settings.rollup_through == add_months(timezone.localdate().replace(day=1), 1)
    assert (
        rolled.nps(FEB).as_dict(),
        dict(rolled.nps_by(FEB, "top_unit")),
        rolled.requests(FEB).as_dict(),
    ) == expected
    assert rolled.nps(FEB, Slice(unit_id=world["buildings"].pk)).score == pytest.approx(40)
    # a late answer in February waits for the next refresh, which knows to start from February
    Responses(org, world["ann"]).add([0], project=world["a"], submitted_at=at(20))
    assert Metrics(org).nps(FEB).n == 11
    assert services.months_to_refresh(org) == date(2025, 2, 1)
    services.refresh_rollups(org, services.months_to_refresh(org))
    assert Metrics(org).nps(FEB).n == 12
    MetricsSettings.objects.filter(organization=org).update(rollups_refreshed_at=timezone.now() + timedelta(hours=1))
    assert services.months_to_refresh(org) is False
    # slices the rollups do not carry are always live
    assert Metrics(org).nps(FEB, Slice(project_id=world["a"].pk)).n == 6


@pytest.fixture
def accounts(org, owner):
    """Latest responses per contact in February (an earlier 2 from X's decision maker is superseded):
    X: DM 10, influencer 6, user 6          → average 7.33 (passive); decision makers: 10 (promoter)
    Y: DM 3, influencer 9                    → average 6 (detractor)
    Z: influencer 9, user 10                 → average 9.5 (promoter)
    W: influencer 10, user 9, then user 5    → average 8 (passive), but the latest response is a detractor
    Revenue in February: X 1000, Y 500, Z 300, W 200."""
    builder = Responses(org, owner)
    clients = {}
    plan = {
        "X": [("decision_maker", [(3, 2), (20, 10)]), ("influencer", [(5, 6)]), ("user", [(6, 6)])],
        "Y": [("decision_maker", [(4, 3)]), ("influencer", [(5, 9)])],
        "Z": [("influencer", [(7, 9)]), ("user", [(8, 10)])],
        "W": [("influencer", [(1, 10)]), ("user", [(2, 9)]), ("user", [(28, 5)])],
    }
    revenue = {"X": 1000, "Y": 500, "Z": 300, "W": 200}
    for name, contacts in plan.items():
        project = builder.project(client=make_client(org, name))
        clients[name] = project.client
        for kind, answers in contacts:
            person = make_contact(project.client, kind=kind)
            for day, score in answers:
                builder.add([score], project=project, contact=person, submitted_at=at(day))
        add_revenue(project.client, {"2025-02": revenue[name]})
    MetricsSettings.objects.create(organization=org, min_n=1)
    return clients


@pytest.mark.parametrize(
    ("convention", "counts", "score"),
    [
        # every contact's latest: promoters 1+1+2+2 = 6, detractors 2+1+0+1 = 4 of 10 → 20
        ("every_response", (6, 0, 4), 20.0),
        # one vote per client by average: Z promoter, X and W passive, Y detractor → (1 − 1) / 4 = 0
        ("average_per_client", (1, 2, 1), 0.0),
        # decision makers first: X promoter (10), Y detractor (3), Z promoter, W passive → (2 − 1) / 4 = 25
        ("decision_maker_first", (2, 1, 1), 25.0),
    ],
)
def test_account_nps_conventions(org, accounts, convention, counts, score):
    MetricsSettings.objects.filter(organization=org).update(account_convention=convention)
    figures = Metrics(org).accounts(FEB)
    assert (figures.promoters, figures.passives, figures.detractors) == counts
    assert figures.figure.score == pytest.approx(score)


def test_revenue_at_risk(org, accounts):
    figures = Metrics(org).accounts(FEB, with_rows=True)
    # Y's average is a detractor's (500), W's latest response was a detractor (200)
    assert figures.revenue_at_risk == Decimal(700)
    assert figures.clients_at_risk == 2
    at_risk = [row["name"] for row in figures.rows if row["at_risk"]]
    assert at_risk == ["Y", "W"]
    assert Metrics(org).value("revenue_at_risk", FEB) == Decimal(700)


def test_account_trend_and_responses_by_contact(org, accounts):
    metrics = Metrics(org)
    x = accounts["X"]
    trend = metrics.account_trend(Period.months(date(2025, 1, 1), date(2025, 6, 1)), x.pk)
    # Q1: X's contacts' latest: 10, 6, 6 → (1 − 2) / 3 = −33.3; Q2: nothing
    assert [(step, fig.n) for step, fig in trend] == [(date(2025, 1, 1), 3), (date(2025, 4, 1), 0)]
    assert trend[0][1].score == pytest.approx(-33.33, abs=0.01)
    rows = metrics.responses_by_contact(FEB, x.pk)
    assert sorted(row["n"] for row in rows) == [1, 1, 2]
    assert sorted(row["kind"] for row in rows) == ["Decision maker", "Influencer", "User"]  # as the page names them


@pytest.fixture
def revenue(org):
    """Q1 2025 → Q2 2025: A 100 → 120 (expansion 20), B 100 → 70 (contraction 30), C 50 → 0 (lost),
    D new in Q2 with 40, E back in Q2 with 60 after revenue in 2024 (neither new nor in the cohort)."""
    names = "ABCDE"
    clients = {n: make_client(org, f"Client {n}") for n in names}
    add_revenue(clients["A"], {"2025-01": 50, "2025-02": 50, "2025-04": 60, "2025-06": 60})
    add_revenue(clients["B"], {"2025-03": 100, "2025-05": 70})
    add_revenue(clients["C"], {"2025-01": 50})
    add_revenue(clients["D"], {"2025-05": 40})
    add_revenue(clients["E"], {"2024-06": 80, "2025-04": 60})
    MetricsSettings.objects.create(organization=org, gross_margin=Decimal("0.4"))
    return clients


def test_revenue_retention_from_records(org, revenue, outsiders_everywhere):
    q2 = Period.months(date(2025, 4, 1), date(2025, 6, 1))
    figures = Metrics(org).revenue(q2)
    assert (figures.base, figures.churned, figures.contraction, figures.expansion) == (250, 50, 30, 20)
    assert figures.gross_churn == pytest.approx(32)
    assert figures.gross_retention == pytest.approx(68)
    assert figures.net_retention == pytest.approx(76)
    assert (figures.clients_at_start, figures.clients_lost, figures.new_clients) == (3, 1, 1)
    assert figures.new_revenue == 40
    # 290 over 4 active clients = 72.50 per account; × 0.4 margin ÷ (1 of 3 lost) = 87.00
    assert figures.current == 290 and figures.revenue_per_account == Decimal("72.50")
    assert figures.lifetime_value == Decimal("87.00")
    trend = Metrics(org).revenue_trend(Period.months(date(2025, 1, 1), date(2025, 6, 1)))
    assert [t.period.start for t in trend] == [date(2025, 1, 1), date(2025, 4, 1)]
    assert trend[1].net_retention == pytest.approx(76)
    assert Metrics(org).value("net_revenue_retention", q2) == pytest.approx(76)


def test_win_rate(org):
    def proposal(ref, submitted, outcome="pending", decided=None):
        ProposalRecord.objects.create(
            organization=org, reference=ref, title=ref, submitted_on=submitted, outcome=outcome, decided_on=decided
        )

    proposal("1", date(2025, 4, 2), "won", date(2025, 5, 1))
    proposal("2", date(2025, 4, 3), "lost", date(2025, 4, 30))
    proposal("3", date(2025, 5, 3))
    proposal("4", date(2025, 3, 3), "won", date(2025, 4, 10))  # submitted before, won in the period
    proposal("5", date(2025, 1, 3), "lost", date(2025, 2, 10))  # entirely before
    figures = Metrics(org).proposals(Period.months(date(2025, 4, 1), date(2025, 6, 1)))
    # submitted 3; decided 3: won 2, lost 1 → 66.7%
    assert (figures["submitted"], figures["won"], figures["lost"]) == (3, 2, 1)
    assert figures["win_rate"] == pytest.approx(66.67, abs=0.01)


def test_cases_and_participation(world, member):
    org = world["org"]
    responses = drilldown(org, FEB, Slice(), "detractor")
    now = timezone.now()
    for i, response in enumerate(responses[:3]):
        FollowUpCase.objects.create(
            organization=org,
            response=response,
            client=response.client,
            project=response.project,
            trigger="detractor",
            due_at=now + timedelta(days=1 if i == 0 else -1),
            state="resolved" if i == 2 else "open",
            closed_at=now - timedelta(days=2) if i == 2 else None,
        )
    # 2 open (1 overdue); the resolved one does not count
    assert Metrics(org).cases() == {"open": 2, "overdue": 1}
    # projects A and B were asked in February; a third active project was not → 2 of 3.
    # Ann sent every batch; Ben (B's manager) and Cy (the third project's) sent none → 1 of 3.
    cy = member(Role.PROJECT_MANAGER)
    Responses(org, cy).project(pm=cy)
    figures = Metrics(org).participation(FEB)
    assert (figures["projects_asked"], figures["projects"]) == (2, 3)
    assert (figures["managers_asked"], figures["managers"]) == (1, 3)


def test_detractor_themes_count_keywords(world):
    Responses(world["org"], world["ann"]).add(
        [2, 4], project=world["b"], submitted_at=at(15), comment="Invoices were a surprise and replies were slow"
    )
    themes = {t["theme"]: t["count"] for t in detractor_themes(world["org"], FEB)["themes"]}
    # "Late drawings" (schedule); twice "invoices … slow" (cost and responsiveness)
    assert themes["Schedule"] == 1
    assert themes["Cost and fees"] == 2
    assert themes["Responsiveness"] == 2
    assert themes["Quality"] == 0


def test_another_organizations_data_never_counts(org, owner, outsiders_everywhere):
    metrics = Metrics(org)
    assert metrics.nps(FEB).n == 0
    assert metrics.requests(FEB).delivered == 0
    assert metrics.accounts(FEB).clients == 0
    revenue = metrics.revenue(FEB)
    assert revenue.current == 0 and revenue.base == 0
    assert metrics.proposals(FEB)["submitted"] == 0
    assert metrics.cases() == {"open": 0, "overdue": 0}
    assert metrics.participation(FEB)["projects"] == 0
    assert drilldown(org, FEB).count() == 0
    assert detractor_themes(org, FEB)["commented"] == 0
    services.refresh_rollups(org)
    assert Metrics(org).nps(FEB).n == 0
