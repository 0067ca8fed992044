"""The whole signing journey in a real browser: an editor drafts and sends; the lead executive opens
the mailed link, confirms the password, draws a signature; a supporter types one; everyone sees
the published charter with the lead on top; the PDF holds both names and the fingerprint."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from charters.models import CharterVersion
from cxprogram.tenancy.permissions import Role
from tests.factories import PASSWORD, add_member, make_user
from tests.fixtures.mail import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, email, next_url=None):
    page.goto(next_url or f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def confirm_password(page):
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def sign_link(smtp_server, address) -> str:
    (message,) = smtp_server.to(address)
    return re.search(r"https?://\S+/sign/\d+/", Mailbox.text(message)).group(0)


def test_draft_send_draw_type_publish_and_download(live_server, browser, smtp_server, settings, org, tmp_path):
    settings.SITE_URL = live_server.url
    base = live_server.url
    add_member(org, [Role.CX_COE], user=make_user("jordan@acme.example", "Jordan Lee"))
    add_member(org, [Role.EXECUTIVE], user=make_user("morgan@acme.example", "Morgan Reyes"), title="CEO")
    add_member(org, [Role.EXECUTIVE], user=make_user("priya@acme.example", "Priya Natarajan"), title="COO")

    # The editor drafts the charter and sends it.
    editor = browser.new_context().new_page()
    editor.on("dialog", lambda dialog: dialog.accept())
    log_in(editor, base, "jordan@acme.example")
    editor.goto(f"{base}/o/{org.slug}/charters/new/")
    editor.fill("input[name=title]", "Client Experience Charter")
    editor.get_by_label("Program charter").check()
    editor.get_by_role("button", name="Create draft").click()
    editor.get_by_label("Purpose").fill("We listen to every client, and act on what we hear.")
    expect(editor.locator("#preview")).to_contain_text("We listen to every client")  # live preview
    editor.get_by_label("Desired behaviors").fill("Decide as the client would\nMake the unknown clear")
    editor.get_by_role("button", name="Save draft").click()
    expect(editor.locator(".messages")).to_contain_text("Draft saved.")
    relating = editor.get_by_label("New prompt for Relating")
    relating.fill("Spend an afternoon on site with the client's team.")
    relating.press("Enter")  # saves in place (htmx)
    expect(editor.get_by_label("Prompt 1 in Relating")).to_have_value(
        "Spend an afternoon on site with the client's team."
    )
    editor.get_by_role("link", name="Send for signature").click()
    editor.get_by_label("Lead executive").select_option(label="Morgan Reyes — CEO")
    editor.get_by_label("Priya Natarajan — COO").check()
    editor.get_by_role("button", name="Freeze and send").click()
    expect(editor.locator(".messages")).to_contain_text("Sent to Morgan Reyes")
    version = CharterVersion.objects.get()
    assert version.status == "out_for_signature" and len(version.content_hash) == 64

    # The lead executive opens the link from the mail, logs in, confirms the password and draws.
    lead = browser.new_context().new_page()
    log_in(lead, base, "morgan@acme.example", next_url=sign_link(smtp_server, "morgan@acme.example"))
    confirm_password(lead)
    expect(lead.get_by_role("heading", name="Sign “Client Experience Charter”")).to_be_visible()
    lead.get_by_label("Drawn").check()
    box = lead.locator("#signature-canvas").bounding_box()
    lead.mouse.move(box["x"] + 40, box["y"] + 70)
    lead.mouse.down()
    for step in range(1, 12):
        lead.mouse.move(box["x"] + 40 + step * 25, box["y"] + 70 + (25 if step % 2 else -15), steps=3)
    lead.mouse.up()
    lead.locator("input[name=consent]").check()
    lead.get_by_role("button", name="Sign", exact=True).click()
    expect(lead.locator(".messages")).to_contain_text("your signature is recorded")

    # The supporter gets the mail only now, and types a signature.
    supporter = browser.new_context().new_page()
    log_in(supporter, base, "priya@acme.example", next_url=sign_link(smtp_server, "priya@acme.example"))
    confirm_password(supporter)
    supporter.get_by_label("Type your full name").fill("Priya Natarajan")
    expect(supporter.locator("#typed-sample")).to_have_text("Priya Natarajan")
    supporter.locator("input[name=consent]").check()
    supporter.get_by_role("button", name="Sign", exact=True).click()
    expect(supporter.locator(".messages")).to_contain_text("your signature is recorded")

    # Published: the lead's drawn signature on top, the supporter's typed one below.
    editor.goto(f"{base}/o/{org.slug}/charters/{version.charter_id}/")
    expect(editor.locator(".badge-success").first).to_have_text("In force")
    lead_block = editor.locator("[data-testid=lead-signature]")
    supporters_block = editor.locator("[data-testid=supporter-signatures]")
    expect(lead_block).to_contain_text("Morgan Reyes")
    expect(lead_block.locator("img")).to_have_attribute("src", re.compile(r"^data:image/svg\+xml;base64,"))
    expect(supporters_block.locator(".signature-script")).to_have_text("Priya Natarajan")
    assert lead_block.bounding_box()["y"] < supporters_block.bounding_box()["y"]

    # The PDF downloads; its text holds both names and the fingerprint.
    with editor.expect_download() as download:
        editor.get_by_role("link", name="Download PDF").click()
    path = tmp_path / "charter.pdf"
    download.value.save_as(path)
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    version.refresh_from_db()
    assert "Morgan Reyes" in text and "Priya Natarajan" in text and version.content_hash in text
    assert version.signature_requests.get().signers.filter(status="signed", ip_address="127.0.0.1").count() == 2
