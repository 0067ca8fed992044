"""The client's survey, unsubscribing, the bounce webhook, and the follow-up case a low score opens."""

import hashlib
import hmac
import json
import re
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.utils import timezone

from cxprogram.audit.models import AuditEvent
from feedback import selectors, services
from feedback.models import Contact, FollowUpCase, Response, SurveyRequest
from tests.feedback.factories import answer_survey

pytestmark = pytest.mark.django_db


def test_a_scanner_following_a_score_link_records_nothing(client, sent):
    request, token = sent
    page = client.get(f"/s/{token}/?score=3")
    assert page.status_code == 200
    assert b'value="3" checked' in page.content
    assert Response.objects.count() == 0
    request.refresh_from_db()
    assert request.responded_at is None and request.draft_answers == {}


def test_confirming_records_the_response_and_a_detractor_opens_a_case_with_alert(
    client, sent, mailoutbox, django_capture_on_commit_callbacks
):
    request, token = sent
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(f"/s/{token}/", {"nps": "3", "reason": "Drawings came late", "responsiveness": "2"})
    assert page.status_code == 302 and page["Location"] == f"/s/{token}/thanks/"
    response = Response.objects.get()
    assert (response.nps_score, response.answers["reason"], response.project_manager.user.email) == (
        3,
        "Drawings came late",
        "paula@acme.example",
    )
    case = FollowUpCase.objects.get()
    assert case.trigger == "detractor" and case.owner.user.email == "paula@acme.example"
    assert 2 <= (case.due_at - case.created_at).days <= 4  # two business days, weekends skipped
    [alert] = mailoutbox
    assert sorted(alert.to) == ["coe@acme.example", "paula@acme.example"]
    assert "Drawings came late" in alert.body and "3" in alert.subject
    thanks = client.get(f"/s/{token}/thanks/")
    assert b"contact you within two business days" in thanks.content


def test_submitting_twice_updates_the_one_response(client, sent, django_capture_on_commit_callbacks):
    request, token = sent
    client.post(f"/s/{token}/", {"nps": "6"})
    client.post(f"/s/{token}/", {"nps": "9", "reason": "Second thoughts"})
    response = Response.objects.get()
    assert response.nps_score == 9 and response.answers["reason"] == "Second thoughts"
    assert FollowUpCase.objects.count() == 1  # opened by the first answer, kept
    assert selectors.batch_progress(request.batch)["responses"] == 1


def test_the_batch_pages_and_the_api_count_an_answered_link_once(client, sent, owner_client):
    request, token = sent
    batch = request.batch
    api = f"/api/v1/orgs/acme/feedback/batches/{batch.pk}/"
    assert owner_client.get(api).json()["response_count"] == 0
    client.post(f"/s/{token}/", {"nps": "6"})
    client.post(f"/s/{token}/", {"nps": "9"})
    listing = owner_client.get("/o/acme/feedback/batches/").content.decode()
    row = re.search(rf"<tr><td><a [^>]+>{re.escape(batch.name)}</a>.*?</tr>", listing, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["1", "0", "1"]  # requests, skipped, responses
    assert "1 of 1 sent · 1 response<" in owner_client.get(f"/o/acme/feedback/batches/{batch.pk}/").content.decode()
    assert owner_client.get(api).json()["response_count"] == 1
    assert owner_client.get(api + "progress/").json()["responses"] == 1
    [listed] = owner_client.get("/api/v1/orgs/acme/feedback/batches/").json()["results"]
    assert listed["response_count"] == 1


@pytest.mark.parametrize("score", ["11", "-1", "x", ""])
def test_bad_or_missing_score_is_refused_and_nothing_recorded(client, sent, score):
    _, token = sent
    page = client.post(f"/s/{token}/", {"nps": score})
    assert page.status_code == 400
    assert b"Please answer this question." in page.content
    assert Response.objects.count() == 0


def test_autosave_keeps_partial_answers_without_a_response(client, sent):
    request, token = sent
    page = client.post(f"/s/{token}/autosave/", {"reason": "Half a thought"})
    assert page.status_code == 200 and page.content == b"Saved"
    request.refresh_from_db()
    assert request.draft_answers == {"reason": "Half a thought"}
    assert Response.objects.count() == 0
    assert b"Half a thought" in client.get(f"/s/{token}/").content


@pytest.mark.parametrize(
    "in_database", [pytest.param(True, marks=pytest.mark.postgres, id="function"), pytest.param(False, id="orm")]
)
def test_autosave_from_the_page_answers_in_its_language_and_stops_when_the_link_closes(
    client, sent, settings, in_database
):
    request, token = sent
    settings.IS_POSTGRES = in_database  # on PostgreSQL, the ORM's way too
    Contact.objects.filter(pk=request.contact_id).update(language="fr")
    page = client.get(f"/s/{token}/").content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    saved = client.post(f"/s/{token}/autosave/", {**hidden, "nps": "8", "reason": "Presque"})
    assert saved.status_code == 200 and saved.content.decode() == "Enregistré"
    request.refresh_from_db()
    assert request.draft_answers == {"nps": 8, "reason": "Presque"}
    SurveyRequest.objects.filter(pk=request.pk).update(revoked_at=timezone.now())
    refused = client.post(f"/s/{token}/autosave/", {**hidden, "nps": "2"})
    assert refused.status_code == 410 and "Ce questionnaire est fermé" in refused.content.decode()
    request.refresh_from_db()
    assert request.draft_answers == {"nps": 8, "reason": "Presque"}


def test_tampered_truncated_expired_and_closed_links_get_a_friendly_page(client, sent):
    request, token = sent
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, token[:20], "not-a-token", "x" * 500):
        page = client.get(f"/s/{bad}/")
        assert page.status_code == 404 and b"This survey is closed" in page.content
        assert client.post(f"/s/{bad}/", {"nps": "9"}).status_code == 404
    SurveyRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page = client.get(f"/s/{token}/")
    assert page.status_code == 410 and b"This survey is closed" in page.content
    assert b"Paula Manager \xc2\xb7 Acme Consulting" in page.content  # whom to write to instead
    assert client.post(f"/s/{token}/", {"nps": "9"}).status_code == 410
    assert Response.objects.count() == 0


def test_survey_speaks_the_contacts_language(client, sent):
    request, token = sent
    Contact.objects.filter(pk=request.contact_id).update(language="fr")
    page = client.get(f"/s/{token}/")
    assert b'lang="fr"' in page.content and "Envoyer mes réponses".encode() in page.content


def test_rate_limit_per_link_answers_429(client, sent, settings):
    _, token = sent
    from feedback import public_views

    codes = [client.get(f"/s/{token}/").status_code for _ in range(public_views.RATE_LIMITS["token"] + 1)]
    assert codes[:-1] == [200] * public_views.RATE_LIMITS["token"] and codes[-1] == 429


def test_one_click_unsubscribe_works_without_cookies_or_csrf(sent):
    request, token = sent
    anonymous = HttpClient(enforce_csrf_checks=True)
    page = anonymous.post(
        f"/s/{token}/unsubscribe/", "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert page.status_code == 200
    contact = Contact.objects.get(pk=request.contact_id)
    assert contact.opted_out_at is not None and not contact.mailable
    request.refresh_from_db()
    assert request.next_reminder_at is None
    event = AuditEvent.objects.get(verb="contact.opted_out", target_id=str(contact.pk))
    assert event.actor_label == f"{contact.name} (client)"  # the log names who opted out, not "System"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_webhook_with_good_signature_bounces_and_forged_one_changes_nothing(client, org, sent):
    request, _ = sent
    services.update_settings(organization=org, actor=None, webhook_secret="s3cret-hook")
    email = request.contact.email
    body = json.dumps({"events": [{"type": "bounce", "bounce_type": "hard", "email": email, "reason": "550"}]}).encode()
    url = f"/hooks/feedback/bounces/{org.slug}/"
    forged = client.post(url, body, content_type="application/json", headers={"X-CX-Signature": sign("wrong", body)})
    assert forged.status_code == 403
    unsigned = client.post(url, body, content_type="application/json")
    assert unsigned.status_code == 403
    assert Contact.objects.get(pk=request.contact_id).bounced_at is None
    good = client.post(
        url, body, content_type="application/json", headers={"X-CX-Signature": "sha256=" + sign("s3cret-hook", body)}
    )
    assert good.status_code == 200 and good.json() == {"applied": 1}
    contact = Contact.objects.get(pk=request.contact_id)
    assert contact.bounced_at is not None and contact.bounce_reason == "550"
    junk = b"not json"
    assert (
        client.post(url, junk, content_type="application/json", headers={"X-CX-Signature": sign("s3cret-hook", junk)})
    ).status_code == 400


def test_promoter_answer_opens_no_case_but_a_follow_up_request_does(client, sent):
    request, token = sent
    client.post(f"/s/{token}/", {"nps": "10", "follow_up": "no"})
    assert FollowUpCase.objects.count() == 0
    client.post(f"/s/{token}/", {"nps": "10", "follow_up": "yes"})
    assert FollowUpCase.objects.get().trigger == "follow_up_requested"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_link_at_once_make_one_response_and_the_later_answers_win(sent):
    """The second submit waits for the first one's response to commit; then it must find that response
    and update it (not insert a second: a unique violation, i.e. a 500)."""
    request, token = sent
    first_recorded, outcome = threading.Event(), {}

    def first():
        with transaction.atomic():
            answer_survey(request, {"nps": "4"})
            first_recorded.set()
            time.sleep(0.5)  # the second submit is now waiting on the response's row
        connection.close()

    def second():
        first_recorded.wait(5)
        try:
            with transaction.atomic():
                answer_survey(request, {"nps": "9"})
            outcome["error"] = None
        except Exception as error:  # reported by the assertion below, whatever it is
            outcome["error"] = error
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert outcome == {"error": None}
    [response] = Response.objects.filter(request=request)
    assert response.nps_score == 9
    request.refresh_from_db()
    assert request.responded_at is not None
    assert selectors.batch_progress(request.batch)["responses"] == 1
