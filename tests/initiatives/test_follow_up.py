"""Weekly digests (Monday morning in each organization's own time zone, once) and overdue reminders."""

from datetime import UTC, date, datetime, timedelta

import pytest

from cxprogram.tenancy.permissions import Role
from initiatives import services
from initiatives.models import ActionItem, DigestLog, Status
from tests.factories import add_member, make_org
from tests.initiatives.factories import make_initiative

pytestmark = pytest.mark.django_db

# Monday 23 November 2026. New York is UTC-5 (EST) then; Tokyo is UTC+9.
MONDAY_8AM_NEW_YORK = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


@pytest.fixture
def setup(org, owner, member):
    org.time_zone = "America/New_York"
    org.save()
    pm = member(Role.PROJECT_MANAGER)
    running = make_initiative(
        org, owner, Status.IN_PROGRESS, owner=pm, title="Weekly client status email", deadline=date(2027, 1, 15)
    )
    services.add_action_item(
        initiative=running, actor=owner, title="Draft the template", owner=pm, due_on=date(2026, 11, 20)
    )
    services.add_action_item(
        initiative=running, actor=owner, title="Pilot with two clients", owner=pm, due_on=date(2026, 12, 4)
    )
    done = services.add_action_item(
        initiative=running, actor=owner, title="Pick a tool", owner=pm, due_on=date(2026, 11, 2)
    )
    services.set_action_item_status(item=done, actor=pm, status="done")
    return org, pm, running


def test_the_digest_goes_out_from_8am_monday_local_time_once(setup, smtp_server):
    org, pm, running = setup
    assert services.send_weekly_digests(org, MONDAY_8AM_NEW_YORK - timedelta(minutes=1)) == 0  # 07:59 in New York
    assert services.send_weekly_digests(org, MONDAY_8AM_NEW_YORK - timedelta(days=1)) == 0  # Sunday
    assert services.send_weekly_digests(org, MONDAY_8AM_NEW_YORK) == 1
    assert services.send_weekly_digests(org, MONDAY_8AM_NEW_YORK + timedelta(hours=3)) == 0
    assert services.send_weekly_digests(org, MONDAY_8AM_NEW_YORK + timedelta(days=1)) == 0  # Tuesday
    assert len(smtp_server.to(pm.user.email)) == 1
    assert DigestLog.objects.get(membership=pm).week_of == date(2026, 11, 23)
    # The next Monday it goes again.
    assert services.send_weekly_digests(org, MONDAY_8AM_NEW_YORK + timedelta(days=7)) == 1


def test_digest_content(setup, smtp_server):
    org, pm, running = setup
    services.send_weekly_digests(org, MONDAY_8AM_NEW_YORK)
    message = smtp_server.to(pm.user.email)[0]
    text = smtp_server.text(message)
    assert message["Subject"] == "Your CX week: 1 overdue, 1 open action item"
    assert "Monday 23 November" in text
    overdue, rest = text.split("Overdue action items:")[1].split("Open action items:")
    open_items, owned = rest.split("Initiatives you own:")
    assert f"- Draft the template ({running.code}), was due 20 Nov" in overdue
    assert f"- Pilot with two clients ({running.code}), due 4 Dec" in open_items
    assert "Pick a tool" not in text
    assert f"- {running.code} Weekly client status email: In progress, on track, due 15 Jan 2027" in owned
    assert "Draft the template" in smtp_server.html(message)
    assert f"http://127.0.0.1:8000/o/{org.slug}/initiatives/actions/" in text


def test_each_organization_gets_its_digest_on_its_own_monday_morning(smtp_server):
    tokyo = make_org("Tokyo office", time_zone="Asia/Tokyo")
    person = add_member(tokyo, [Role.PROJECT_MANAGER])
    initiative = make_initiative(tokyo, add_member(tokyo, [Role.ADMIN]), Status.IN_PROGRESS, owner=person)
    assert initiative.owner == person
    sunday_2259_utc = datetime(2026, 11, 22, 22, 59, tzinfo=UTC)  # Monday 07:59 in Tokyo
    assert services.send_weekly_digests(tokyo, sunday_2259_utc) == 0
    assert services.send_weekly_digests(tokyo, sunday_2259_utc + timedelta(minutes=1)) == 1
    assert services.send_weekly_digests(tokyo, MONDAY_8AM_NEW_YORK) == 0  # already Monday 22:00 there, sent
    assert len(smtp_server.to(person.user.email)) == 1


def test_overdue_items_are_reminded_once(setup, smtp_server):
    org, pm, running = setup
    assert services.remind_overdue(org, MONDAY_8AM_NEW_YORK) == 1
    assert services.remind_overdue(org, MONDAY_8AM_NEW_YORK + timedelta(hours=1)) == 0
    message = smtp_server.to(pm.user.email)[0]
    assert message["Subject"] == "1 CX action item overdue"
    assert (
        f"Draft the template ({running.code} Weekly client status email) was due Friday 20 November"
        in smtp_server.text(message)
    )
    # An item that falls overdue later is reminded then. 4 December is a Friday; the 5th in New York:
    assert services.remind_overdue(org, datetime(2026, 12, 5, 4, tzinfo=UTC)) == 0  # 23:00 on the 4th in New York
    assert services.remind_overdue(org, datetime(2026, 12, 5, 12, tzinfo=UTC)) == 1
    assert ActionItem.objects.filter(overdue_reminded_at__isnull=True).count() == 1  # the done one


def test_the_hourly_sweep_task_runs_every_organization(setup, smtp_server, monkeypatch):
    from django.utils import timezone

    from initiatives import tasks

    org, pm, _ = setup
    monkeypatch.setattr(timezone, "now", lambda: MONDAY_8AM_NEW_YORK)
    assert tasks.follow_up_sweep.delay().get() == 0  # no organization failed
    assert len(smtp_server.to(pm.user.email)) == 2  # the digest and the overdue reminder


def test_a_refused_mail_leaves_the_others_sent_once_and_is_tried_again_the_next_hour(setup, smtp_server, owner, member):
    from cxprogram.tenancy.context import use_organization

    org, pm, running = setup
    colleague = member(Role.PROJECT_MANAGER)
    services.add_action_item(
        initiative=running, actor=owner, title="Call the pilot clients", owner=colleague, due_on=date(2026, 11, 19)
    )
    smtp_server.refused.add(pm.user.email)
    with use_organization(org):  # as the hourly task runs it: one transaction for the organization
        assert services.follow_up_sweep(org, MONDAY_8AM_NEW_YORK) == {"digests": 1, "overdue": 1}
    assert len(smtp_server.to(pm.user.email)) == 0
    smtp_server.refused.clear()
    with use_organization(org):
        assert services.follow_up_sweep(org, MONDAY_8AM_NEW_YORK + timedelta(hours=1)) == {"digests": 1, "overdue": 1}
    assert len(smtp_server.to(colleague.user.email)) == 2  # its digest and its reminder, each once
    assert len(smtp_server.to(pm.user.email)) == 2  # the hour after the refusal
