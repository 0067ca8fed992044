"""The first day, in a real browser: sign up, verify the address from the mail the SMTP server
received, create the organization, invite a colleague, who accepts from the mail in a browser of
their own, signs up and lands on the organization's home page. Screenshots go to test-artifacts/."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from cxprogram.tenancy.models import Membership, Organization
from tests.fixtures.mail import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "onboarding"
PASSWORD = "plum-orchard-lantern-42"
LINK = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture
def site(live_server, settings, smtp_server):
    # Links in mail (invitations) point at the server the browser talks to.
    settings.SITE_URL = live_server.url
    settings.ACCOUNT_RATE_LIMITS = False
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return live_server.url


def watch(page) -> list[str]:
    """Collect what the browser complains about: script errors, CSP violations, failed loads."""
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def link_from(mailbox, address: str, containing: str) -> str:
    *_, mail = mailbox.to(address)
    (url,) = [u for u in LINK.findall(Mailbox.text(mail)) if containing in u]
    return url


def sign_up(page, name: str, email: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()


def test_sign_up_create_an_organization_and_invite_a_colleague(site, page, browser, smtp_server):
    problems = watch(page)

    page.goto(site + "/")
    shot(page, "01-landing")
    page.get_by_role("link", name="Create your organization").click()
    expect(page.get_by_role("heading", name="Sign Up")).to_be_visible()
    shot(page, "02-sign-up")
    sign_up(page, "Nadia Novak", "nadia@northwind.example")

    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    shot(page, "03-check-your-mail")
    page.goto(link_from(smtp_server, "nadia@northwind.example", "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Create your organization")).to_be_visible()
    shot(page, "04-create-organization")
    page.get_by_label("Organization name").fill("Northwind Engineering")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_role("button", name="Create organization").click()

    expect(page).to_have_url(site + "/o/northwind-engineering/")
    expect(page.get_by_text("Northwind Engineering is ready. Invite your colleagues next.")).to_be_visible()
    shot(page, "05-organization-home")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Members").click()
    page.get_by_text("Invite someone").click()
    page.get_by_label("Email").fill("pat@northwind.example")
    page.get_by_label("Staff").uncheck()
    page.get_by_label("Project manager").check()
    shot(page, "06-invite-form")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to pat@northwind.example.")).to_be_visible()
    expect(page.get_by_role("cell", name="pat@northwind.example")).to_be_visible()
    shot(page, "07-members-with-pending-invitation")

    invitation_url = link_from(smtp_server, "pat@northwind.example", "/invitations/")
    assert invitation_url.startswith(site + "/invitations/")

    # The colleague: a browser of their own, nobody signed in.
    context = browser.new_context()
    try:
        colleague = context.new_page()
        colleague_problems = watch(colleague)
        colleague.goto(invitation_url)
        expect(colleague.get_by_role("heading", name="Join Northwind Engineering")).to_be_visible()
        expect(colleague.get_by_text("Nadia Novak invited you to join as Project manager.")).to_be_visible()
        shot(colleague, "08-invitation")
        colleague.get_by_role("link", name="Create account").click()
        sign_up(colleague, "Pat Quinn", "pat@northwind.example")

        # Back at the invitation, signed in: no verification mail needed, the invitation proved it.
        colleague.get_by_role("button", name="Accept and join").click()
        expect(colleague).to_have_url(site + "/o/northwind-engineering/")
        expect(colleague.get_by_text("Welcome to Northwind Engineering.")).to_be_visible()
        expect(colleague.get_by_role("link", name="Initiatives")).to_be_visible()
        shot(colleague, "09-colleague-home")
        assert colleague_problems == []
    finally:
        context.close()

    organization = Organization.objects.get(slug="northwind-engineering")
    roles = dict(Membership.objects.filter(organization=organization).values_list("user__email", "roles"))
    assert roles == {"nadia@northwind.example": ["admin"], "pat@northwind.example": ["project_manager"]}
    assert len(smtp_server.to("pat@northwind.example")) == 1
    assert problems == []
