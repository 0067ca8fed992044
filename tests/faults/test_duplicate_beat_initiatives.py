"""Two workers and two beat processes by mistake: every periodic message arrives twice and two workers
take them at the same time. The change board agenda, the overdue follow-up case reminders and
escalations, the Monday weekly digest and the overdue action item reminders still go out once each."""

import os
import time
import zoneinfo
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cxprogram.celery import app as celery_app
from cxprogram.tenancy.models import Unit
from cxprogram.tenancy.permissions import Role
from feedback import services as feedback
from feedback.models import Batch, FollowUpCase, SurveyRequest
from initiatives import services
from initiatives.models import ActionItem, DigestLog, Meeting, Status
from tests.factories import add_member, make_org, make_user
from tests.feedback.factories import answer_survey, make_client, make_contact, make_pm, make_project
from tests.feedback.worker_helpers import wait_for
from tests.fixtures.worker import Worker
from tests.initiatives.factories import make_initiative

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CASES = 10
ORGANIZATIONS = 6
PEOPLE = 20
TIME_ZONE = "America/New_York"

# Written as sitecustomize.py on the workers' PYTHONPATH: their Django clock runs CX_CLOCK_SHIFT seconds
# ahead, so the digest (due from 08:00 Monday, local time) is due whatever day the test runs.
SHIFTED_CLOCK = """
import os
from datetime import timedelta

from django.utils import timezone

_real_now = timezone.now
_shift = timedelta(seconds=float(os.environ["CX_CLOCK_SHIFT"]))
timezone.now = lambda: _real_now() + _shift
"""


def publish_every_periodic_task_twice(queue: str) -> None:
    """What two beat processes would publish: every periodic task, twice, to two competing workers. The
    pause lets both workers finish the last pair, so that each pair's copies start at the same moment."""
    for entry in celery_app.conf.beat_schedule.values():
        for _ in range(2):
            celery_app.send_task(entry["task"], queue=queue)
        time.sleep(1)


def mails(smtp_server, subject_part: str) -> list[dict]:
    return [m for m in smtp_server.messages if subject_part in m["message"]["Subject"]]


def per_recipient(messages: list[dict]) -> Counter:
    return Counter(address for m in messages for address in m["to"])


def coming_monday_9am(tz: zoneinfo.ZoneInfo) -> datetime:
    local = timezone.localtime(timezone.now(), tz)
    monday = datetime.combine(local.date() + timedelta(days=-local.weekday() % 7), clock(9), tzinfo=tz)
    return monday if monday > local else monday + timedelta(days=7)


@pytest.fixture
def monday_workers(celery_worker, tmp_path):
    """Two real workers whose clock reads 09:00 on the coming Monday in New York (and runs on from there);
    the real-clock worker is stopped (its queue is theirs). Yields the workers' time at the start."""
    monday_9am = coming_monday_9am(zoneinfo.ZoneInfo(TIME_ZONE))
    (tmp_path / "sitecustomize.py").write_text(SHIFTED_CLOCK)
    env = {
        **celery_worker.env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), celery_worker.env.get("PYTHONPATH")])),
        "CX_CLOCK_SHIFT": str((monday_9am - timezone.now()).total_seconds()),
    }
    celery_worker.stop()
    workers = [Worker(env, celery_worker.queue).start() for _ in range(2)]
    yield monday_9am
    for worker in workers:
        worker.stop()


def overdue_cases(org, pm, unit, count: int) -> list[FollowUpCase]:
    """`count` detractors' cases, through the real sending and answering services, overdue long enough to
    be escalated too."""
    client = make_client(org, "Northwind Clinics", account_owner=pm, unit=unit)
    contacts = [make_contact(client) for _ in range(count)]
    project = make_project(client, project_manager=pm, unit=unit)
    batch = feedback.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=contacts)
    feedback.send_batch_now(batch=batch, actor=pm.user)
    assert wait_for(lambda: Batch.objects.get(pk=batch.pk).state == "sent", timeout=60)
    responses = [answer_survey(r, {"nps": 3}) for r in SurveyRequest.objects.filter(batch=batch)]
    cases = FollowUpCase.objects.filter(response__in=responses)
    overdue_for = timedelta(days=feedback.feedback_settings(org).escalation_days, hours=2)
    cases.update(due_at=timezone.now() - overdue_for)
    assert cases.count() == count
    return list(cases)


def board_with_agenda_due(organization, admin) -> tuple[Meeting, list]:
    """A change board of two executives whose next meeting is in three days: its agenda is due."""
    board = [add_member(organization, [Role.EXECUTIVE]) for _ in range(2)]
    services.set_board_members(organization=organization, actor=admin, memberships=board)
    make_initiative(organization, admin, Status.RANKED, title=f"Kick-off pack for {organization.name}")
    meeting = Meeting.objects.create(organization=organization, scheduled_for=timezone.now() + timedelta(days=3))
    return meeting, board


def test_duplicated_sweeps_mail_the_agenda_and_each_case_reminder_once(
    org, owner, smtp_server, celery_worker, second_worker
):
    # Several organizations, so that the two sweeps work through them side by side.
    boards = [board_with_agenda_due(org, owner)]
    for _ in range(ORGANIZATIONS - 1):
        other = make_org()
        boards.append(board_with_agenda_due(other, add_member(other, [Role.ADMIN])))
    buildings = Unit.objects.create(organization=org, name="Buildings")
    leader = add_member(org, [Role.UNIT_LEADER], user=make_user("sam@acme.example", "Sam Whitaker"), unit=buildings)
    pm = make_pm(org, email="paula@acme.example")
    cases = overdue_cases(org, pm, buildings, CASES)

    publish_every_periodic_task_twice(celery_worker.queue)

    meetings = [meeting.pk for meeting, _ in boards]
    assert wait_for(lambda: not Meeting.objects.filter(pk__in=meetings, agenda_mailed_at=None).exists(), timeout=60)
    assert wait_for(
        lambda: (
            not FollowUpCase.objects.filter(pk__in=[c.pk for c in cases])
            .filter(Q(last_reminded_at=None) | Q(escalated_at=None))
            .exists()
        ),
        timeout=60,
        interval=0.2,
    )
    time.sleep(2)  # a duplicate, if there were one, has reached the server by now

    agendas = mails(smtp_server, "Change board agenda")
    assert per_recipient(agendas) == {e.user.email: 1 for _, board in boards for e in board}
    for meeting, board in boards:
        [agenda] = [m for m in agendas if board[0].user.email in m["to"]]
        assert agenda["to"] == [e.user.email for e in board]
        assert f"Kick-off pack for {meeting.organization.name}" in smtp_server.text(agenda["message"])

    for prefix, recipient in (("Overdue follow-up: ", pm), ("Escalated: follow-up for ", leader)):
        sent = mails(smtp_server, prefix)
        assert per_recipient(sent) == {recipient.user.email: CASES}
        per_case = Counter(
            case.pk
            for case in cases
            for m in sent
            if reverse("feedback:case_detail", args=[org.slug, case.pk]) in smtp_server.text(m["message"])
        )
        assert per_case == {case.pk: 1 for case in cases}  # one reminder and one escalation per case


def test_duplicated_sweeps_send_each_weekly_digest_and_overdue_reminder_once(
    org, owner, member, smtp_server, celery_worker, monday_workers
):
    org.time_zone = TIME_ZONE
    org.save(update_fields=["time_zone"])
    monday = timezone.localtime(monday_workers, org.tz).date()
    people = [member(Role.PROJECT_MANAGER) for _ in range(PEOPLE)]
    running = make_initiative(org, owner, Status.IN_PROGRESS, owner=people[0], title="Weekly client status email")
    for person in people:
        services.add_action_item(
            initiative=running, actor=owner, title="Draft the template", owner=person, due_on=monday - timedelta(3)
        )
        services.add_action_item(
            initiative=running, actor=owner, title="Pilot with two clients", owner=person, due_on=monday + timedelta(4)
        )

    publish_every_periodic_task_twice(celery_worker.queue)

    assert wait_for(lambda: DigestLog.objects.filter(organization=org).count() == PEOPLE, timeout=60)
    assert wait_for(
        lambda: not ActionItem.objects.filter(organization=org, due_on__lt=monday, overdue_reminded_at=None).exists(),
        timeout=60,
    )
    time.sleep(2)  # a duplicate, if there were one, has reached the server by now

    digests = mails(smtp_server, "Your CX week")
    assert per_recipient(digests) == {p.user.email: 1 for p in people}
    for m in digests:
        assert m["message"]["Subject"] == "Your CX week: 1 overdue, 1 open action item"
        assert f"{monday:%A %-d %B}" in smtp_server.text(m["message"])  # the workers' Monday
    assert set(DigestLog.objects.filter(organization=org).values_list("week_of", flat=True)) == {monday}

    reminders = mails(smtp_server, "CX action item")
    assert per_recipient(reminders) == {p.user.email: 1 for p in people}
    assert {m["message"]["Subject"] for m in reminders} == {"1 CX action item overdue"}
