"""The demo backlog covers what the product shows: every status and horizon, rounds, boards, overdue items."""

import pytest
from django.utils import timezone

from cxprogram.tenancy.permissions import Role
from initiatives import demo
from initiatives.models import ActionItem, Horizon, Initiative, Meeting, RankingRound, Score, Status
from tests.factories import add_member

KEYS = {
    "admin": Role.ADMIN,
    "lead_executive": Role.EXECUTIVE,
    "executive": Role.EXECUTIVE,
    "executive_2": Role.EXECUTIVE,
    "cx_coe": Role.CX_COE,
    "unit_leader": Role.UNIT_LEADER,
    "project_manager": Role.PROJECT_MANAGER,
    "project_manager_2": Role.PROJECT_MANAGER,
    "staff": Role.STAFF,
}


@pytest.mark.django_db
def test_demo_seed(org, django_capture_on_commit_callbacks):
    org.time_zone = "America/New_York"
    org.save()
    people = {key: add_member(org, [role]) for key, role in KEYS.items()}
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed(org, people)
    initiatives = Initiative.objects.for_org(org)
    assert 30 <= initiatives.count() <= 40
    assert set(initiatives.values_list("status", flat=True)) == set(Status.values)
    assert set(Horizon.values) <= set(initiatives.values_list("horizon", flat=True))
    assert Score.objects.for_org(org).count() >= 20
    rounds = RankingRound.objects.for_org(org)
    assert rounds.filter(state="closed", agreement__isnull=False).exists() and rounds.filter(state="open").exists()
    now = timezone.now()
    past = Meeting.objects.for_org(org).filter(scheduled_for__lt=now)
    assert past.count() == 2 and all(m.is_held and m.minutes_mailed_at and m.decisions.exists() for m in past)
    upcoming = Meeting.objects.for_org(org).get(scheduled_for__gt=now)
    assert upcoming.agenda.exists()
    today = timezone.localdate(timezone=org.tz)
    assert ActionItem.objects.for_org(org).exclude(status="done").filter(due_on__lt=today).count() >= 2
    # Each initiative's timeline runs from the day the idea came in, in order, not all at the seed's minute.
    for initiative in initiatives:
        moments = list(initiative.timeline.order_by("pk").values_list("created_at", flat=True))
        assert moments == sorted(moments) and moments[0] == initiative.created_at
    done = initiatives.filter(status=Status.DONE).first()
    assert (now - done.timeline.order_by("pk").first().created_at).days > 30
    approved = done.timeline.get(text__startswith="Approved by the change board")
    assert approved.created_at == done.decisions.get().meeting.scheduled_for  # decided at the meeting
