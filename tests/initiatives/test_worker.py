"""Initiatives' tasks through a real Celery worker on Redis: mail after commit, and each mail once even
when the broker delivers a task twice or the sweep runs again."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from cxprogram.tenancy.permissions import Role
from initiatives import services, tasks
from initiatives.models import Meeting, Stakeholder, Status
from tests.initiatives.factories import make_initiative

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_round_invitations_go_once_after_commit(org, owner, member, smtp_server, celery_worker):
    voter = member(Role.EXECUTIVE)
    items = [make_initiative(org, owner, Status.QUALIFIED, title=t) for t in ("A", "B")]
    round_ = services.open_round(
        organization=org,
        actor=owner,
        title="Spring",
        initiatives=items,
        stakeholders=[voter],
        closes_at=timezone.now() + timedelta(days=3),
    )
    tasks.send_round_invitations.delay(round_.pk)  # as if the broker delivered it again
    assert wait_for(lambda: smtp_server.to(voter.user.email))
    assert wait_for(lambda: Stakeholder.objects.get(round=round_).invited_at is not None)
    time.sleep(1.0)
    assert len(smtp_server.to(voter.user.email)) == 1


def test_the_board_sweep_mails_the_agenda_once(org, owner, member, smtp_server, celery_worker):
    executive = member(Role.EXECUTIVE)
    services.set_board_members(organization=org, actor=owner, memberships=[executive])
    make_initiative(org, owner, Status.RANKED, title="Kick-off pack")
    meeting = Meeting.objects.create(organization=org, scheduled_for=timezone.now() + timedelta(days=3))
    tasks.board_sweep.delay()
    tasks.board_sweep.delay()
    assert wait_for(lambda: Meeting.objects.get(pk=meeting.pk).agenda_mailed_at is not None)
    assert wait_for(lambda: smtp_server.to(executive.user.email))
    time.sleep(1.5)
    assert len(smtp_server.to(executive.user.email)) == 1
    assert "Kick-off pack" in smtp_server.text(smtp_server.to(executive.user.email)[0])
