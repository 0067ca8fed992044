"""Sending survey requests: skip rules, the mail itself, exactly-once claims, reminders, expiry."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from feedback import services
from feedback.models import Batch, BatchContact, SurveyRequest
from tests.feedback.factories import answer_survey, make_account, make_contact, make_pm, make_sent_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def pm(org):
    return make_pm(org, email="paula@acme.example")


def send_now(org, pm, project, contacts, capture, **fields):
    batch = services.create_batch(
        organization=org, actor=pm.user, sender=pm, projects=[project], contacts=contacts, **fields
    )
    with capture(execute=True):
        services.send_batch_now(batch=batch, actor=pm.user)
    batch.refresh_from_db()
    return batch


def test_mail_has_the_score_links_headers_and_sender(
    org, pm, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://cx.example"
    _, people, project = make_account(org, pm, contacts=1)
    send_now(org, pm, project, people, django_capture_on_commit_callbacks, personal_message="Thanks for the year.")
    [message] = smtp_server.to(people[0].email)
    assert message["From"] == "Acme Consulting via Paula Manager <noreply@cxprogram.localhost>"
    assert message["Reply-To"] == "paula@acme.example"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].strip().startswith("<https://cx.example/s/")
    html = smtp_server.html(message)
    assert html.count("?score=") == 11
    assert "Thanks for the year." in smtp_server.text(message)
    request = SurveyRequest.objects.get()
    assert request.state == "sent" and request.message_id == message["Message-ID"]
    assert request.next_reminder_at.date() == (request.sent_at + timedelta(days=4)).date()


def test_skips_opted_out_bounced_and_recently_surveyed(org, pm, django_capture_on_commit_callbacks, mailoutbox):
    client, people, project = make_account(org, pm, contacts=4)
    fresh, opted, bounced, recent = people
    services.opt_out_contact(contact=opted, reason="asked")
    services.record_bounce(organization=org, email=bounced.email, kind="hard", reason="no such user")
    earlier = send_now(org, pm, project, [recent], django_capture_on_commit_callbacks)
    SurveyRequest.objects.filter(batch=earlier).update(sent_at=timezone.now() - timedelta(days=89))
    batch = send_now(org, pm, project, people, django_capture_on_commit_callbacks)
    reasons = dict(BatchContact.objects.filter(batch=batch).values_list("contact_id", "skip_reason"))
    assert reasons == {fresh.pk: "", opted.pk: "opted_out", bounced.pk: "bounced", recent.pk: "throttled"}
    assert (batch.request_count, batch.skipped_count, batch.sent_count) == (1, 3, 1)
    assert [m.to for m in mailoutbox] == [[recent.email], [fresh.email]]


def test_throttle_window_ends_after_the_setting(org, pm, django_capture_on_commit_callbacks):
    _, people, project = make_account(org, pm, contacts=1)
    services.update_settings(organization=org, actor=pm.user, throttle_days=30)
    earlier = send_now(org, pm, project, people, django_capture_on_commit_callbacks)
    SurveyRequest.objects.filter(batch=earlier).update(sent_at=timezone.now() - timedelta(days=31))
    batch = send_now(org, pm, project, people, django_capture_on_commit_callbacks)
    assert batch.request_count == 1 and batch.skipped_count == 0


def test_batch_without_contacts_or_with_past_time_is_refused(org, pm):
    _, people, project = make_account(org, pm, contacts=1)
    with pytest.raises(services.ValidationError) as error:
        services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=[])
    assert "contacts" in error.value.message_dict
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people)
    with pytest.raises(services.ValidationError) as error:
        services.schedule_batch(batch=batch, actor=pm.user, send_at=timezone.now() - timedelta(minutes=1))
    assert "send_at" in error.value.message_dict
    assert Batch.objects.get(pk=batch.pk).state == "draft"


def test_contact_of_another_client_is_refused(org, pm):
    _, people, project = make_account(org, pm, contacts=1)
    _, others, _ = make_account(org, pm, contacts=1)
    with pytest.raises(services.ValidationError) as error:
        services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=others)
    assert "contacts" in error.value.message_dict


def test_scheduled_batch_goes_out_when_due_and_cancel_stops_it(org, pm, django_capture_on_commit_callbacks, mailoutbox):
    from feedback.tasks import send_due_batches

    _, people, project = make_account(org, pm, contacts=2)
    due = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people[:1])
    later = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people[1:])
    services.schedule_batch(batch=due, actor=pm.user, send_at=timezone.now() + timedelta(hours=1))
    services.schedule_batch(batch=later, actor=pm.user, send_at=timezone.now() + timedelta(hours=1))
    services.cancel_batch(batch=later, actor=pm.user)
    Batch.objects.filter(pk=due.pk).update(send_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_batches() == 1
    assert [m.to for m in mailoutbox] == [[people[0].email]]
    assert Batch.objects.get(pk=later.pk).state == "cancelled"
    with pytest.raises(services.ValidationError):
        services.cancel_batch(batch=due, actor=pm.user)


def test_a_lost_claim_sends_nothing(org, pm, smtp_server):
    """A worker whose claim was taken over (the sweep re-queued it) must not send the mail."""
    _, people, project = make_account(org, pm, contacts=1)
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people)
    services.start_batch(batch=batch, from_states=["draft"])
    claim_id, ids = services.claim_requests(batch)
    assert len(ids) == 1
    # The sweep decides the worker died and another worker claims and sends it.
    SurveyRequest.objects.filter(pk=ids[0]).update(claimed_at=timezone.now() - timedelta(hours=1))
    services.requeue_stuck_requests(timedelta(minutes=10))
    assert services.dispatch_batch(org, batch.pk) == 1
    # The original worker wakes up and tries to deliver under its old claim.
    request = SurveyRequest.objects.select_related("contact", "project").get(pk=ids[0])
    request.batch = Batch.objects.select_related("organization", "sender__user", "template_version").get(pk=batch.pk)
    sender = services.GroupSender(1)
    assert services._deliver_group([request], claim_id, sender, first_reminder=None) == 0
    sender.close()
    assert len(smtp_server.to(people[0].email)) == 1
    assert Batch.objects.get(pk=batch.pk).sent_count == 1


def test_a_lost_claim_in_a_group_abandons_only_that_mail(org, pm, smtp_server, settings):
    """One commit covers a group; a request given to another worker meanwhile is left unfinished (its SMTP
    transaction abandoned without the final dot) while the rest of the group is delivered."""
    # A QUIT in the middle of DATA is never answered: a sender that said goodbye instead of abandoning the
    # connection would hang there (for ever without a timeout; for this long with one).
    settings.EMAIL_TIMEOUT = 30
    _, people, project = make_account(org, pm, contacts=3)
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people)
    services.start_batch(batch=batch, from_states=["draft"])
    claim_id, ids = services.claim_requests(batch)
    taken = SurveyRequest.objects.select_related("contact").get(pk=ids[1])
    SurveyRequest.objects.filter(pk=taken.pk).update(claim_id="another-worker")
    batch = Batch.objects.select_related("organization", "sender__user", "template_version").get(pk=batch.pk)
    requests = list(SurveyRequest.objects.filter(pk__in=ids).select_related("contact", "project").order_by("pk"))
    for request in requests:
        request.batch = batch
    sender = services.GroupSender(3)
    started = time.monotonic()
    assert services._deliver_group(requests, claim_id, sender, first_reminder=None) == 2
    assert time.monotonic() - started < 15, "the sender waited on the abandoned connection"
    # The sender goes on with the next group on its remaining connections.
    assert services._deliver_group(requests[:1], claim_id, sender, first_reminder=None) == 0
    sender.close()
    delivered = {m["to"][0] for m in smtp_server.messages}
    assert delivered == {r.contact.email for r in requests} - {taken.contact.email}
    assert SurveyRequest.objects.get(pk=taken.pk).state == "sending"  # still the other worker's to send
    assert Batch.objects.get(pk=batch.pk).sent_count == 2


def test_reminders_go_to_non_responders_on_schedule_and_stop(org, pm, smtp_server, django_capture_on_commit_callbacks):
    from feedback.tasks import send_due_reminders

    _, people, project = make_account(org, pm, contacts=3)
    answered, opted, silent = people
    batch = send_now(org, pm, project, people, django_capture_on_commit_callbacks)
    sent_at = timezone.now() - timedelta(days=4, minutes=1)
    SurveyRequest.objects.filter(batch=batch).update(sent_at=sent_at, next_reminder_at=sent_at + timedelta(days=4))
    request = SurveyRequest.objects.get(contact=answered)
    answer_survey(request, {"nps": "9"})
    services.opt_out_contact(contact=opted, reason="asked")
    assert send_due_reminders() == 1
    assert len(smtp_server.to(silent.email)) == 2
    assert smtp_server.to(silent.email)[1]["Subject"].startswith("Reminder:")
    assert len(smtp_server.to(answered.email)) == 1 and len(smtp_server.to(opted.email)) == 1
    reminded = SurveyRequest.objects.get(contact=silent)
    assert reminded.reminders_sent == 1
    assert reminded.next_reminder_at == sent_at + timedelta(days=9)
    # Running the sweep again before the next one is due sends nothing more.
    assert send_due_reminders() == 0
    SurveyRequest.objects.filter(pk=reminded.pk).update(next_reminder_at=timezone.now() - timedelta(seconds=1))
    assert send_due_reminders() == 1
    reminded.refresh_from_db()
    assert reminded.reminders_sent == 2 and reminded.next_reminder_at is None
    assert len(smtp_server.to(silent.email)) == 3


def test_closing_the_batch_stops_reminders(org, pm, django_capture_on_commit_callbacks, mailoutbox):
    from feedback.tasks import send_due_reminders

    _, people, project = make_account(org, pm, contacts=1)
    batch = send_now(org, pm, project, people, django_capture_on_commit_callbacks)
    SurveyRequest.objects.update(next_reminder_at=timezone.now() - timedelta(seconds=1))
    services.close_batch(batch=batch, actor=pm.user)
    assert send_due_reminders() == 0
    assert len(mailoutbox) == 1


def test_unmailable_contact_at_dispatch_time_is_not_mailed(org, pm, mailoutbox):
    client, people, project = make_account(org, pm, contacts=2)
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people)
    services.start_batch(batch=batch, from_states=["draft"])
    services.opt_out_contact(contact=people[0], reason="asked")
    assert services.dispatch_batch(org, batch.pk) == 1
    batch.refresh_from_db()
    assert (batch.state, batch.sent_count, batch.failed_count) == ("sent", 1, 1)
    assert [m.to for m in mailoutbox] == [[people[1].email]]


def test_bounce_helpers(org, pm):
    client, people, project = make_account(org, pm, contacts=1)
    contact = make_contact(client)
    for _ in range(2):
        services.record_bounce(organization=org, email=contact.email, kind="soft")
    contact.refresh_from_db()
    assert contact.bounced_at is None and contact.soft_bounce_count == 2
    services.record_bounce(organization=org, email=contact.email.upper(), kind="soft")
    contact.refresh_from_db()
    assert contact.bounced_at is not None and not contact.mailable
    batch = Batch.objects.create(
        organization=org,
        name="b",
        template_version=services.default_template(org).current_version,
        sender=pm,
        reply_to="x@example.com",
        state="sent",
    )
    make_sent_request(batch, people[0], project)
    assert services.record_bounce(organization=org, email="nobody@example.com", kind="hard") is None
