"""Closing the loop after the alert: overdue cases are reminded daily, escalated to the unit leader (else the
CX CoE) after the configured days, and promoters get the thank-you mail their PM approves. Mail is counted at
the real SMTP server (tests/fixtures/mail.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.models import Unit
from cxprogram.tenancy.permissions import Role
from feedback import services, tasks
from feedback.models import FollowUpCase, Response, SurveyRequest
from tests.conftest import client_for
from tests.factories import add_member, make_user
from tests.feedback.factories import answer_survey, make_client, make_contact, make_pm, make_project
from tests.fixtures.mail import free_port

pytestmark = pytest.mark.django_db

OVERDUE = "Overdue follow-up: "
ESCALATED = "Escalated: follow-up for "
THANKS = "Thank you from Acme Consulting"


@pytest.fixture
def buildings(org):
    return Unit.objects.create(organization=org, name="Buildings")


@pytest.fixture
def pm(org):
    return make_pm(org, "Paula Manager", email="paula@acme.example")


@pytest.fixture
def leader(org, buildings):
    return add_member(org, [Role.UNIT_LEADER], user=make_user("sam@acme.example", "Sam Whitaker"), unit=buildings)


@pytest.fixture
def coe(org):
    return add_member(org, [Role.CX_COE], user=make_user("cora@acme.example", "Cora Coe"))


def answer(org, pm, score, *, unit=None, client_name=None, contact_email=None) -> Response:
    """A client on `unit` answers a survey on a project managed by `pm` with `score`, through the real
    sending and submitting services (a score of 6 or less opens a case)."""
    client = make_client(org, client_name, account_owner=pm, unit=unit)
    contact = make_contact(client, contact_email)
    project = make_project(client, project_manager=pm, unit=unit)
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=[contact])
    services.start_batch(batch=batch, from_states=["draft"])
    services.dispatch_batch(org, batch.pk)
    request = SurveyRequest.objects.get(batch=batch)
    return answer_survey(request, {"nps": score})


def open_case(org, pm, *, due_at, unit=None, client_name=None) -> FollowUpCase:
    """A detractor's case whose due date is moved to `due_at`."""
    response = answer(org, pm, 3, unit=unit, client_name=client_name)
    FollowUpCase.objects.filter(response=response).update(due_at=due_at)
    return FollowUpCase.objects.get(response=response)


def subjects(mailbox, address: str, prefix: str) -> list[str]:
    return [m["Subject"] for m in mailbox.to(address) if m["Subject"].startswith(prefix)]


def mail_server_down(settings):
    settings.EMAIL_PORT = free_port()  # nothing listens there: the connection is refused


# --- The home page ---------------------------------------------------------------------------------------


def test_home_page_points_owners_to_their_cases_and_the_coe_to_every_overdue_one(org, pm, coe, smtp_server):
    open_case(org, pm, due_at=timezone.now() - timedelta(hours=2), client_name="Northwind Clinics")
    open_case(org, pm, due_at=timezone.now() + timedelta(days=2), client_name="Harbor Schools")
    home = reverse("org_home", args=[org.slug])

    pm_page = client_for(pm).get(home).content.decode()
    assert "2 follow-up cases to work, 1 overdue" in pm_page
    assert "across the organization" not in pm_page

    coe_page = client_for(coe).get(home).content.decode()
    assert "1 follow-up case overdue across the organization" in coe_page
    assert f"/o/{org.slug}/feedback/cases/?overdue=1" in coe_page
    assert "to work" not in coe_page  # none of them is the CoE's own


# --- Daily reminders ------------------------------------------------------------------------------------


def test_overdue_case_reminds_its_owner_once_a_day(org, pm, coe, smtp_server):
    case = open_case(org, pm, due_at=timezone.now() - timedelta(hours=2), client_name="Northwind Clinics")
    assert tasks.remind_overdue_cases() == 1
    assert tasks.remind_overdue_cases() == 0  # the hourly run again the same day
    [subject] = subjects(smtp_server, "paula@acme.example", OVERDUE)
    assert subject == f"Overdue follow-up: Northwind Clinics ({case.project.code})"
    [message] = [m for m in smtp_server.to("paula@acme.example") if m["Subject"] == subject]
    assert f"/o/acme/feedback/cases/{case.pk}/" in smtp_server.text(message)
    assert subjects(smtp_server, "cora@acme.example", OVERDUE) == []  # the owner's reminder, not the CoE's

    # The next day arrives: the reminder sent yesterday lets today's go out.
    FollowUpCase.objects.filter(pk=case.pk).update(last_reminded_at=timezone.now() - timedelta(days=1))
    assert tasks.remind_overdue_cases() == 1
    assert tasks.remind_overdue_cases() == 0
    assert len(subjects(smtp_server, "paula@acme.example", OVERDUE)) == 2


def test_resolved_cases_and_cases_not_yet_due_get_no_reminder(org, pm, smtp_server):
    now = timezone.now()
    overdue = open_case(org, pm, due_at=now - timedelta(days=1), client_name="Overdue Ltd")
    resolved = open_case(org, pm, due_at=now - timedelta(days=1), client_name="Resolved Ltd")
    services.update_case(
        case=resolved, actor=pm.user, state="resolved", outcome="Agreed a weekly call", root_cause="communication"
    )
    not_due = open_case(org, pm, due_at=now + timedelta(hours=1), client_name="Not Due Ltd")
    assert tasks.remind_overdue_cases() == 1
    assert subjects(smtp_server, "paula@acme.example", OVERDUE) == [
        f"Overdue follow-up: Overdue Ltd ({overdue.project.code})"
    ]
    for case in (resolved, not_due):
        case.refresh_from_db()
        assert case.last_reminded_at is None


def test_two_runs_at_either_end_of_one_day_send_one_reminder(org, pm, smtp_server):
    """Once a day means once per day in the organization's time zone, however the hourly runs fall."""
    org.time_zone = "America/New_York"
    org.save(update_fields=["time_zone"])
    sunday_8pm = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Sunday 22 November, 20:00 in New York
    case = open_case(org, pm, due_at=sunday_8pm)
    monday_0030 = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)
    assert services.remind_overdue_case(case.pk, now=monday_0030) is True
    assert services.remind_overdue_case(case.pk, now=monday_0030 + timedelta(hours=23, minutes=15)) is False
    tuesday_0800 = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert services.remind_overdue_case(case.pk, now=tuesday_0800) is True
    assert len(subjects(smtp_server, "paula@acme.example", OVERDUE)) == 2


def test_a_reminder_that_meets_a_mail_outage_goes_out_on_the_retry(org, pm, settings, smtp_server):
    case = open_case(org, pm, due_at=timezone.now() - timedelta(hours=2))
    mail_server_down(settings)
    with pytest.raises(ConnectionRefusedError):
        services.remind_overdue_case(case.pk)
    case.refresh_from_db()
    assert case.last_reminded_at is None  # not counted as today's reminder
    settings.EMAIL_PORT = smtp_server.port
    assert tasks.remind_overdue_cases() == 1
    assert len(subjects(smtp_server, "paula@acme.example", OVERDUE)) == 1


# --- Escalation -------------------------------------------------------------------------------------------


def test_case_is_escalated_once_to_the_unit_leader_after_the_configured_days(org, owner, pm, leader, smtp_server):
    services.update_settings(organization=org, actor=owner.user, escalation_days=5)
    due = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    case = open_case(org, pm, due_at=due, unit=leader.unit, client_name="Northwind Clinics")

    services.remind_overdue_case(case.pk, now=due + timedelta(days=4, hours=23))
    case.refresh_from_db()
    assert case.escalated_at is None and subjects(smtp_server, "sam@acme.example", ESCALATED) == []

    five_days = due + timedelta(days=5)
    assert services.remind_overdue_case(case.pk, now=five_days) is True
    services.remind_overdue_case(case.pk, now=five_days + timedelta(hours=1))
    services.remind_overdue_case(case.pk, now=five_days + timedelta(days=1))
    assert subjects(smtp_server, "sam@acme.example", ESCALATED) == [
        "Escalated: follow-up for Northwind Clinics is overdue"
    ]
    [mail] = smtp_server.to("sam@acme.example")
    assert "Its owner is Paula Manager." in smtp_server.text(mail)
    assert len(subjects(smtp_server, "paula@acme.example", OVERDUE)) == 2  # the owner is still reminded daily
    case.refresh_from_db()
    assert (case.escalated_at, case.escalated_to) == (five_days, leader)
    [event] = AuditEvent.objects.filter(organization=org, verb="case.escalated")
    assert (event.target_id, event.payload) == (str(case.pk), {"to": "Sam Whitaker"})
    page = client_for(pm).get(f"/o/acme/feedback/cases/{case.pk}/")
    assert "escalated to Sam Whitaker" in page.content.decode()


def test_the_hourly_task_escalates_with_the_default_days(org, pm, leader, smtp_server):
    case = open_case(org, pm, due_at=timezone.now() - timedelta(days=3, hours=1), unit=leader.unit)
    assert services.feedback_settings(org).escalation_days == 3
    tasks.remind_overdue_cases()
    tasks.remind_overdue_cases()
    assert len(subjects(smtp_server, "sam@acme.example", ESCALATED)) == 1
    case.refresh_from_db()
    assert case.escalated_to == leader


def test_leader_of_the_parent_unit_gets_a_sub_unit_case(org, pm, leader, buildings, smtp_server):
    healthcare = Unit.objects.create(organization=org, name="Healthcare", parent=buildings)
    infrastructure = Unit.objects.create(organization=org, name="Infrastructure")
    add_member(org, [Role.UNIT_LEADER], user=make_user("ines@acme.example", "Ines Infra"), unit=infrastructure)
    case = open_case(org, pm, due_at=timezone.now() - timedelta(days=4), unit=healthcare)
    tasks.remind_overdue_cases()
    assert len(subjects(smtp_server, "sam@acme.example", ESCALATED)) == 1
    assert subjects(smtp_server, "ines@acme.example", ESCALATED) == []
    case.refresh_from_db()
    assert case.escalated_to == leader


def test_without_a_unit_leader_the_case_is_escalated_to_the_cx_coe(org, pm, leader, coe, smtp_server):
    later_coe = add_member(org, [Role.CX_COE], user=make_user("carl@acme.example", "Carl Coe"))
    infrastructure = Unit.objects.create(organization=org, name="Infrastructure")  # no leader
    case = open_case(org, pm, due_at=timezone.now() - timedelta(days=4), unit=infrastructure)
    tasks.remind_overdue_cases()
    tasks.remind_overdue_cases()
    assert len(subjects(smtp_server, "cora@acme.example", ESCALATED)) == 1  # the longest-standing CoE member
    assert subjects(smtp_server, later_coe.user.email, ESCALATED) == []
    assert subjects(smtp_server, "sam@acme.example", ESCALATED) == []  # another unit's leader
    case.refresh_from_db()
    assert case.escalated_to == coe
    assert "escalated to Cora Coe" in client_for(pm).get(f"/o/acme/feedback/cases/{case.pk}/").content.decode()


def test_with_neither_a_unit_leader_nor_a_coe_the_case_is_marked_escalated_and_nobody_is_mailed(
    org, pm, leader, smtp_server
):
    infrastructure = Unit.objects.create(organization=org, name="Infrastructure")  # no leader
    case = open_case(org, pm, due_at=timezone.now() - timedelta(days=4), unit=infrastructure)
    assert tasks.remind_overdue_cases() == 1  # the owner's reminder; no escalation mail
    assert tasks.remind_overdue_cases() == 0
    assert [m["to"] for m in smtp_server.messages if m["message"]["Subject"].startswith(ESCALATED)] == []
    assert len(subjects(smtp_server, "paula@acme.example", OVERDUE)) == 1
    # Recorded as done, to nobody, and not tried again; the page still shows the case.
    case.refresh_from_db()
    assert case.escalated_at is not None and case.escalated_to is None
    [event] = AuditEvent.objects.filter(organization=org, verb="case.escalated")
    assert event.payload == {"to": ""}
    assert client_for(pm).get(f"/o/acme/feedback/cases/{case.pk}/").status_code == 200


def test_an_escalation_that_meets_a_mail_outage_goes_out_on_the_retry(org, pm, leader, settings, smtp_server):
    now = timezone.now()
    case = open_case(org, pm, due_at=now - timedelta(days=4), unit=leader.unit)
    FollowUpCase.objects.filter(pk=case.pk).update(last_reminded_at=now)  # today's reminder already went
    mail_server_down(settings)
    with pytest.raises(ConnectionRefusedError):
        services.remind_overdue_case(case.pk)
    case.refresh_from_db()
    assert case.escalated_at is None
    assert not AuditEvent.objects.filter(organization=org, verb="case.escalated").exists()
    settings.EMAIL_PORT = smtp_server.port
    tasks.remind_overdue_cases()
    assert len(subjects(smtp_server, "sam@acme.example", ESCALATED)) == 1
    assert AuditEvent.objects.filter(organization=org, verb="case.escalated").count() == 1


def test_a_case_alert_that_meets_a_mail_outage_goes_out_on_the_retry(org, pm, settings, smtp_server):
    case = open_case(org, pm, due_at=timezone.now() + timedelta(days=2), client_name="Northwind Clinics")
    mail_server_down(settings)
    with pytest.raises(ConnectionRefusedError):
        services.mail_case_alert(case)
    settings.EMAIL_PORT = smtp_server.port
    assert tasks.send_case_alert(org.pk, case.pk) is True
    assert tasks.send_case_alert(org.pk, case.pk) is False  # delivered twice, mailed once
    assert len([m for m in smtp_server.to("paula@acme.example") if "Northwind Clinics" in m["Subject"]]) == 1


# --- The promoter thank-you ------------------------------------------------------------------------------


def thank_url(response: Response, slug: str = "acme") -> str:
    return f"/o/{slug}/feedback/responses/{response.pk}/thank/"


def thank_yous(mailbox, response: Response) -> list:
    return [m for m in mailbox.to(response.contact.email) if m["Subject"] == THANKS]


def assert_not_thanked(mailbox, response) -> None:
    """No thank-you was approved for `response`, and none went out."""
    assert thank_yous(mailbox, response) == []
    response.refresh_from_db()
    assert response.thank_you_approved_by is None


def test_pm_approval_sends_one_thank_you_to_the_contact(
    org, pm, smtp_server, settings, django_capture_on_commit_callbacks
):
    response = answer(org, pm, 10, contact_email="dana@northwind.example")
    browser = client_for(pm)
    with django_capture_on_commit_callbacks(execute=True):
        page = browser.post(thank_url(response), follow=True)
    assert "Thank-you mail on its way to" in page.content.decode()
    [mail] = thank_yous(smtp_server, response)
    assert mail["From"] == "Acme Consulting via Paula Manager <noreply@cxprogram.localhost>"
    assert mail["Reply-To"] == "paula@acme.example"
    assert "Thank you for your kind words about" in smtp_server.text(mail)
    response.refresh_from_db()
    assert response.thank_you_approved_by == pm and response.thank_you_sent_at is not None
    [event] = AuditEvent.objects.filter(organization=org, verb="response.thank_you_approved")
    assert (event.actor, event.target_id) == (pm.user, str(response.pk))
    detail = browser.get(f"/o/acme/feedback/responses/{response.pk}/").content.decode()
    assert "Thank-you approved by Paula Manager, sent" in detail and "Approve and send" not in detail


def test_approving_twice_sends_no_second_mail(org, pm, coe, smtp_server, django_capture_on_commit_callbacks):
    response = answer(org, pm, 9)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(pm).post(thank_url(response))
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(coe).post(thank_url(response), follow=True)
    assert "A thank-you was already approved for this response." in page.content.decode()
    assert tasks.send_thank_you(org.pk, response.pk) is False  # the task delivered again
    assert len(thank_yous(smtp_server, response)) == 1
    response.refresh_from_db()
    assert response.thank_you_approved_by == pm
    assert AuditEvent.objects.filter(organization=org, verb="response.thank_you_approved").count() == 1


def test_another_pm_cannot_approve_but_sees_who_can(org, pm, smtp_server, django_capture_on_commit_callbacks):
    response = answer(org, pm, 10)
    other_pm = client_for(make_pm(org, "Omar Other", email="omar@acme.example"))
    detail = other_pm.get(f"/o/acme/feedback/responses/{response.pk}/").content.decode()
    assert "Approve and send" not in detail
    assert f"Paula Manager, the project's manager, can send {response.contact.name} a thank-you mail." in detail
    with django_capture_on_commit_callbacks(execute=True):
        assert other_pm.post(thank_url(response)).status_code == 403
    assert_not_thanked(smtp_server, response)


def test_the_cx_coe_can_approve_for_a_project_whose_pm_left(
    org, pm, coe, smtp_server, django_capture_on_commit_callbacks
):
    response = answer(org, pm, 9)
    browser = client_for(coe)
    assert "Approve and send" in browser.get(f"/o/acme/feedback/responses/{response.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(thank_url(response))
    [mail] = thank_yous(smtp_server, response)
    assert mail["From"] == "Acme Consulting via Cora Coe <noreply@cxprogram.localhost>"
    assert mail["Reply-To"] == "cora@acme.example"


@pytest.mark.parametrize("score", [3, 8])
def test_only_promoters_can_be_thanked(org, pm, score, smtp_server, django_capture_on_commit_callbacks):
    response = answer(org, pm, score)
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(pm).post(thank_url(response), follow=True)
    assert "Thank-you mails are for promoters (a score of 9 or 10)." in page.content.decode()
    assert_not_thanked(smtp_server, response)


@pytest.mark.parametrize(
    ("stop", "why"),
    [
        (lambda c: services.opt_out_contact(contact=c, reason="No more mail, please"), "has opted out of our mail"),
        (
            lambda c: services.record_bounce(organization=c.organization, email=c.email, kind="hard"),
            "cannot be mailed (their address bounced)",
        ),
    ],
    ids=["opted_out", "bounced"],
)
def test_a_contact_who_takes_no_mail_cannot_be_thanked(
    org, pm, stop, why, smtp_server, django_capture_on_commit_callbacks
):
    response = answer(org, pm, 10)
    stop(response.contact)
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(pm).post(thank_url(response), follow=True)
    assert f"{response.contact.name} {why}, so no thank-you can be sent." in page.content.decode()
    assert_not_thanked(smtp_server, response)
    assert not AuditEvent.objects.filter(organization=org, verb="response.thank_you_approved").exists()


def test_a_contact_who_opts_out_after_the_approval_is_not_mailed(
    org, pm, smtp_server, django_capture_on_commit_callbacks
):
    response = answer(org, pm, 10)
    with django_capture_on_commit_callbacks() as callbacks:
        services.approve_thank_you(response=response, actor_membership=pm)
    services.opt_out_contact(contact=response.contact, reason="No more mail, please")
    for callback in callbacks:  # the queued task runs after the opt-out
        callback()
    assert thank_yous(smtp_server, response) == []
    response.refresh_from_db()
    assert response.thank_you_sent_at is None


def test_a_thank_you_that_meets_a_mail_outage_goes_out_on_the_retry(
    org, pm, settings, smtp_server, django_capture_on_commit_callbacks
):
    response = answer(org, pm, 10)
    with django_capture_on_commit_callbacks():
        services.approve_thank_you(response=response, actor_membership=pm)
    response = Response.objects.select_related("contact", "project", "thank_you_approved_by__user").get(pk=response.pk)
    mail_server_down(settings)
    with pytest.raises(ConnectionRefusedError):
        services.mail_thank_you(response)
    response.refresh_from_db()
    assert response.thank_you_sent_at is None  # the page does not claim it was sent
    settings.EMAIL_PORT = smtp_server.port
    assert tasks.send_thank_you(org.pk, response.pk) is True
    assert len(thank_yous(smtp_server, response)) == 1


def test_an_outsider_gets_404_on_the_approve_url(org, pm, outsider_client, smtp_server):
    response = answer(org, pm, 10)
    assert outsider_client.post(thank_url(response)).status_code == 404
    assert outsider_client.post(thank_url(response, slug="globex")).status_code == 404
    response.refresh_from_db()
    assert response.thank_you_approved_by is None
    assert thank_yous(smtp_server, response) == []
