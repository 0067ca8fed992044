"""The public survey's two hot statements: the link look-up, which reads what the public pages show,
and the submit, which checks the link and records the answers. On PostgreSQL each is one function
(row-level security is passed for the one link), elsewhere the ORM does the same; both give the same
link and the same rows."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cxprogram.audit.models import AuditEvent
from cxprogram.core import tokens
from feedback import questions, selectors, services
from feedback.models import Batch, FollowUpCase, Response, SurveyRequest
from tests.feedback.factories import make_contact, make_sent_request, make_template_version

pytestmark = pytest.mark.django_db

ANSWERS = {"nps": "9", "reason": "Quick answers", "responsiveness": "5"}


def both_look_ups(request) -> tuple:
    return selectors.survey_link(services.survey_token(request)), selectors._survey_link_orm(request.token_hash)


@pytest.mark.postgres
def test_one_query_reads_the_link_and_makes_its_organization_current(sent, org):
    request, token = sent
    with CaptureQueriesContext(connection) as queries:
        link = selectors.survey_link(token)
    assert len(queries.captured_queries) == 1
    assert (link.request_id, link.organization_name, link.project_name, link.sender_name) == (
        request.pk,
        "Acme Consulting",
        request.project.name,
        "Paula Manager",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.current_org', true)")
        assert cursor.fetchone()[0] == str(org.pk)


@pytest.mark.postgres
def test_the_postgres_and_orm_look_ups_give_the_same_link_in_every_state(client, sent):
    request, token = sent
    fresh, _ = both_look_ups(request)
    assert (fresh.closed, fresh.answered, fresh.will_contact, fresh.saved_answers) == (False, False, False, {})
    client.post(f"/s/{token}/autosave/", {"reason": "Half a thought"})
    drafted, orm = both_look_ups(request)
    assert drafted == orm and drafted.saved_answers == {"reason": "Half a thought"}
    client.post(f"/s/{token}/", {"nps": "3"})  # a detractor: a case, so the client will be contacted
    answered, orm = both_look_ups(request)
    assert answered == orm and (answered.answered, answered.will_contact) == (True, True)
    assert answered.saved_answers == {"nps": 3}
    for change in (
        {"expires_at": timezone.now() - timedelta(minutes=1)},
        {"revoked_at": timezone.now()},
        {"state": SurveyRequest.State.BOUNCED},
    ):
        SurveyRequest.objects.filter(pk=request.pk).update(**change)
        closed, orm = both_look_ups(request)
        assert closed == orm and closed.closed
        SurveyRequest.objects.filter(pk=request.pk).update(state="sent", expires_at=None, revoked_at=None)
    assert not both_look_ups(request)[0].closed
    Batch.objects.filter(pk=request.batch_id).update(state=Batch.State.CLOSED)
    closed, orm = both_look_ups(request)
    assert closed == orm and closed.closed


def test_unknown_and_malformed_links_find_nothing(sent):
    request, token = sent
    assert selectors.survey_link(tokens.make_token("survey", tokens.new_nonce())) is None
    assert selectors.survey_link(token[:-2]) is None
    assert selectors.survey_link(token).request_id == request.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the requests' own transactions, not savepoints in the test's
def test_the_survey_page_its_autosave_and_the_submit_are_one_statement_each(client, sent):
    _, token = sent
    client.get(f"/s/{token}/")  # the version's questions are read once per process
    with CaptureQueriesContext(connection) as page:
        assert client.get(f"/s/{token}/").status_code == 200
    version = selectors.survey_link(token).template_version_id
    with CaptureQueriesContext(connection) as autosave:
        saved = client.post(f"/s/{token}/autosave/", {"nps": "9", "version": str(version), "language": "en"})
        assert saved.content == b"Saved"
    with CaptureQueriesContext(connection) as submit:
        assert client.post(f"/s/{token}/", {**ANSWERS, "version": str(version)}).status_code == 302
    # No transaction around either: the page reads the link; the submit's one statement checks the
    # link, records the response, marks the request answered and writes the audit row.
    assert [q["sql"] for q in page.captured_queries] == [
        f"SELECT * FROM feedback_survey_link('{tokens.hash_token(token)}')"
    ]
    [statement] = [q["sql"] for q in autosave.captured_queries]
    assert statement.startswith("SELECT feedback_save_draft(")
    [statement] = [q["sql"] for q in submit.captured_queries]
    assert statement.startswith("SELECT outcome, response_id FROM feedback_submit_answers(")
    # A form that does not name the version (or names one this process has not shown) reads the link first.
    with CaptureQueriesContext(connection) as unnamed:
        assert client.post(f"/s/{token}/", {"nps": "10"}).status_code == 302
    assert [re.search(r"FROM (\w+)\(", q["sql"]).group(1) for q in unnamed.captured_queries] == [
        "feedback_survey_link",
        "feedback_submit_answers",
    ]
    assert Response.objects.get().nps_score == 10


@pytest.mark.postgres
def test_the_database_and_orm_submits_record_the_same_rows(sent):
    """Two links of one batch answered alike, one through the PostgreSQL function and one through the
    ORM, leave the same response, request and audit rows (ids and moments aside)."""
    first, _ = sent
    second = make_sent_request(first.batch, make_contact(first.project.client), first.project)
    version = selectors.survey_version(selectors.survey_link(services.survey_token(first)))
    answers, _ = questions.clean_answers(version.questions, {**ANSWERS, "follow_up": "yes"}, partial=False)
    fields = {"nps_score": 9, "answers": answers, "follow_up_requested": True}

    def recorded(submit, request):
        outcome, response_id = submit(request.token_hash, version, fields, timezone.now())
        response = Response.objects.get(pk=response_id)
        request.refresh_from_db()
        event = AuditEvent.objects.filter(target_type="feedback.response", target_id=str(response_id)).latest("id")
        return outcome, {
            "response": {
                f.attname: getattr(response, f.attname)
                for f in Response._meta.concrete_fields
                if f.attname not in ("id", "request_id", "contact_id", "submitted_at", "updated_at")
            },
            "request": (request.responded_at is not None, request.next_reminder_at, request.draft_answers),
            "audit": (
                event.verb,
                event.actor_id,
                event.actor_label.replace(request.contact.name, "<contact>"),
                event.target_label.replace(f"Response {response_id} ", "Response N "),
                event.payload,
                event.ip_address,
            ),
        }

    in_database, through_orm = (
        recorded(services._submit_in_database, first),
        recorded(services._submit_through_orm, second),
    )
    assert in_database == through_orm
    assert in_database[1]["audit"][:3] == ("response.submitted", None, "<contact> (client)")  # the log names the client
    assert recorded(services._submit_in_database, first) == recorded(services._submit_through_orm, second)
    assert recorded(services._submit_in_database, first)[0] == services.UPDATED
    assert AuditEvent.objects.filter(verb="response.updated").count() == 3


@pytest.mark.postgres
def test_the_database_and_orm_submits_refuse_alike(sent):
    request, _ = sent
    version = selectors.survey_version(selectors.survey_link(services.survey_token(request)))
    fields = {"nps_score": 9, "answers": {"nps": 9}, "follow_up_requested": False}

    def outcomes(token_hash, the_version=version):
        submits = {
            submit(token_hash, the_version, fields, timezone.now())[0]
            for submit in (services._submit_in_database, services._submit_through_orm)
        }
        token = services.survey_token(request) if token_hash == request.token_hash else "x" * 43
        drafts = set()
        for in_database in (True, False):
            with override_settings(IS_POSTGRES=in_database):
                drafts.add(services.save_draft(token=token, version=the_version, answers={"nps": 9}))
        assert drafts == submits
        return submits

    assert outcomes("0" * 64) == {services.UNKNOWN}
    other_version = version.__class__.objects.create(
        organization=request.organization, template=version.template, number=99, questions=version.questions
    )
    assert outcomes(request.token_hash, other_version) == {services.STALE}
    SurveyRequest.objects.filter(pk=request.pk).update(revoked_at=timezone.now())
    assert outcomes(request.token_hash) == {services.CLOSED}
    assert Response.objects.count() == 0 and not FollowUpCase.objects.exists()
    request.refresh_from_db()
    assert request.draft_answers == {}


def test_a_form_naming_another_version_is_answered_against_the_links_own(client, sent, org):
    """Another link's version, shown by this process, posted to this link (a form from before a change,
    or a forged one): nothing is recorded against it; the link is read and its own questions apply."""
    request, token = sent
    other_version = make_template_version(org)  # its only questions: nps and reason
    other_batch = services.create_batch(
        organization=org,
        actor=None,
        sender=request.batch.sender,
        projects=[request.project],
        contacts=[request.contact],
        template_version=other_version,
    )
    other = make_sent_request(other_batch, request.contact, request.project)
    assert b'name="version"' in client.get(f"/s/{services.survey_token(other)}/").content  # now shown here
    posted = {"nps": "8", "responsiveness": "2", "version": str(other_version.pk)}
    assert client.post(f"/s/{token}/", posted).status_code == 302
    response = Response.objects.get(request=request)
    assert response.template_version_id == request.batch.template_version_id
    assert response.answers == {"nps": 8, "responsiveness": 2}  # a question only this link's version asks
    assert client.post(f"/s/{token}/", {"nps": "x", "version": "not a number"}).status_code == 400


def test_the_questions_are_rendered_once_per_score_and_show_saved_answers_and_the_name(client, sent, org):
    _, token = sent
    assert b'value="3" checked' in client.get(f"/s/{token}/?score=3").content
    page = client.get(f"/s/{token}/?score=9").content
    assert b'value="9" checked' in page and b'value="3" checked' not in page
    client.post(f"/s/{token}/autosave/", {"nps": "7", "reason": "Half way"})
    page = client.get(f"/s/{token}/").content
    assert b'value="7" checked' in page and b"Half way" in page
    org.name = "Acme Renamed"
    org.save()
    assert b"recommend Acme Renamed" in client.get(f"/s/{token}/?score=9").content


def test_a_kept_page_carries_each_visitors_link_and_csrf_token(sent):
    """Pages are kept per version, names and score; the link and the CSRF token are each visit's own."""
    from django.test import Client as HttpClient

    first, first_token = sent
    second = make_sent_request(first.batch, make_contact(first.project.client), first.project)
    second_token = services.survey_token(second)
    pages = {}
    for token in (first_token, second_token):
        visitor = HttpClient(enforce_csrf_checks=True)
        page = visitor.get(f"/s/{token}/").content.decode()
        assert page.count(f"/s/{token}/") == 2  # the form and its autosave
        assert visitor.cookies["csrftoken"].value
        pages[token] = page
        csrf = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        version = page.split('name="version" value="')[1].split('"')[0]
        answered = visitor.post(f"/s/{token}/", {"nps": "8", "csrfmiddlewaretoken": csrf, "version": version})
        assert answered.status_code == 302
    assert "tokenslot" not in pages[first_token] and "csrfslot" not in pages[first_token]
    assert Response.objects.filter(nps_score=8).count() == 2


@pytest.mark.postgres
def test_the_token_hash_has_one_index_which_the_look_up_uses(sent):
    request, _ = sent
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            ["feedback_surveyrequest", "%(token_hash%"],
        )
        assert [name for (name,) in cursor.fetchall()] == ["request_token_hash"]  # every request write updates it
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is small enough to scan
        cursor.execute("EXPLAIN SELECT id FROM feedback_surveyrequest WHERE token_hash = %s", [request.token_hash])
        assert "request_token_hash" in " ".join(line for (line,) in cursor.fetchall())
