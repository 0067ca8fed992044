"""The public survey on a phone and on a desktop: the 0-10 buttons are all the same size, fit the card, and a
tap on one selects it."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_score_buttons_are_equal_fit_the_card_and_select_on_a_tap(live_server, browser, sent, width):
    _, token = sent
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}/s/{token}/")

    buttons = page.locator(".scale-nps .scale-option span")
    expect(buttons).to_have_count(11)
    boxes = [buttons.nth(i).bounding_box() for i in range(11)]
    card = page.locator(".scale-nps").bounding_box()
    assert max(b["width"] for b in boxes) - min(b["width"] for b in boxes) < 1, [round(b["width"]) for b in boxes]
    assert all(card["x"] <= b["x"] and b["x"] + b["width"] <= card["x"] + card["width"] + 0.5 for b in boxes)
    assert min(b["width"] for b in boxes) >= 40  # a thumb's width
    rows = len({round(b["y"]) for b in boxes})
    assert rows == (2 if width < 600 else 1)

    buttons.nth(7).click()
    expect(page.locator('input[name="nps"][value="7"]')).to_be_checked()
    page.close()
