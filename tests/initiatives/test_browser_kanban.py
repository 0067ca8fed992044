"""Dragging kanban cards: a move the rules allow goes through; a refused one says why and the card goes back."""

import pytest
from playwright.sync_api import expect

from initiatives import services
from initiatives.models import Initiative, Status
from tests.initiatives.factories import make_initiative
from tests.initiatives.test_browser_journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_drag_cards_between_columns(live_server, browser, org, owner):
    scored = make_initiative(org, owner, Status.QUALIFIED, title="Scored idea")
    services.save_score(initiative=scored, actor=owner, customer_benefit=5, business_value=5, cost=0, effort_days=2)
    unscored = make_initiative(org, owner, Status.QUALIFIED, title="Unscored idea")
    page = log_in(browser, live_server.url, owner.user.email)
    page.goto(f"{live_server.url}/o/{org.slug}/initiatives/kanban/")
    ranked_column = page.locator(".kanban-cards[data-status=ranked]")
    approved_column = page.locator(".kanban-cards[data-status=approved]")
    qualified_column = page.locator(".kanban-cards[data-status=qualified]")

    page.locator(f".kanban-card[data-id='{unscored.pk}'] a").drag_to(approved_column)
    expect(page.locator("#kanban-message")).to_contain_text("The change board decides this")
    expect(qualified_column.locator(f".kanban-card[data-id='{unscored.pk}']")).to_be_visible()

    page.locator(f".kanban-card[data-id='{scored.pk}'] a").drag_to(ranked_column)
    expect(page.locator("#kanban-message")).to_contain_text(f"{scored.code} moved to ranked")
    expect(ranked_column.locator(f".kanban-card[data-id='{scored.pk}']")).to_be_visible()
    assert Initiative.objects.get(pk=scored.pk).status == Status.RANKED
    assert Initiative.objects.get(pk=unscored.pk).status == Status.QUALIFIED
