"""The journey in a real browser: a member submits an idea; the CoE qualifies and scores it and opens a
ranking round; a stakeholder orders the list with the keyboard buttons; the board approves it with a
deadline at its meeting; it appears on the roadmap."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cxprogram.tenancy.permissions import Role
from initiatives import services
from initiatives.models import AgendaItem, Ballot, Initiative, Status
from tests.factories import PASSWORD, add_member, make_user
from tests.fixtures.mail import Mailbox
from tests.initiatives.factories import make_initiative

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(browser, base, email):
    page = browser.new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    return page


def test_idea_to_roadmap(live_server, browser, smtp_server, settings, org, owner):
    settings.SITE_URL = base = live_server.url
    add_member(org, [Role.STAFF], user=make_user("riley@acme.example", "Riley Chen"))
    coe = add_member(org, [Role.CX_COE], user=make_user("jordan@acme.example", "Jordan Lee"))
    add_member(org, [Role.EXECUTIVE], user=make_user("morgan@acme.example", "Morgan Reyes"), title="CEO")
    other = make_initiative(org, coe, Status.QUALIFIED, title="Shared calendar of client dates")
    services.save_score(initiative=other, actor=coe, customer_benefit=4, business_value=4, cost=0, effort_days=3)
    slug = org.slug

    # A member submits an idea.
    staff = log_in(browser, base, "riley@acme.example")
    staff.goto(f"{base}/o/{slug}/initiatives/")
    staff.get_by_role("link", name="Submit an idea").click()
    staff.get_by_label("Your idea in a sentence").fill("Site-visit summary within a day")
    staff.get_by_label("What happens today, and what should change?").fill("Clients wait a week for site notes.")
    staff.get_by_role("button", name="Submit the idea").click()
    expect(staff.locator(".messages")).to_contain_text("your idea is CX-002")
    idea = Initiative.objects.get(title="Site-visit summary within a day")

    # The CoE qualifies and scores it.
    jordan = log_in(browser, base, "jordan@acme.example")
    jordan.goto(f"{base}/o/{slug}/initiatives/{idea.pk}/")
    jordan.get_by_role("link", name="Qualify…").click()
    jordan.get_by_label("Horizon").select_option("short")
    jordan.get_by_role("button", name="Qualify").click()
    expect(jordan.locator(".messages")).to_contain_text("CX-002 is now qualified")
    jordan.get_by_role("link", name="Score").click()
    jordan.get_by_label("Customer benefit (0-10)").fill("8")
    jordan.get_by_label("Business value (0-10)").fill("6")
    jordan.get_by_label("Cost").fill("500")
    jordan.get_by_label("Effort (person-days)").fill("4")
    jordan.get_by_role("button", name="Save the score").click()
    # (8 + 6) × 80% ÷ 4 = 2.8
    expect(jordan.locator(".formula").first).to_contain_text("÷ effort 4 person-days = 2.80")

    # The CoE opens a ranking round; the stakeholder is mailed a link.
    jordan.goto(f"{base}/o/{slug}/initiatives/ranking/new/")
    jordan.get_by_label("Title").fill("Next quarter")
    jordan.get_by_label("CX-001 Shared calendar of client dates").check()
    jordan.get_by_label("CX-002 Site-visit summary within a day").check()
    jordan.get_by_label("Morgan Reyes · CEO").check()
    jordan.get_by_role("button", name="Open the round").click()
    expect(jordan.locator(".messages")).to_contain_text("The round is open")
    (mail,) = smtp_server.to("morgan@acme.example")
    link = re.search(r"https?://\S+/ranking/\d+/", Mailbox.text(mail)).group(0)

    # The stakeholder tries the order with the keyboard buttons and saves it.
    morgan = log_in(browser, base, "morgan@acme.example")
    morgan.goto(link)
    rows = morgan.locator(".ballot-item .ballot-title")
    expect(rows.first).to_contain_text("CX-002")
    morgan.get_by_role("button", name="Move CX-002 down").focus()
    morgan.keyboard.press("Enter")
    expect(rows.first).to_contain_text("CX-001")
    expect(morgan.locator("#ballot-status")).to_have_text("CX-002 is now number 2 of 2.")
    morgan.get_by_role("button", name="Move CX-002 up").focus()
    morgan.keyboard.press("Enter")
    expect(rows.first).to_contain_text("CX-002")
    expect(morgan.locator("#ballot-status")).to_have_text("CX-002 is now number 1 of 2.")
    morgan.get_by_role("button", name="Save my ranking").click()
    expect(morgan.locator(".messages")).to_contain_text("Your ranking is saved")
    assert Ballot.objects.get().order == [idea.pk, other.pk]

    # The CoE closes the round: the combined rank sets the priority.
    jordan.goto(link)
    jordan.get_by_role("button", name="Close now").click()
    expect(jordan.locator(".messages")).to_contain_text("The round is closed")
    idea.refresh_from_db()
    assert (idea.status, idea.priority) == (Status.RANKED, 1)

    # At the change board, the CoE records attendance and approves it with a deadline.
    jordan.goto(f"{base}/o/{slug}/initiatives/board/")
    jordan.locator("a.btn-primary", has_text="Change board of").click()
    jordan.get_by_label("Jordan Lee").check()
    jordan.get_by_label("Morgan Reyes · CEO").check()
    jordan.get_by_role("button", name="Save attendance").click()
    jordan.get_by_role("button", name="Refresh the agenda").click()
    item = AgendaItem.objects.get(initiative=idea)
    section = jordan.locator(f"#item-{item.pk}")
    section.locator("summary", has_text="Decide").click()
    section.get_by_label("Approve").check()
    deadline = timezone.localdate() + timedelta(days=75)
    section.get_by_label("Deadline").fill(deadline.isoformat())
    section.get_by_label("Owner").select_option(label="Jordan Lee")
    section.get_by_label("Person-days").fill("4")
    section.get_by_label("Budget").fill("500")
    section.get_by_role("button", name="Record the decision").click()
    expect(jordan.locator(".messages")).to_contain_text("CX-002: decision recorded")
    expect(jordan.locator(f"#item-{item.pk} .decision")).to_contain_text("Approved")

    # It is on the roadmap: in its lane and on the timeline chart.
    jordan.goto(f"{base}/o/{slug}/initiatives/roadmap/")
    expect(jordan.locator("#lane-short + ul")).to_contain_text("CX-002 Site-visit summary within a day")
    row = jordan.locator("table tr", has_text="CX-002")
    expect(row).to_contain_text("Deadline only")
    expect(row).to_contain_text(f"{deadline.day} {deadline:%b %Y}")
    expect(jordan.locator(".chart .main-svg").first).to_be_visible()
