"""A response or a follow-up case can be turned into an idea for the change board: the link is on
both pages and opens the idea form already filled in and linked back to the feedback."""

import html

import pytest

from feedback.models import FollowUpCase, Response
from initiatives.models import Initiative
from tests.conftest import client_for
from tests.feedback.factories import make_pm, populate

pytestmark = pytest.mark.django_db


@pytest.fixture
def pm(org, owner):
    pm = make_pm(org, email="paula@acme.example")
    populate(org, {"owner": owner, "project_manager": pm})
    return pm


def follow_idea_link(browser, page_url: str) -> tuple[str, str]:
    """(the link's address, the idea form it opens, as text)."""
    page = browser.get(page_url)
    assert page.status_code == 200
    content = page.content.decode()
    marker = "Turn into an idea</a>"
    assert marker in content
    start = content.rindex('href="', 0, content.index(marker)) + len('href="')
    link = html.unescape(content[start : content.index('"', start)])
    form = browser.get(link)
    assert form.status_code == 200
    return link, html.unescape(form.content.decode())


def test_response_page_links_to_a_prefilled_idea(org, pm):
    response = Response.objects.get()
    link, form = follow_idea_link(client_for(pm), f"/o/{org.slug}/feedback/responses/{response.pk}/")
    assert link == f"/o/{org.slug}/initiatives/ideas/new/?response={response.pk}"
    assert f"Raised from Populated client's feedback on {response.project}, scored 3/10." in form
    assert f'name="response" value="{response.pk}"' in form
    assert 'name="case" value="' not in form


def test_case_page_links_to_a_prefilled_idea_that_names_the_case(org, pm):
    case = FollowUpCase.objects.get()
    link, form = follow_idea_link(client_for(pm), f"/o/{org.slug}/feedback/cases/{case.pk}/")
    assert link == f"/o/{org.slug}/initiatives/ideas/new/?case={case.pk}"
    assert f"scored 3/10. Follow-up case {case.pk}." in form
    assert f'name="case" value="{case.pk}"' in form
    assert f'name="response" value="{case.response_id}"' in form


def test_the_idea_raised_from_a_case_keeps_its_link_to_it(org, pm):
    case = FollowUpCase.objects.get()
    browser = client_for(pm)
    link, _ = follow_idea_link(browser, f"/o/{org.slug}/feedback/cases/{case.pk}/")
    saved = browser.post(
        link,
        {
            "title": "Answer client questions within a day",
            "description": "Raised from a slow-answers case.",
            "source": "client_feedback",
            "source_reference": "Populated client",
            "response": case.response_id,
            "case": case.pk,
        },
        follow=True,
    )
    assert "your idea is" in saved.content.decode()
    idea = Initiative.objects.get(title="Answer client questions within a day")
    assert (idea.case_id, idea.response_id) == (case.pk, case.response_id)
