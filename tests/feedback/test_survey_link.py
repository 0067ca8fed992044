"""The survey link look-up, the public pages' hottest read: one query loads what the survey page
shows and the submit writes, on PostgreSQL through a function (row-level security is passed for the
one link), elsewhere through the ORM; both give the same objects."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cxprogram.core import tokens
from cxprogram.tenancy.context import get_current_organization
from feedback import selectors
from feedback.models import Response

pytestmark = pytest.mark.django_db

LOADED = ("organization", "contact", "project", "batch")


def loaded_fields(survey_request) -> dict:
    """Every column of the request and of what the look-up loads with it."""
    objects = {
        "request": survey_request,
        **{name: getattr(survey_request, name) for name in LOADED},
        "client": survey_request.project.client,
        "template_version": survey_request.batch.template_version,
        "sender": survey_request.batch.sender,
        "response": getattr(survey_request, "response", None),
    }
    return {
        name: obj and {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
        for name, obj in objects.items()
    } | {"sender_name": survey_request.batch.sender.user.display_name}


@pytest.mark.postgres
def test_one_query_loads_everything_the_pages_use_and_makes_the_organization_current(sent, org):
    _, token = sent
    with CaptureQueriesContext(connection) as queries:
        found = selectors.find_request(token)
        loaded_fields(found)
    assert len(queries.captured_queries) == 1
    assert get_current_organization() == org
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.current_org', true)")
        assert cursor.fetchone()[0] == str(org.pk)


@pytest.mark.postgres
def test_the_postgres_and_orm_look_ups_give_the_same_objects(client, sent):
    request, token = sent
    assert loaded_fields(selectors.find_request(token)) == loaded_fields(
        selectors._find_request_orm(request.token_hash)
    )
    client.post(f"/s/{token}/", {"nps": "9", "reason": "Quick answers", "responsiveness": "5"})
    answered = selectors.find_request(token)
    assert answered.response == Response.objects.get()
    assert loaded_fields(answered) == loaded_fields(selectors._find_request_orm(request.token_hash))


def test_unknown_and_malformed_links_find_nothing(sent):
    request, token = sent
    assert selectors.find_request(tokens.make_token("survey", tokens.new_nonce())) is None
    assert selectors.find_request(token[:-2]) is None
    assert selectors.find_request(token).pk == request.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the requests' own transactions, not savepoints in the test's
def test_the_survey_page_and_the_submit_make_a_fixed_number_of_queries(client, sent):
    _, token = sent
    with CaptureQueriesContext(connection) as page:
        assert client.get(f"/s/{token}/").status_code == 200
    with CaptureQueriesContext(connection) as submit:
        answers = {"nps": "9", "reason": "Quick answers", "responsiveness": "5"}
        assert client.post(f"/s/{token}/", answers).status_code == 302
    # The page: the look-up alone, no transaction around it. The submit, in one transaction: the look-up,
    # the lock, the response, the request and the audit row; nothing on the batch's row, which every
    # submit of the batch would wait for.
    assert [q["sql"].split()[0] for q in page.captured_queries] == ["SELECT"]
    assert [q["sql"].split()[0] for q in submit.captured_queries] == (
        ["BEGIN", "SELECT", "SELECT", "INSERT", "UPDATE", "INSERT", "COMMIT"]
    )


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
