"""Closing the loop in a real browser: a project manager asks a client for feedback; the client, with no
account, follows the "3" link from the mail the SMTP server received, confirms and says why; the
detractor case appears on the PM's pages and the alert with the answers reaches the PM and the CX CoE."""

import re
import time

import pytest
from playwright.sync_api import expect

from cxprogram.tenancy.permissions import Role
from feedback.models import FollowUpCase, Response
from tests.factories import PASSWORD, add_member, make_user
from tests.feedback.factories import make_client, make_contact, make_project
from tests.fixtures.mail import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://[^\s\"'<>]+")
REASON = "Site questions took a week to be answered."


def watch(page) -> list[str]:
    """What the browser complains about: script errors and CSP violations (both reach the console)."""
    problems = []
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    return problems


def wait_for_mail(smtp_server, address: str, count: int = 1, seconds: float = 20) -> list:
    deadline = time.monotonic() + seconds
    while len(smtp_server.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    mails = smtp_server.to(address)
    assert len(mails) == count, f"{address} received {len(mails)} mails, expected {count}"
    return mails


def test_detractor_answer_becomes_a_case_for_the_pm(live_server, browser, smtp_server, settings, org):
    settings.SITE_URL = base = live_server.url
    pm = add_member(org, [Role.PROJECT_MANAGER], user=make_user("paula@acme.example", "Paula Manager"))
    add_member(org, [Role.CX_COE], user=make_user("casey@acme.example", "Casey Coe"))
    client = make_client(org, "Northwind Clinics", account_owner=pm)
    make_contact(client, "dana@northwind.example", name="Dana Whitfield", title="Facilities director")
    make_project(client, "NW-7", name="Clinic expansion", project_manager=pm)
    feedback = f"{base}/o/{org.slug}/feedback/"

    # The PM logs in through the real login page.
    staff = browser.new_context().new_page()
    problems = watch(staff)
    staff.goto(f"{base}/accounts/login/")
    staff.fill("input[name=login]", "paula@acme.example")
    staff.fill("input[name=password]", PASSWORD)
    staff.locator("form:has(input[name=password]) button[type=submit]").click()
    staff.wait_for_load_state()

    # ... creates a batch for the project; the client's contact is suggested and ticked ...
    staff.goto(feedback)
    staff.get_by_role("link", name="Ask for feedback").click()
    staff.get_by_label("NW-7 · Clinic expansion").check()
    staff.get_by_role("button", name="Show these projects' contacts").click()
    expect(staff.get_by_label("Dana Whitfield")).to_be_checked()
    staff.get_by_label("Personal message").fill("Dana, two minutes of your time would help us a lot.")
    staff.get_by_role("button", name="Save draft and preview").click()
    expect(staff.locator(".messages")).to_contain_text("Draft saved")
    expect(staff.locator("tr", has_text="Dana Whitfield")).to_contain_text("Asked")

    # ... and sends it now.
    staff.get_by_role("button", name="Send now").click()
    expect(staff.locator(".messages")).to_contain_text("Sending now")
    (mail,) = wait_for_mail(smtp_server, "dana@northwind.example")
    assert "Acme Consulting" in mail["From"] and "Paula Manager" in mail["From"]
    text = Mailbox.text(mail)
    assert "Dana, two minutes of your time would help us a lot." in text
    (score_link,) = re.findall(r"^3: (\S+)", text, re.MULTILINE)
    staff.reload()
    expect(staff.locator("h1 ~ p")).to_contain_text("Sent")

    # The client opens the "3" link in a browser of their own, with no account.
    public = browser.new_context().new_page()
    problems += watch(public)
    public.goto(score_link)
    expect(public.get_by_role("group", name="How likely are you to recommend Acme Consulting")).to_be_visible()
    expect(public.get_by_role("radio", name="3", exact=True).first).to_be_checked()
    # Opening the link records nothing: a mail scanner's click must not count as an answer.
    assert not Response.objects.exists() and not FollowUpCase.objects.exists()
    public.get_by_label("What is the main reason for your score?").fill(REASON)
    public.get_by_role("button", name="Send my answers").click()
    expect(public.get_by_role("heading", name="Thank you")).to_be_visible()
    (response,) = Response.objects.all()
    assert (response.nps_score, response.answers["reason"]) == (3, REASON)

    # The case lands on the PM's home page and in the cases list.
    staff.goto(feedback)
    cases = staff.locator("section", has=staff.get_by_role("heading", name="My open cases"))
    expect(cases).to_contain_text("Northwind Clinics · Dana Whitfield")
    expect(staff.locator("section", has_text="Recent responses on my projects")).to_contain_text("Dana Whitfield")
    staff.goto(feedback + "cases/")
    row = staff.locator("tbody tr", has_text="Dana Whitfield")
    expect(row).to_contain_text("Detractor")
    expect(row).to_contain_text("Paula Manager")
    row.get_by_role("link", name="Northwind Clinics").click()
    expect(staff.get_by_role("heading", name="Follow up with Dana Whitfield")).to_be_visible()
    expect(staff.locator("main")).to_contain_text(REASON)

    # The alert with the answers reaches the owner and the CX CoE, once each.
    for address in ("paula@acme.example", "casey@acme.example"):
        (alert,) = wait_for_mail(smtp_server, address)
        assert alert["Subject"] == "Follow up: Dana Whitfield (Northwind Clinics) scored 3"
        body = Mailbox.text(alert)
        assert "What is the main reason for your score?" in body and REASON in body
        case_url = LINK.search(body[body.index("Open the case:") :]).group(0)
        assert case_url == f"{base}/o/{org.slug}/feedback/cases/{FollowUpCase.objects.get().pk}/"

    assert problems == []
