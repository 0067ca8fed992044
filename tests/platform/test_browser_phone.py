"""Every page of the demo organization on a phone: nothing makes the page wider than the screen. A wide
table scrolls in its own box; the page itself never scrolls sideways."""

import pytest

from charters.models import Charter
from cxprogram.core.demo import DEMO_PASSWORD, seed_demo
from feedback.models import Batch, Client, FollowUpCase, Response, SurveyTemplate
from initiatives.models import Initiative, Meeting, RankingRound
from metrics.models import BoardReport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "",
    "charters/",
    "feedback/",
    "feedback/batches/",
    "feedback/batches/new/",
    "feedback/responses/",
    "feedback/cases/",
    "feedback/clients/",
    "feedback/contacts/",
    "feedback/projects/",
    "feedback/imports/",
    "feedback/templates/",
    "feedback/settings/",
    "initiatives/",
    "initiatives/kanban/",
    "initiatives/roadmap/",
    "initiatives/matrix/",
    "initiatives/ranking/",
    "initiatives/board/",
    "initiatives/actions/",
    "initiatives/settings/",
    "metrics/",
    "metrics/summary/",
    "metrics/responses/",
    "metrics/targets/",
    "metrics/adoption/",
    "metrics/reports/",
    "metrics/revenue/",
    "metrics/proposals/",
    "metrics/settings/",
    "settings/",
    "members/",
    "audit/",
]

WIDER_THAN_THE_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const wide = [...document.querySelectorAll("main *")].filter((e) => e.getBoundingClientRect().right > width + 1);
  return wide.slice(0, 3).map((e) => e.tagName.toLowerCase() + "." + e.className).join(", ") || "something";
}"""


def object_pages() -> list[str]:
    meeting = Meeting.objects.filter(state=Meeting.State.HELD).first()
    return [
        f"charters/{Charter.objects.first().pk}/",
        f"feedback/batches/{Batch.objects.first().pk}/",
        f"feedback/responses/{Response.objects.first().pk}/",
        f"feedback/cases/{FollowUpCase.objects.first().pk}/",
        f"feedback/clients/{Client.objects.first().pk}/",
        f"feedback/templates/{SurveyTemplate.objects.first().pk}/",
        f"initiatives/{Initiative.objects.first().pk}/",
        f"initiatives/ranking/{RankingRound.objects.first().pk}/",
        f"initiatives/board/meetings/{meeting.pk}/",
        f"initiatives/board/meetings/{meeting.pk}/minutes/",
        f"metrics/clients/{Client.objects.first().pk}/",
        f"metrics/reports/{BoardReport.objects.first().pk}/",
    ]


def test_no_page_is_wider_than_a_phone(live_server, browser):
    organization = seed_demo()
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "admin@harborview.example")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()

    too_wide = {}
    for path in PAGES + object_pages():
        response = page.goto(f"{live_server.url}/o/{organization.slug}/{path}")
        assert response.status == 200, path
        wide = page.evaluate(WIDER_THAN_THE_SCREEN)
        if wide:
            too_wide[path] = wide
    assert too_wide == {}
    page.close()
