"""User text is inert wherever it leaves the app: mails (escaped HTML part, plain text part, one-line
headers), PDFs (shown as text, never fetched as markup), CSV exports (formula cells quoted) and the
charter's Markdown (sanitized in the page and the PDF). Pages and the audit CSV: test_security.py and
test_audit.py."""

import csv
import io
import subprocess
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from charters import services as charter_services
from charters import tasks as charter_tasks
from charters.models import Acknowledgment, Signer
from cxprogram.tenancy import services as tenancy_services
from cxprogram.tenancy.models import Unit
from cxprogram.tenancy.permissions import Role
from feedback import services as feedback_services
from feedback.models import FollowUpCase, Response, SurveyRequest
from initiatives import services as initiative_services
from initiatives.models import Status
from metrics import services as metric_services
from metrics.models import ProposalRecord
from tests.charters.factories import CONTENT, draft_charter, sign_all
from tests.factories import add_member, make_user
from tests.feedback.factories import answer_survey, make_client, make_contact, make_project
from tests.initiatives.factories import make_initiative, make_meeting
from tests.metrics.factories import Responses, add_revenue, recent
from tests.platform.test_tenant_isolation import url_patterns

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HOSTILE = f"{SCRIPT} {IMG}"
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")
INJECTION = "Acme\r\nBcc: evil@example.com"
# Monday 23 November 2026, 08:00 in New York: the weekly digest is due.
MONDAY_8AM_NEW_YORK = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


# --- Mails --------------------------------------------------------------------------------------------
# Each flow writes `text` into every piece of user text that reaches its mail, sends the mail the way the
# app does, and returns the recipient to read it from. `subject`: the subject carries user text.


def _pm(org, text):
    return add_member(org, [Role.PROJECT_MANAGER], user=make_user(name=f"Paula {text}"))


def _sent_survey(org, capture, text, *, unit=None, code=None):
    """A survey request mailed to one contact; the organization, client, contact, project, PM and the
    batch's personal message all carry `text` (the project's code too, when given)."""
    org.name = f"Acme {text}"
    org.save()
    pm = _pm(org, text)
    client = make_client(org, f"Client {text}", account_owner=pm, unit=unit)
    contact = make_contact(client, name=f"Cara {text}")
    project = make_project(client, code, name=f"Project {text}", project_manager=pm, unit=unit)
    batch = feedback_services.create_batch(
        organization=org,
        actor=pm.user,
        sender=pm,
        projects=[project],
        contacts=[contact],
        personal_message=f"Thanks for the year.\n{text}",
    )
    with capture(execute=True):
        feedback_services.send_batch_now(batch=batch, actor=pm.user)
    return pm, contact, SurveyRequest.objects.get(batch=batch)


def survey_request_mail(org, capture, text):
    _, contact, _ = _sent_survey(org, capture, text)
    return contact.email


def case_alert_mail(org, capture, text):
    pm, _, request = _sent_survey(org, capture, text)
    with capture(execute=True):
        answer_survey(request, {"nps": "2", "reason": f"Late {text}"})
    return pm.user.email


def _overdue_case(org, capture, text, *, days_late, unit=None):
    """A detractor's case (opened by the real survey and submit services) whose client, project (name and
    code) and owner carry `text`, due `days_late` days ago; the hourly reminder runs for it."""
    pm, _, request = _sent_survey(org, capture, text, unit=unit, code=f"P {text}"[:40])
    with capture(execute=True):
        response = answer_survey(request, {"nps": "2"})
    FollowUpCase.objects.filter(response=response).update(due_at=timezone.now() - timedelta(days=days_late))
    assert feedback_services.remind_overdue_case(FollowUpCase.objects.get(response=response).pk) is True
    return pm


def case_overdue_mail(org, capture, text):
    pm = _overdue_case(org, capture, text, days_late=1)  # within the 3 escalation days: the owner only
    return pm.user.email


def case_escalated_mail(org, capture, text):
    unit = Unit.objects.create(organization=org, name="Buildings")
    leader = add_member(org, [Role.UNIT_LEADER], user=make_user(name=f"Sam {text}"), unit=unit)
    _overdue_case(org, capture, text, days_late=4, unit=unit)
    return leader.user.email


def thank_you_mail(org, capture, text):
    pm, contact, request = _sent_survey(org, capture, text)
    with capture(execute=True):
        response = answer_survey(request, {"nps": "10"})
        feedback_services.approve_thank_you(response=response, actor_membership=pm)
    return contact.email


def _out_for_signature(org, capture, text):
    """A charter sent to its lead for signature; the organization, the title, the lead's name and the
    request's message carry `text`."""
    org.name = f"Acme {text}"
    org.save()
    editor = add_member(org, [Role.CX_COE])
    lead = add_member(org, [Role.EXECUTIVE], user=make_user(name=f"Morgan {text}"))
    version = draft_charter(org, editor, title=f"Charter {text}")
    with capture(execute=True):
        signature_request = charter_services.send_for_signature(
            version=version, actor=editor.user, lead=lead, supporters=[], message=f"Please sign.\n{text}"
        )
    return editor, lead, signature_request


def charter_signing_mail(org, capture, text):
    _, lead, _ = _out_for_signature(org, capture, text)
    return lead.user.email


def charter_sign_reminder_mail(org, capture, text):
    _, lead, signature_request = _out_for_signature(org, capture, text)
    Signer.objects.filter(request=signature_request).update(next_reminder_at=timezone.now() - timedelta(seconds=1))
    assert charter_tasks.sweep()["reminded"] == 1
    return lead.user.email


def charter_declined_mail(org, capture, text):
    editor, lead, signature_request = _out_for_signature(org, capture, text)
    with capture(execute=True):
        charter_services.decline(
            signer=signature_request.signers.get(membership=lead),
            user=lead.user,
            reason=f"The metrics need targets.\n{text}",
        )
    return editor.user.email


def _in_force(org, capture, text):
    """A charter signed by its lead and announced to every member; a member's name carries `text`."""
    _, _, signature_request = _out_for_signature(org, capture, text)
    member = add_member(org, [Role.STAFF], user=make_user(name=f"Theo {text}"))
    sign_all(signature_request)  # its mail task is run below, without the PDF task
    assert charter_tasks.notify_in_force(signature_request.version_id) >= 1
    return member, signature_request.version_id


def charter_in_force_mail(org, capture, text):
    member, _ = _in_force(org, capture, text)
    return member.user.email


def charter_ack_reminder_mail(org, capture, text):
    member, version_id = _in_force(org, capture, text)
    Acknowledgment.objects.filter(version_id=version_id).update(notified_at=timezone.now() - timedelta(days=7, hours=1))
    assert charter_tasks.sweep()["ack_reminders"] >= 1
    return member.user.email


def board_agenda_mail(org, capture, text):
    board = add_member(org, [Role.ADMIN], user=make_user(name=f"Bea {text}"))
    initiative_services.set_board_members(organization=org, actor=board, memberships=[board])
    make_initiative(org, board, Status.RANKED, title=f"Kick-off pack {text}")
    initiative_services.mail_agenda(make_meeting(org))
    return board.user.email


def board_minutes_mail(org, capture, text):
    org.name = f"Acme {text}"
    org.save()
    board = add_member(org, [Role.ADMIN], user=make_user(name=f"Bea {text}"))
    initiative_services.set_board_members(organization=org, actor=board, memberships=[board])
    meeting = make_meeting(org)
    deferred = make_initiative(org, board, Status.RANKED, title=f"Kick-off pack {text}")
    initiative_services.record_attendance(meeting=meeting, actor=board, present=[board])
    initiative_services.decide(meeting=meeting, initiative=deferred, actor=board, outcome="defer", note=f"Wait {text}")
    with capture(execute=True):
        initiative_services.close_meeting(meeting=meeting, actor=board, notes=f"Budget review.\n{text}")
    return board.user.email


def _overdue_action_item(org, text):
    """A PM (named with `text`) owns an initiative and an action item, both titled with `text`, overdue on
    Monday 23 November in New York; returns the PM."""
    org.time_zone = "America/New_York"
    org.save()
    owner = add_member(org, [Role.ADMIN])
    pm = _pm(org, text)
    running = make_initiative(org, owner, Status.IN_PROGRESS, owner=pm, title=f"Status email {text}")
    initiative_services.add_action_item(
        initiative=running, actor=owner, title=f"Draft {text}", owner=pm, due_on=date(2026, 11, 20)
    )
    return pm


def weekly_digest_mail(org, capture, text):
    pm = _overdue_action_item(org, text)
    assert initiative_services.send_weekly_digests(org, MONDAY_8AM_NEW_YORK) == 1
    return pm.user.email


def action_items_overdue_mail(org, capture, text):
    pm = _overdue_action_item(org, text)
    assert initiative_services.remind_overdue(org, MONDAY_8AM_NEW_YORK) == 1
    return pm.user.email


def _ranking_round(org, capture, text):
    """A ranking round opened (and its invitations mailed) by a CoE admin for one stakeholder; the round's
    title and both people's names carry `text`."""
    coe = add_member(org, [Role.ADMIN, Role.CX_COE], user=make_user(name=f"Cora {text}"))
    stakeholder = add_member(org, [Role.EXECUTIVE], user=make_user(name=f"Eve {text}"))
    items = [make_initiative(org, coe, Status.QUALIFIED, title=f"{t} {text}") for t in ("Alpha", "Bravo")]
    with capture(execute=True):
        round_ = initiative_services.open_round(
            organization=org,
            actor=coe,
            title=f"Winter {text}",
            initiatives=items,
            stakeholders=[stakeholder],
            closes_at=timezone.now() + timedelta(days=3),
        )
    return round_, stakeholder


def ranking_round_opened_mail(org, capture, text):
    _, stakeholder = _ranking_round(org, capture, text)
    return stakeholder.user.email


def ranking_round_reminder_mail(org, capture, text):
    round_, stakeholder = _ranking_round(org, capture, text)
    assert initiative_services.ranking_sweep(org, round_.remind_at + timedelta(minutes=1))["reminded"] == 1
    return stakeholder.user.email


def metric_alert_mail(org, capture, text):
    """NPS of a unit whose name carries `text` falls below its target's warning threshold."""
    org.name = f"Acme {text}"
    org.save()
    owner = add_member(org, [Role.ADMIN])
    coe = add_member(org, [Role.CX_COE], user=make_user(name=f"Cora {text}"))
    unit = Unit.objects.create(organization=org, name=f"Water {text}")
    builder = Responses(org, _pm(org, text))
    builder.add([2] * 6, project=builder.project(unit=unit), submitted_at=recent())
    metric_services.save_target(
        organization=org,
        actor=owner.user,
        metric="nps",
        unit=unit,
        target=Decimal(40),
        warning=Decimal(20),
        starts_on=recent(60).date(),
        ends_on=timezone.localdate() + timedelta(days=30),
        owner=coe,
    )
    with capture(execute=True):
        assert len(metric_services.evaluate_targets(org)) == 1
    return coe.user.email


def adoption_invite_mail(org, capture, text):
    org.name = f"Acme {text}"
    org.save()
    owner = add_member(org, [Role.ADMIN])
    staff = add_member(org, [Role.STAFF], user=make_user(name=f"Theo {text}"))
    with capture(execute=True):
        metric_services.open_adoption_survey(
            organization=org,
            actor=owner.user,
            quarter=timezone.localdate(),
            closes_on=timezone.localdate() + timedelta(days=30),
        )
    return staff.user.email


def board_report_mail(org, capture, text):
    org.name = f"Acme {text}"
    org.save()
    owner = add_member(org, [Role.ADMIN])
    executive = add_member(org, [Role.EXECUTIVE], user=make_user(name=f"Morgan {text}"))
    report = metric_services.save_board_report(
        organization=org,
        actor=owner.user,
        period_start=recent(40).date(),
        period_end=timezone.localdate(),
        commentary=f"Water needs help.\n{text}",
    )
    with capture(execute=True):
        metric_services.queue_board_report_mail(report=report, actor=owner.user)
    return executive.user.email


def invitation_mail(org, capture, text):
    org.name = f"Acme {text}"
    org.save()
    owner = add_member(org, [Role.ADMIN], user=make_user(name=f"Olivia {text}"))
    with capture(execute=True):
        tenancy_services.invite_member(
            organization=org, actor=owner.user, email="invitee@example.com", roles=[Role.STAFF]
        )
    return "invitee@example.com"


# (flow, it has an HTML part, its subject carries user text, its From display name carries user text)
MAILS = [
    (survey_request_mail, True, True, True),
    (case_alert_mail, True, True, False),
    (case_overdue_mail, False, True, False),
    (case_escalated_mail, False, True, False),
    (thank_you_mail, False, True, True),
    (charter_signing_mail, True, True, False),
    (charter_sign_reminder_mail, True, True, False),
    (charter_declined_mail, True, True, False),
    (charter_in_force_mail, True, True, False),
    (charter_ack_reminder_mail, True, True, False),
    (board_agenda_mail, True, False, False),
    (board_minutes_mail, True, False, False),
    (weekly_digest_mail, True, False, False),
    (action_items_overdue_mail, True, False, False),
    (ranking_round_opened_mail, True, True, False),
    (ranking_round_reminder_mail, True, True, False),
    (metric_alert_mail, True, True, False),
    (adoption_invite_mail, False, True, False),
    (board_report_mail, False, True, False),
    (invitation_mail, True, True, False),
]


@pytest.mark.parametrize(("flow", "has_html", "subject_text", "_"), MAILS, ids=[m[0].__name__ for m in MAILS])
def test_mail_shows_hostile_text_escaped_in_html_and_plain_in_text(
    org, smtp_server, django_capture_on_commit_callbacks, flow, has_html, subject_text, _
):
    recipient = flow(org, django_capture_on_commit_callbacks, HOSTILE)
    message = smtp_server.to(recipient)[-1]  # a thank-you's contact got the survey first
    html, text = smtp_server.html(message), smtp_server.text(message)
    if has_html:
        assert "<script" not in html and "<img" not in html
        for escaped in ESCAPED:
            assert escaped in html
    else:
        assert html == ""
    # The text part is plain text: the words as written, not HTML entities.
    assert SCRIPT in text and IMG in text
    assert "&lt;" not in text and "&gt;" not in text
    if subject_text:
        assert HOSTILE in message["Subject"] and "&lt;" not in message["Subject"]


HEADER_MAILS = [m for m in MAILS if m[2] or m[3]]


@pytest.mark.parametrize(
    ("flow", "_", "subject_text", "from_text"), HEADER_MAILS, ids=[m[0].__name__ for m in HEADER_MAILS]
)
def test_a_name_with_cr_lf_adds_no_header_and_the_mail_still_goes(
    org, smtp_server, django_capture_on_commit_callbacks, flow, _, subject_text, from_text
):
    recipient = flow(org, django_capture_on_commit_callbacks, INJECTION)
    message = smtp_server.to(recipient)[-1]
    assert all("evil@example.com" not in m["to"] for m in smtp_server.messages)
    assert "Bcc" not in message and "bcc" not in {k.lower() for k in message}
    # The would-be header stays as words on the one line it was written into.
    if subject_text:
        assert "Acme Bcc: evil@example.com" in message["Subject"]
    if from_text:
        assert "Acme Bcc: evil@example.com via Paula Acme Bcc: evil@example.com" in str(message["From"])
        assert message["From"].addresses[0].addr_spec == "noreply@cxprogram.localhost"


# --- PDFs ---------------------------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self):
        self.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def bait(tmp_path):
    """Markup that would make WeasyPrint fetch a URL or a local file, if it took effect: a local HTTP
    server records every request, and a real PNG sits on disk."""
    handler = type("Recorder", (_Recorder,), {"hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    png = tmp_path / "marker.png"
    Image.new("RGB", (4, 4), "red").save(png)
    markup = (
        f'{SCRIPT} <img src="{base}/img.png"> <link rel="stylesheet" href="{base}/evil.css"> '
        f'<img src="file://{png}"> <img src="file:///etc/passwd"> '
        f'<iframe src="{base}/frame"></iframe> <object data="{base}/object"></object> '
        f'<div style="background: url({base}/style.png)">x</div>'
    )
    yield {"markup": markup, "hits": handler.hits}
    server.shutdown()


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def pdf_image_count(data: bytes, tmp_path) -> int:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True, text=True).stdout
    return len(listing.splitlines()) - 2  # two header lines


def charter_pdf(org, owner_client, text):
    editor = add_member(org, [Role.CX_COE])
    lead = add_member(org, [Role.EXECUTIVE])
    version = draft_charter(org, editor, title="Charter for the clients")
    version = charter_services.save_draft(
        version=version,
        actor=editor.user,
        revision=version.revision,
        title=f"Charter {text}"[:200],
        content={**CONTENT, "purpose": f"We listen. {text}", "desired_behaviors": [f"Decide as the client {text}"]},
    )
    sign_all(charter_services.send_for_signature(version=version, actor=editor.user, lead=lead, supporters=[]))
    return b"".join(owner_client.get(reverse("charters:pdf", args=[org.slug, version.pk])).streaming_content)


def minutes_pdf(org, owner_client, text):
    board = add_member(org, [Role.ADMIN], user=make_user(name="Bea Board"))
    meeting = make_meeting(org)
    ranked = make_initiative(org, board, Status.RANKED, title=f"Kick-off pack {text}"[:200])
    initiative_services.record_attendance(meeting=meeting, actor=board, present=[board])
    initiative_services.decide(meeting=meeting, initiative=ranked, actor=board, outcome="defer", note=f"Wait {text}")
    initiative_services.close_meeting(meeting=meeting, actor=board, notes=f"Budget review. {text}")
    return owner_client.get(reverse("initiatives:minutes_pdf", args=[org.slug, meeting.pk])).content


def board_report_pdf(org, owner_client, text):
    owner = add_member(org, [Role.ADMIN])
    report = metric_services.save_board_report(
        organization=org,
        actor=owner.user,
        period_start=recent(40).date(),
        period_end=timezone.localdate(),
        commentary=f"Water needs help. {text}",
    )
    return owner_client.get(reverse("metrics:board_report_pdf", args=[org.slug, report.pk])).content


PDFS = [charter_pdf, minutes_pdf, board_report_pdf]


@pytest.mark.parametrize("render", PDFS, ids=[p.__name__ for p in PDFS])
def test_pdf_shows_hostile_text_as_text_and_fetches_nothing(org, owner_client, bait, tmp_path, render, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    data = render(org, owner_client, bait["markup"])
    assert data.startswith(b"%PDF")
    flat = " ".join(pdf_text(data).split())
    assert SCRIPT in flat
    assert '<img src="file:///etc/passwd">' in flat and "<iframe src=" in flat
    assert bait["hits"] == []  # no URL from user text was fetched
    assert pdf_image_count(data, tmp_path) == 0  # nor a local file embedded


# --- CSV exports --------------------------------------------------------------------------------------

UNIT = "=cmd|' /C calc'!A0"
PM = "@SUM(A1)"
CLIENT = "+SUM(1+1)"
CONTACT = "-2+3"
REASON = "\t=1+1"
PROJECT = "\r=1+1"
TITLE = '=HYPERLINK("http://evil.example")'
PROSPECT = "@prospect"


@pytest.fixture
def hostile_figures(org, owner):
    """Responses, revenue and a proposal whose every piece of user text starts like a formula."""
    unit = Unit.objects.create(organization=org, name=UNIT)
    pm = add_member(org, [Role.PROJECT_MANAGER], user=make_user(name=PM))
    builder = Responses(org, pm)
    client = make_client(org, CLIENT, unit=unit)
    project = builder.project(client=client, pm=pm, unit=unit, code=PROJECT)
    contact = make_contact(client, name=CONTACT)
    builder.add([10, 9, 3, 2, 8], project=project, submitted_at=recent(), comment=REASON, contact=contact)
    add_revenue(client, {f"{recent():%Y-%m}": 1000})
    ProposalRecord.objects.create(
        organization=org,
        reference="R-1",
        title=TITLE,
        client=client,
        prospect=PROSPECT,
        unit=unit,
        value=5000,
        submitted_on=recent().date(),
    )
    assert Response.objects.filter(organization=org).count() == 5


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))


def every_csv_export(org_slug: str, owner_client) -> list[str]:
    """Every CSV export of every app: each URL ending in .csv, the dashboard's once per table."""
    urls = []
    for name, params in url_patterns():
        if not name or set(params) != {"org_slug"}:
            continue
        url = reverse(name, kwargs={"org_slug": org_slug})
        if url.endswith(".csv"):
            urls.append(url)
    dashboard = owner_client.get(reverse("metrics:index", args=[org_slug])).context
    tables = ["tiles", *(chart["id"] for chart in dashboard["charts"])]
    dashboard_csv = reverse("metrics:dashboard_csv", args=[org_slug])
    return [u for u in urls if u != dashboard_csv] + [f"{dashboard_csv}?table={t}" for t in tables]


def test_no_cell_of_any_csv_export_starts_like_a_formula(org, owner_client, hostile_figures):
    urls = every_csv_export(org.slug, owner_client)
    assert {u.split("?")[0].rsplit("/", 1)[1] for u in urls} >= {
        "export.csv",
        "dashboard.csv",
        "responses.csv",
        "revenue.csv",
        "proposals.csv",
    }
    for url in urls:
        for row in read_csv(owner_client.get(url))[1:]:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (url, cell)


@pytest.mark.parametrize(
    ("export", "query", "values"),
    [
        ("responses_csv", {}, [UNIT, PM, CLIENT, CONTACT, REASON, PROJECT]),
        ("dashboard_csv", {"table": "nps-units"}, [UNIT]),
        ("dashboard_csv", {"table": "nps-managers"}, [PM]),
        ("revenue_csv", {}, [CLIENT]),
        ("proposals_csv", {}, [TITLE, CLIENT, PROSPECT, UNIT]),
    ],
    ids=["responses", "nps-units", "nps-managers", "revenue", "proposals"],
)
def test_csv_export_quotes_hostile_text_as_the_audit_export_does(
    org, owner_client, hostile_figures, export, query, values
):
    rows = read_csv(owner_client.get(reverse(f"metrics:{export}", args=[org.slug]), query))
    cells = {cell for row in rows[1:] for cell in row}
    for value in values:
        assert "'" + value in cells, (export, value)
        assert value not in cells, (export, value)


# --- Markdown -----------------------------------------------------------------------------------------

MARKDOWN = (
    f"**Bold** {SCRIPT} [click](javascript:alert(1)) [again](JaVaScRiPt:alert(2)) "
    '<a href="javascript:alert(3)">raw</a> <img src=x onerror=alert(4)> '
    '<iframe src="https://evil.example/frame"></iframe> ![pic](https://evil.example/pic.png)\n\n'
    "[ref][1]\n\n[1]: javascript:alert(5)"
)


@pytest.fixture
def markdown_charter(org):
    editor = add_member(org, [Role.CX_COE])
    lead = add_member(org, [Role.EXECUTIVE])
    version = draft_charter(org, editor)
    content = {
        **CONTENT,
        "purpose": MARKDOWN,
        "phases": [{"name": "Baseline", "status": "done", "description": MARKDOWN}],
        "responsibilities": [{"group": "Project managers", "responsibilities": MARKDOWN}],
        "desired_behaviors": [MARKDOWN],
    }
    version = charter_services.save_draft(
        version=version, actor=editor.user, revision=version.revision, title=version.title, content=content
    )
    sign_all(charter_services.send_for_signature(version=version, actor=editor.user, lead=lead, supporters=[]))
    version.refresh_from_db()
    return version


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_charter_markdown_is_sanitized_in_the_page(org, owner_client, markdown_charter):
    page = owner_client.get(reverse("charters:version", args=[org.slug, markdown_charter.pk])).content.decode()
    assert page.count("<strong>Bold</strong>") >= 4  # each Markdown section was rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag not in ("iframe", "img", "object", "embed"), (tag, attrs)
        assert tag != "script" or attrs.get("src", "").startswith("/static/"), attrs  # only the app's own
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith("javascript:") and "evil.example" not in value, (tag, attrs)
    links = [attrs for tag, attrs in parser.tags if tag == "a" and attrs.get("rel") == "noopener noreferrer nofollow"]
    assert links and all("href" not in a for a in links)  # the link text stays, the script URL goes


def test_charter_markdown_is_sanitized_in_the_pdf(org, owner_client, markdown_charter, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    data = b"".join(owner_client.get(reverse("charters:pdf", args=[org.slug, markdown_charter.pk])).streaming_content)
    flat = " ".join(pdf_text(data).split())
    assert SCRIPT in flat and "<iframe" in flat  # shown as the words written
    assert pdf_image_count(data, tmp_path) == 0
