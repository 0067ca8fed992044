"""While the database does not answer, pages are a friendly 503 to try again (with the security headers),
never a 500; a client's survey answers come back on the retry page and go through once it answers again."""

import html
import re
from urllib.parse import urlparse

import pytest
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client as HttpClient

from cxprogram.tenancy import services as tenancy_services
from cxprogram.tenancy.permissions import Role
from feedback import services
from feedback.models import Response
from tests.feedback.factories import make_account, make_pm
from tests.platform.test_security import assert_security_headers

pytestmark = pytest.mark.django_db

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def failing(table: str, error=OperationalError):
    """An execute wrapper: every query on `table` fails as it would with the database server gone."""

    def wrapper(execute, sql, params, many, context):
        if table in sql:
            raise error("terminating connection due to administrator command")
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper)


@pytest.fixture
def survey_link(org, django_capture_on_commit_callbacks):
    pm = make_pm(org)
    _, people, project = make_account(org, pm, contacts=1)
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_batch_now(batch=batch, actor=pm.user)
    return f"/s/{services.survey_token(batch.requests.get())}/"


def assert_retry_page(response):
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "We could not save that just now" in page and "try again" in page
    assert "Traceback" not in page
    assert_security_headers(response, response.request["PATH_INFO"])
    return page


def test_a_survey_submit_without_the_database_keeps_the_answers_for_the_retry(survey_link):
    browser = HttpClient(enforce_csrf_checks=True)
    form_page = browser.get(survey_link).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page).group(1)
    answers = {"nps": "9", "reason": 'Quick "answers" & clear plans', "responsiveness": "5"}
    with failing("feedback_"):  # every statement of the survey's (its functions' names start so too)
        page = assert_retry_page(browser.post(survey_link, {**answers, "csrfmiddlewaretoken": csrf}))
    assert Response.objects.count() == 0
    assert "nothing you entered is lost" in page
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    fields = {name: html.unescape(value) for name, value in HIDDEN.findall(form.group(2))}
    assert fields.pop("csrfmiddlewaretoken")
    assert (form.group(1), fields) == (survey_link, answers)

    # The database is back: the retry page's button sends the same answers, with its own CSRF token.
    retried = browser.post(form.group(1), dict(HIDDEN.findall(form.group(2))) | fields)
    assert retried.status_code == 302 and retried["Location"] == f"{survey_link}thanks/"
    stored = Response.objects.get()
    assert (stored.nps_score, stored.answers["reason"]) == (9, answers["reason"])


def test_a_member_page_without_the_database_offers_to_try_again(owner_client, org):
    with failing("tenancy_membership"):
        page = assert_retry_page(owner_client.get(f"/o/{org.slug}/"))
    assert f'href="/o/{org.slug}/"' in page and "<form" not in page


def test_a_form_post_elsewhere_sends_the_person_back_to_their_form(owner_client, org):
    with failing("tenancy_membership"):
        page = assert_retry_page(owner_client.post(f"/o/{org.slug}/units/", {"name": "Secret plans"}))
    assert "go back with your browser" in page
    assert "Secret plans" not in page  # only marked views echo what was posted


def test_the_api_answers_503_in_its_error_format(owner_client, org):
    with failing("tenancy_membership"):
        response = owner_client.get(f"/api/v1/orgs/{org.slug}/units/")
    assert response.status_code == 503 and response["Retry-After"].isdigit()
    assert response.json()["error"]["code"] == "unavailable"


def test_a_session_that_cannot_be_saved_is_a_503_too(owner, org):
    """The invitation page stashes the link in the session, saved by its middleware after the view."""
    invitation = tenancy_services.invite_member(
        organization=org, actor=owner.user, email="nina@example.com", roles=[Role.STAFF]
    )
    visitor = HttpClient(raise_request_exception=False)
    with failing("django_session"):
        page = assert_retry_page(visitor.get(urlparse(tenancy_services.invitation_url(invitation)).path))
    assert "Something went wrong" not in page


def test_a_programming_error_is_still_a_500(owner, org):
    web = HttpClient(raise_request_exception=False)
    web.force_login(owner.user)
    with failing("tenancy_membership", ProgrammingError):
        response = web.get(f"/o/{org.slug}/")
    assert response.status_code == 500
