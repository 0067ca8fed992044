"""A new organization through the whole product, in a real browser, one person per browser context: the admin
signs up and invites an executive, a CX CoE member and a project manager from their mails; the executive signs
the charter; the CoE imports the contacts; the PM asks two clients for feedback; one promotes, one detracts from
the mailed links; the PM works the detractor's case and turns it into an idea; the CoE qualifies and scores it
and the change board approves it; the dashboard and the board report PDF show the NPS of the two answers."""

import io
import re
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from charters.models import CharterVersion
from cxprogram.tenancy.models import Membership, Organization
from feedback.models import FollowUpCase, Response
from initiatives.models import AgendaItem, Initiative, Status
from metrics import formulas
from tests.fixtures.mail import Mailbox
from tests.journey.steps import confirm_password, link_in, shot, sign_up, wait_for_mail, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTACTS_CSV = (
    "Client,Full name,E-mail,Title,Kind,Language\n"
    "Harbor Authority,Ana Ruiz,ana@harbor.example,Port director,decision maker,en\n"
    "Harbor Authority,Ben Ode,ben@harbor.example,Chief engineer,user,en\n"
)
REASON = "Drawings came late twice and nobody told us why."


@pytest.fixture
def site(live_server, settings, smtp_server):
    # Links in mail (verification, invitations, signatures, surveys) point at the server the browser talks to.
    settings.SITE_URL = live_server.url
    settings.ACCOUNT_RATE_LIMITS = False
    return live_server.url


def test_a_new_organization_through_the_whole_product(site, browser, smtp_server, tmp_path):
    mail, problems = smtp_server, []

    def person():
        page = browser.new_context().new_page()
        watch(page, problems)
        return page

    # 1. The admin signs up, verifies the address from the mail and creates the organization.
    admin = person()
    admin.goto(site + "/")
    admin.get_by_role("link", name="Create your organization").click()
    sign_up(admin, "Nadia Novak", "nadia@northwind.example")
    expect(admin.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    (verification,) = wait_for_mail(mail, "nadia@northwind.example", 1)
    admin.goto(link_in(verification, "/accounts/confirm-email/"))
    admin.get_by_role("button", name="Confirm").click()
    admin.get_by_label("Organization name").fill("Northwind Engineering")
    admin.get_by_label("Time zone").select_option("America/Chicago")
    admin.get_by_role("button", name="Create organization").click()
    home = site + "/o/northwind-engineering"
    expect(admin).to_have_url(home + "/")
    expect(admin.get_by_text("Northwind Engineering is ready. Invite your colleagues next.")).to_be_visible()

    # 2. The admin invites three colleagues; each accepts from the mail in a browser of their own and signs up.
    admin.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings").click()
    admin.get_by_role("link", name="Members").click()
    people = {}
    for name, email, role in [
        ("Morgan Reyes", "morgan@northwind.example", "Executive"),
        ("Jordan Lee", "jordan@northwind.example", "CX Center of Excellence"),
        ("Pat Quinn", "pat@northwind.example", "Project manager"),
    ]:
        admin.get_by_text("Invite someone").click()
        admin.get_by_label("Email").fill(email)
        admin.get_by_label("Staff").uncheck()
        admin.get_by_label(role, exact=True).check()
        admin.get_by_role("button", name="Send invitation").click()
        expect(admin.get_by_text(f"Invitation sent to {email}.")).to_be_visible()
        (invitation,) = wait_for_mail(mail, email, 1)
        page = people[email] = person()
        page.goto(link_in(invitation, "/invitations/"))
        expect(page.get_by_text(f"Nadia Novak invited you to join as {role}.")).to_be_visible()
        page.get_by_role("link", name="Create account").click()
        sign_up(page, name, email)
        page.get_by_role("button", name="Accept and join").click()
        expect(page).to_have_url(home + "/")
        expect(page.get_by_text("Welcome to Northwind Engineering.")).to_be_visible()
    executive, coe, pm = people.values()
    organization = Organization.objects.get(slug="northwind-engineering")
    roles = dict(Membership.objects.filter(organization=organization).values_list("user__email", "roles"))
    assert roles == {
        "nadia@northwind.example": ["admin"],
        "morgan@northwind.example": ["executive"],
        "jordan@northwind.example": ["cx_coe"],
        "pat@northwind.example": ["project_manager"],
    }

    # 3. The executive drafts the charter, sends it to themself as lead, confirms the password and types a
    # signature: it is in force.
    executive.goto(f"{home}/charters/new/")
    executive.fill("input[name=title]", "Client Experience Charter")
    executive.get_by_label("Program charter").check()
    executive.get_by_role("button", name="Create draft").click()
    executive.get_by_label("Purpose").fill("We listen to every client, and act on what we hear.")
    executive.get_by_label("Desired behaviors").fill("Decide as the client would\nMake the unknown clear")
    executive.get_by_role("button", name="Save draft").click()
    expect(executive.locator(".messages")).to_contain_text("Draft saved.")
    executive.get_by_role("link", name="Send for signature").click()
    executive.get_by_label("Lead executive").select_option(label="Morgan Reyes")
    executive.get_by_role("button", name="Freeze and send").click()
    expect(executive.locator(".messages")).to_contain_text("Sent to Morgan Reyes")
    _, signature_mail = wait_for_mail(mail, "morgan@northwind.example", 2)
    executive.goto(re.search(r"https?://\S+/sign/\d+/", Mailbox.text(signature_mail)).group(0))
    confirm_password(executive)
    executive.get_by_label("Type your full name").fill("Morgan Reyes")
    executive.locator("input[name=consent]").check()
    executive.get_by_role("button", name="Sign", exact=True).click()
    expect(executive.locator(".messages")).to_contain_text("your signature is recorded")
    version = CharterVersion.objects.get(organization=organization)
    executive.goto(f"{home}/charters/{version.charter_id}/")
    expect(executive.locator(".badge-success").first).to_have_text("In force")
    expect(executive.locator("[data-testid=lead-signature] .signature-script")).to_have_text("Morgan Reyes")

    # 4. The CoE imports the contacts (importing is the CoE's and the admin's; a PM may not) and adds the PM's
    # project; the PM asks both contacts for feedback.
    coe.goto(f"{home}/feedback/imports/")
    coe.get_by_label("What the file holds").select_option(label="Contacts")
    coe.get_by_label("File", exact=True).set_input_files(
        {"name": "harbor.csv", "mimeType": "text/csv", "buffer": CONTACTS_CSV.encode()}
    )
    coe.get_by_role("button", name="Upload and check").click()
    expect(coe.get_by_role("heading", name="harbor.csv")).to_be_visible()
    expect(coe.get_by_label("Email *")).to_have_value("E-mail")  # the mapping is guessed from the header
    expect(coe.get_by_label("Name *")).to_have_value("Full name")
    expect(coe.locator("table tbody tr")).to_have_count(2)  # the preview of the first rows
    expect(coe.locator("table tbody tr").first).to_contain_text("ana@harbor.example")
    coe.get_by_role("button", name="Check every row").click()
    expect(coe.get_by_role("heading", name="2. Every row is valid")).to_be_visible()
    coe.get_by_role("button", name="Import", exact=True).click()
    expect(coe.get_by_role("heading", name="Imported")).to_be_visible()
    expect(coe.locator("main")).to_contain_text("2 created, 0 updated.")
    coe.goto(f"{home}/feedback/projects/new/")
    coe.get_by_label("Code").fill("HA-12")
    coe.get_by_label("Name").fill("Terminal 3 quay wall")
    coe.get_by_label("Client").select_option(label="Harbor Authority")
    coe.get_by_label("Project manager").select_option(label="Pat Quinn")
    coe.get_by_role("button", name="Save").click()
    expect(coe.locator("main")).to_contain_text("HA-12")

    pm.goto(f"{home}/feedback/")
    pm.get_by_role("link", name="Ask for feedback").click()
    pm.get_by_label("HA-12 · Terminal 3 quay wall").check()
    pm.get_by_role("button", name="Show these projects' contacts").click()
    expect(pm.get_by_label("Ana Ruiz")).to_be_checked()
    expect(pm.get_by_label("Ben Ode")).to_be_checked()
    pm.get_by_role("button", name="Save draft and preview").click()
    expect(pm.locator(".messages")).to_contain_text("Draft saved")
    pm.get_by_role("button", name="Send now").click()
    expect(pm.locator(".messages")).to_contain_text("Sending now")

    # 5. The clients answer from their mails, with no account: Ana a 10, Ben a 3 with a reason.
    for address, score, reason in [("ana@harbor.example", 10, ""), ("ben@harbor.example", 3, REASON)]:
        (survey,) = wait_for_mail(mail, address, 1)
        assert "Pat Quinn" in survey["From"] and "Northwind Engineering" in survey["From"]
        (score_link,) = re.findall(rf"^{score}: (\S+)", Mailbox.text(survey), re.MULTILINE)
        client = person()
        client.goto(score_link)
        expect(client.get_by_role("radio", name=str(score), exact=True).first).to_be_checked()
        if reason:
            client.get_by_label("What is the main reason for your score?").fill(reason)
        client.get_by_role("button", name="Send my answers").click()
        expect(client.get_by_role("heading", name="Thank you")).to_be_visible()
        client.context.close()
    answers = dict(Response.objects.filter(organization=organization).values_list("contact__email", "nps_score"))
    assert answers == {"ana@harbor.example": 10, "ben@harbor.example": 3}

    # 6. The detractor's case is the PM's: a note, resolved, then an idea raised from it.
    pm.goto(f"{home}/feedback/")
    cases = pm.locator("section", has=pm.get_by_role("heading", name="My open cases"))
    expect(cases).to_contain_text("Harbor Authority · Ben Ode")
    pm.goto(f"{home}/feedback/cases/")
    row = pm.locator("tbody tr", has_text="Ben Ode")
    expect(row).to_contain_text("Detractor")
    expect(pm.locator("tbody tr")).to_have_count(1)  # the promoter has no case
    row.get_by_role("link", name="Harbor Authority").click()
    expect(pm.get_by_role("heading", name="Follow up with Ben Ode")).to_be_visible()
    expect(pm.locator("main")).to_contain_text(REASON)
    pm.get_by_label("Notes").fill("Called Ben: the drawing register was not shared with the port.")
    pm.get_by_label("State").select_option(label="Resolved")
    pm.get_by_label("Outcome").fill("We now send the drawing register every Friday.")
    pm.get_by_label("Root cause").select_option(label="Communication")
    pm.get_by_role("button", name="Save").click()
    expect(pm.locator(".messages")).to_contain_text("Case saved.")
    case = FollowUpCase.objects.get(organization=organization)
    assert case.state == "resolved" and "drawing register" in case.notes
    pm.get_by_role("link", name="Turn into an idea").click()
    expect(pm.get_by_label("Reference")).to_have_value("Harbor Authority · HA-12 · Terminal 3 quay wall, scored 3/10")
    pm.get_by_label("Your idea in a sentence").fill("A weekly drawing register for every client")
    pm.get_by_role("button", name="Submit the idea").click()
    expect(pm.locator(".messages")).to_contain_text("your idea is CX-001")
    idea = Initiative.objects.get(organization=organization)
    assert idea.title == "A weekly drawing register for every client"

    # 7. The CoE qualifies and scores it; at the next change board, with the executive present, it is approved.
    coe.goto(f"{home}/initiatives/{idea.pk}/")
    coe.get_by_role("link", name="Qualify…").click()
    coe.get_by_label("Horizon").select_option("short")
    coe.get_by_role("button", name="Qualify").click()
    expect(coe.locator(".messages")).to_contain_text("CX-001 is now qualified")
    coe.get_by_role("link", name="Score").click()
    coe.get_by_label("Customer benefit (0-10)").fill("8")
    coe.get_by_label("Business value (0-10)").fill("6")
    coe.get_by_label("Cost").fill("500")
    coe.get_by_label("Effort (person-days)").fill("4")
    coe.get_by_role("button", name="Save the score").click()
    expect(coe.locator(".formula").first).to_contain_text("÷ effort 4 person-days = 2.80")  # (8 + 6) × 80% ÷ 4
    coe.goto(f"{home}/initiatives/board/")
    coe.locator("a.btn-primary", has_text="Change board of").click()
    coe.get_by_label("Jordan Lee").check()
    coe.get_by_label("Morgan Reyes").check()
    coe.get_by_role("button", name="Save attendance").click()
    coe.get_by_role("button", name="Refresh the agenda").click()
    expect(coe.locator(".agenda")).to_contain_text("CX-001 A weekly drawing register for every client")
    item = AgendaItem.objects.get(initiative=idea)
    section = coe.locator(f"#item-{item.pk}")
    section.locator("summary", has_text="Decide").click()
    section.get_by_label("Approve").check()
    deadline = timezone.localdate() + timedelta(days=60)
    section.get_by_label("Deadline").fill(deadline.isoformat())
    section.get_by_label("Owner").select_option(label="Jordan Lee")
    section.get_by_label("Person-days").fill("4")
    section.get_by_label("Budget").fill("500")
    section.get_by_role("button", name="Record the decision").click()
    expect(coe.locator(".messages")).to_contain_text("CX-001: decision recorded")
    expect(coe.locator(f"#item-{item.pk} .decision")).to_contain_text("Approved")
    idea.refresh_from_db()
    assert idea.status == Status.APPROVED

    # 8. The dashboard shows the NPS of the two answers with its margin of error, once the CoE lets two
    # responses make a score (the default minimum is five); the board report PDF holds the same figure.
    nps = formulas.nps(promoters=1, passives=0, detractors=1)
    margin = formulas.nps_margin_of_error(promoters=1, passives=0, detractors=1)
    headline = f"{nps:+.0f} ±{margin:.0f} (n=2)"
    coe.goto(f"{home}/metrics/")
    expect(coe.locator(".metric-tile").first).to_contain_text("too few (n=2)")
    coe.goto(f"{home}/metrics/settings/")
    coe.get_by_label("Minimum responses").fill("2")
    coe.get_by_role("button", name="Save").click()
    expect(coe.locator(".messages")).to_contain_text("Settings saved.")
    coe.goto(f"{home}/metrics/")
    tile = coe.locator(".metric-tile").first
    expect(tile.locator(".figure")).to_have_text("+0")
    expect(tile).to_contain_text(headline)
    expect(coe.locator('[data-chart="nps-trend"] svg.main-svg').first).to_be_visible()
    # The detractors' half of this month's bar is painted red (its pattern used to draw white strokes on nothing).
    bar = coe.locator('[data-chart="nps-categories"] g.trace.bars').nth(2).locator("g.point path").last
    red, green, blue = Image.open(io.BytesIO(bar.screenshot())).convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert red > green + 50 and red > blue + 50, (red, green, blue)

    coe.goto(f"{home}/metrics/reports/")
    month = f"{timezone.localdate(timezone=organization.tz):%Y-%m}"  # the month of the answers, there
    coe.fill("input[name=period_start]", month)
    coe.fill("input[name=period_end]", month)
    coe.fill("textarea[name=commentary]", "Our first two answers: one promoter, one detractor.")
    coe.get_by_role("button", name="Create").click()
    coe.wait_for_load_state()
    with coe.expect_download() as download:
        coe.get_by_role("link", name="Download PDF").click()
    path = tmp_path / "board-report.pdf"
    download.value.save_as(path)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert f"NPS {headline}" in text
    # The initiative the board approved is listed (the report used to filter on the wrong outcome value).
    assert "Approved by the change board (1)" in text
    assert "CX-001 A weekly drawing register for every client" in text

    # The main pages, for a person to look at.
    for page, name, url in [
        (admin, "home", f"{home}/"),
        (executive, "charter", f"{home}/charters/{version.charter_id}/"),
        (pm, "feedback", f"{home}/feedback/"),
        (pm, "case", f"{home}/feedback/cases/{case.pk}/"),
        (coe, "initiative", f"{home}/initiatives/{idea.pk}/"),
        (coe, "meeting", f"{home}/initiatives/board/meetings/{item.meeting_id}/"),
        (coe, "dashboard", f"{home}/metrics/"),
    ]:
        page.goto(url)
        shot(page, name)
    assert problems == []
