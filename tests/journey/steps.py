"""Small steps the whole-journey test repeats, taken from the existing browser tests (same selectors)."""

import re
import time
from pathlib import Path

from django.conf import settings as django_settings
from playwright.sync_api import expect

from tests.fixtures.mail import Mailbox

PASSWORD = "plum-orchard-lantern-42"
LINK = re.compile(r"https?://[^\s\"'<>]+")
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"


def watch(page, problems: list[str]) -> None:
    """Collect what the browser complains about: script errors and CSP violations (both reach the console).
    plotly.js probes once per page whether it may set a style attribute; the CSP refuses and plotly falls back."""

    def on_console(message):
        probe = message.text.startswith("Applying inline style") and "plotly.min.js" in message.location["url"]
        if message.type == "error" and not probe:
            problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    page.on("dialog", lambda dialog: dialog.accept())  # data-confirm buttons ask first


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)


def wait_for_mail(mailbox, address: str, count: int, seconds: float = 20) -> list:
    deadline = time.monotonic() + seconds
    while len(mailbox.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    mails = mailbox.to(address)
    assert len(mails) == count, f"{address} received {len(mails)} mails, expected {count}"
    return mails


def link_in(mail, containing: str) -> str:
    (url,) = [u for u in LINK.findall(Mailbox.text(mail)) if containing in u]
    return url


def sign_up(page, name: str, email: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()


def confirm_password(page) -> None:
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
