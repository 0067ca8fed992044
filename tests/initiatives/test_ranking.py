"""Borda count and Kendall's W against hand-computed cases, and the rules of ranking rounds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cxprogram.tenancy.permissions import Role
from initiatives import ranking, services
from initiatives.models import Ballot, RankingRound, Status
from tests.initiatives.factories import make_initiative

THREE_BALLOTS = [["A", "B", "C"], ["A", "C", "B"], ["B", "A", "C"]]


def test_borda_by_hand():
    # n = 3: first place 2 points, second 1, last 0. A: 2+2+1 = 5, B: 1+0+2 = 3, C: 0+1+0 = 1
    assert ranking.borda_points(THREE_BALLOTS, ["A", "B", "C"]) == {"A": 5, "B": 3, "C": 1}
    assert ranking.combined_ranking(THREE_BALLOTS, ["A", "B", "C"]) == [("A", 5, 1), ("B", 3, 2), ("C", 1, 3)]


def test_borda_ties_share_a_rank():
    # A: 1+0 = 1, B: 0+1 = 1 → both first
    assert ranking.combined_ranking([["A", "B"], ["B", "A"]], ["A", "B"]) == [("A", 1, 1), ("B", 1, 1)]
    # four items: A 3+3 = 6, B 2+1 = 3, C 1+2 = 3, D 0 → 1, 2, 2, 4
    ballots = [["A", "B", "C", "D"], ["A", "C", "B", "D"]]
    assert [r for _, _, r in ranking.combined_ranking(ballots, ["A", "B", "C", "D"])] == [1, 2, 2, 4]


def test_kendalls_w_perfect_agreement_is_one():
    ballots = [["A", "B", "C", "D"]] * 4
    assert ranking.kendalls_w(ballots, ["A", "B", "C", "D"]) == Decimal("1")


def test_kendalls_w_intermediate_case_by_hand():
    # Rank sums: A 1+1+2 = 4, B 2+3+1 = 6, C 3+2+3 = 8; mean m(n+1)/2 = 6; S = 4 + 0 + 4 = 8
    # W = 12·8 / (3²·(27 − 3)) = 96 / 216 = 0.4444
    assert ranking.kendalls_w(THREE_BALLOTS, ["A", "B", "C"]) == Decimal("0.4444")


def test_kendalls_w_opposite_rankings_is_zero_and_undefined_below_two_ballots():
    assert ranking.kendalls_w([["A", "B", "C"], ["C", "B", "A"]], ["A", "B", "C"]) == Decimal("0")
    assert ranking.kendalls_w([["A", "B"]], ["A", "B"]) is None


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (["A", "B"], "1 item(s) of the round are missing"),
        (["A", "B", "C", "X"], "1 item(s) are not in this round"),
        (["A", "A", "B", "C"], "1 item(s) appear more than once"),
    ],
)
def test_a_ballot_must_be_a_permutation(order, message):
    with pytest.raises(ranking.BallotError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ranking.check_ballot(order, ["A", "B", "C"])


@pytest.fixture
def round_setup(org, owner, member):
    stakeholders = [member(Role.EXECUTIVE), member(Role.UNIT_LEADER), member(Role.EXECUTIVE)]
    items = [make_initiative(org, owner, Status.QUALIFIED, title=t) for t in ("Alpha", "Bravo", "Charlie")]
    for item in items:
        services.save_score(initiative=item, actor=owner, customer_benefit=5, business_value=5, cost=1, effort_days=2)
    round_ = services.open_round(
        organization=org,
        actor=owner,
        title="Autumn priorities",
        initiatives=items,
        stakeholders=stakeholders,
        closes_at=timezone.now() + timedelta(days=7),
    )
    return round_, items, stakeholders


@pytest.mark.django_db
def test_closing_a_round_combines_ballots_and_sets_priorities(round_setup, owner):
    round_, (a, b, c), people = round_setup
    for person, order in zip(people, [[a, b, c], [a, c, b], [b, a, c]], strict=True):
        services.submit_ballot(round_=round_, actor=person, order=[i.pk for i in order])
    services.close_round(round_=round_, actor=owner)
    round_.refresh_from_db()
    assert round_.state == RankingRound.State.CLOSED and round_.agreement == Decimal("0.4444")
    results = {item.initiative_id: (item.points, item.combined_rank) for item in round_.items.all()}
    assert results == {a.pk: (5, 1), b.pk: (3, 2), c.pk: (1, 3)}
    for initiative, priority in ((a, 1), (b, 2), (c, 3)):
        initiative.refresh_from_db()
        assert (initiative.status, initiative.priority) == (Status.RANKED, priority)
        assert initiative.timeline.filter(text__contains="Combined rank").exists()


@pytest.mark.django_db
def test_ballot_errors_are_clear_and_change_nothing(round_setup, owner, member):
    round_, items, people = round_setup
    ids = [i.pk for i in items]
    with pytest.raises(ValidationError, match="not a stakeholder"):
        services.submit_ballot(round_=round_, actor=member(Role.STAFF), order=ids)
    with pytest.raises(ValidationError, match="missing"):
        services.submit_ballot(round_=round_, actor=people[0], order=ids[:2])
    other = make_initiative(round_.organization, owner, Status.QUALIFIED, title="Delta")
    with pytest.raises(ValidationError, match="not in this round"):
        services.submit_ballot(round_=round_, actor=people[0], order=[*ids, other.pk])
    with pytest.raises(ValidationError, match="list of initiative ids"):
        services.submit_ballot(round_=round_, actor=people[0], order=["first", "second"])
    assert not Ballot.objects.filter(round=round_).exists()
    services.submit_ballot(round_=round_, actor=people[0], order=ids)
    services.close_round(round_=round_, actor=owner)
    with pytest.raises(ValidationError, match="This round closed on"):
        services.submit_ballot(round_=round_, actor=people[1], order=ids)
    # Past the closing time, even before the sweep closes it
    assert Ballot.objects.filter(round=round_).count() == 1


@pytest.mark.django_db
def test_a_ballot_after_the_closing_time_is_refused_before_the_sweep(round_setup):
    round_, items, people = round_setup
    with pytest.raises(ValidationError, match="closed"):
        services.submit_ballot(round_=round_, actor=people[0], order=[i.pk for i in items], now=round_.closes_at)


@pytest.mark.django_db
def test_round_rules(org, owner):
    a, b = (make_initiative(org, owner, Status.QUALIFIED, title=t) for t in ("A", "B"))
    idea = make_initiative(org, owner, title="Still an idea")
    soon = timezone.now() + timedelta(days=2)
    with pytest.raises(ValidationError, match="at least two"):
        services.open_round(
            organization=org, actor=owner, title="R", initiatives=[a], stakeholders=[owner], closes_at=soon
        )
    with pytest.raises(ValidationError, match="only qualified, ranked or deferred"):
        services.open_round(
            organization=org, actor=owner, title="R", initiatives=[a, idea], stakeholders=[owner], closes_at=soon
        )
    with pytest.raises(ValidationError, match="at least one stakeholder"):
        services.open_round(
            organization=org, actor=owner, title="R", initiatives=[a, b], stakeholders=[], closes_at=soon
        )
    with pytest.raises(ValidationError, match="at least an hour"):
        services.open_round(
            organization=org,
            actor=owner,
            title="R",
            initiatives=[a, b],
            stakeholders=[owner],
            closes_at=timezone.now() + timedelta(minutes=10),
        )
    assert not RankingRound.objects.exists()


@pytest.mark.django_db
def test_stakeholders_are_mailed_when_the_round_opens_and_reminded_once_before_it_closes(
    org, owner, member, smtp_server, django_capture_on_commit_callbacks
):
    voter, laggard = member(Role.EXECUTIVE), member(Role.UNIT_LEADER)
    items = [make_initiative(org, owner, Status.QUALIFIED, title=t) for t in ("A", "B")]
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        round_ = services.open_round(
            organization=org,
            actor=owner,
            title="Winter",
            initiatives=items,
            stakeholders=[voter, laggard],
            closes_at=now + timedelta(days=3),
        )
    assert len(smtp_server.to(voter.user.email)) == 1 and len(smtp_server.to(laggard.user.email)) == 1
    mail = smtp_server.to(laggard.user.email)[0]
    assert "Winter" in mail["Subject"] and f"/o/{org.slug}/initiatives/ranking/{round_.pk}/" in smtp_server.text(mail)
    services.submit_ballot(round_=round_, actor=voter, order=[i.pk for i in items])
    assert services.ranking_sweep(org, now + timedelta(days=1)) == {"reminded": 0, "closed": 0}  # not due yet
    assert services.ranking_sweep(org, now + timedelta(days=2, hours=1)) == {"reminded": 1, "closed": 0}
    assert services.ranking_sweep(org, now + timedelta(days=2, hours=2)) == {"reminded": 0, "closed": 0}
    assert len(smtp_server.to(laggard.user.email)) == 2 and len(smtp_server.to(voter.user.email)) == 1
    assert "still missing" in smtp_server.to(laggard.user.email)[1]["Subject"]
    assert services.ranking_sweep(org, now + timedelta(days=3, minutes=1)) == {"reminded": 0, "closed": 1}
    round_.refresh_from_db()
    assert round_.state == RankingRound.State.CLOSED
