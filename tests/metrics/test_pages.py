"""The metrics pages as their users see them: dashboards and their drill-downs, exports, targets and alerts,
revenue and proposal imports, the adoption assessment, board reports."""

import csv
import io
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cxprogram.tenancy.permissions import Role
from metrics import services
from metrics.models import (
    AdoptionResponse,
    BoardReport,
    MetricAlert,
    MetricsSettings,
    MetricTarget,
    ProposalRecord,
    RevenueRecord,
)
from tests.conftest import client_for
from tests.feedback.factories import make_client, make_contact
from tests.metrics.factories import Responses, add_revenue, recent

pytestmark = pytest.mark.django_db


def url(org, name, *args):
    return reverse(f"metrics:{name}", args=[org.slug, *args])


def test_before_any_response_the_ranking_charts_say_so_instead_of_drawing_empty_axes(owner_client, org):
    page = owner_client.get(url(org, "index")).content.decode()

    assert "No responses in this period yet" in page
    assert 'data-chart="nps-units"' not in page and 'data-chart="nps-managers"' not in page
    assert page.count("Nothing to chart in this period.") == 2
    assert 'data-chart="nps-trend"' in page  # the months are there, empty, to fill


def test_dashboard_shows_the_headline_with_n_and_margin(owner_client, org, data):
    response = owner_client.get(url(org, "index"))
    assert response.status_code == 200
    page = response.content.decode()
    # 5 promoters, 2 passives, 4 detractors of 11: NPS +9, margin ±53
    assert "+9 ±53 (n=11)" in page
    assert 'data-chart="nps-trend"' in page and 'id="metrics-figures"' in page
    assert "vendor/plotly/plotly.min.js" in page and "<script>" not in page


def test_a_small_client_shows_the_quarters_every_contact_answered(owner_client, org, owner):
    MetricsSettings.objects.create(organization=org, min_n=5)
    builder = Responses(org, owner)
    small = builder.project(client=make_client(org, "Three Contacts Co"))
    larger = builder.project(client=make_client(org, "Four Contacts Co"))
    last_month = timezone.now() - timedelta(days=40)
    builder.add([10, 9, 3], project=small, submitted_at=last_month)
    builder.add([10, 9, 3], project=larger, submitted_at=last_month)
    make_contact(larger.client)  # has not answered
    add_revenue(small.client, {f"{d:%Y-%m}": 100 for d in (date.today() - timedelta(days=30 * i) for i in range(20))})

    small_page = owner_client.get(url(org, "client", small.client.pk))
    larger_page = owner_client.get(url(org, "client", larger.client.pk)).content.decode()

    nps = small_page.context["figures"]["account-nps"]["data"][0]
    # (2 − 1) / 3 = 33: all three contacts answered, so the score is exact though five are the minimum
    assert [round(y) for y in nps["y"] if y is not None] == [33]
    assert "+33, exact (all 3 contacts)" in nps["text"]
    assert "33, exact (every contact)" in small_page.content.decode()
    assert (
        "No quarter has a score yet" in larger_page and "from 5 of this client's contacts or from all 4" in larger_page
    )
    revenue = small_page.context["figures"]["revenue"]
    assert len(revenue["data"][0]["x"]) == 24 and revenue["data"][0]["text"] is None  # 24 labels were unreadable
    assert revenue["layout"]["xaxis"]["automargin"] is True


def test_dashboard_filters_by_unit_including_sub_units(owner_client, org, data):
    page = owner_client.get(url(org, "index"), {"unit": data["buildings"].pk}).content.decode()
    # Buildings › Healthcare: 3 promoters, 1 passive, 1 detractor → +40 (too few? n=5, the default minimum)
    assert "+40 ±" in page and "(n=5)" in page


def test_the_filters_show_the_chosen_options_selected_and_names_escaped(owner_client, org, data):
    from cxprogram.tenancy.models import Unit

    Unit.objects.filter(pk=data["water"].pk).update(name="Water <b>& Waste</b>")
    page = owner_client.get(url(org, "index"), {"unit": data["buildings"].pk, "months": "6"}).content.decode()
    assert f'<option value="{data["buildings"].pk}" selected>' in page
    assert '<option value="6" selected>' in page and '<option value="12" selected>' not in page
    assert page.count(" selected>") == 2 + 3  # unit and period; project manager, survey and kind on "All"
    assert "Water &lt;b&gt;&amp; Waste&lt;/b&gt;" in page and "<b>& Waste" not in page


def test_bad_filters_are_ignored_not_a_500(owner_client, org, data):
    response = owner_client.get(url(org, "index"), {"unit": "abc", "months": "999", "start": "2025-13"})
    assert response.status_code == 200
    assert "+9 ±53 (n=11)" in response.content.decode()


def test_drill_down_lists_the_detractors_behind_a_figure(owner_client, org, data):
    page = owner_client.get(url(org, "responses"), {"unit": data["water"].pk, "category": "detractor"})
    rows = page.context["page"].object_list
    assert sorted(r.nps_score for r in rows) == [1, 2, 6]
    assert all(r.unit_id == data["water"].pk for r in rows)


def test_responses_csv_escapes_formulas(owner_client, org, data):
    response = owner_client.get(url(org, "responses_csv"), {"category": "detractor"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Submitted" and len(rows) == 1 + 4
    reasons = {row[-1] for row in rows[1:]}
    assert "'=HYPERLINK(evil) late again" in reasons


def test_every_dashboard_table_exports_as_csv(owner_client, org, data):
    for table in ("tiles", "nps-trend", "nps-categories", "nps-units", "nps-managers", "response-rate", "revenue"):
        response = owner_client.get(url(org, "dashboard_csv"), {"table": table})
        assert response.status_code == 200, table
        assert response["Content-Type"].startswith("text/csv")
    assert owner_client.get(url(org, "dashboard_csv"), {"table": "nope"}).status_code == 404


def test_dashboard_query_count_does_not_grow_with_data(owner_client, org, data, django_assert_max_num_queries):
    owner_client.get(url(org, "index"))  # warm up
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        owner_client.get(url(org, "index"))
    builder = data["builder"]
    for i in range(6):
        client = make_client(org, f"More {i}", unit=data["water"])
        project = builder.project(client=client, pm=data["ben"], unit=data["water"])
        builder.add([i, 10 - i, 5], project=project, submitted_at=recent(40))
        builder.unanswered(2, project, sent_at=recent(40))
        add_revenue(client, {f"{recent(40):%Y-%m}": 100 * i})
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner_client.get(url(org, "index"))
    assert "(n=29)" in response.content.decode()


def test_only_dashboard_roles_see_dashboards(org, member, data):
    staff = client_for(member(Role.STAFF))
    assert staff.get(url(org, "index")).status_code == 403
    assert staff.get(url(org, "responses")).status_code == 403
    leader = client_for(member(Role.UNIT_LEADER))
    assert leader.get(url(org, "index")).status_code == 200
    assert leader.get(url(org, "revenue")).status_code == 403  # managing figures is for admins and the CoE


def test_executive_summary_counts_detractor_themes(owner_client, org, data):
    response = owner_client.get(url(org, "summary"))
    themes = {t["theme"]: t["count"] for t in response.context["themes"]["themes"]}
    # detractors: three "late again" (Healthcare's 3, …) — only the 3 is a detractor there; Water's 2, 1, 6 are slow
    assert themes["Schedule"] == 1
    assert themes["Responsiveness"] == 3
    page = response.content.decode()
    assert "Words looked for" in page
    assert [t["key"] for t in response.context["headline"]] == [
        "nps", "response_rate", "revenue_at_risk", "net_revenue_retention", "feedback_participation", "adoption_score"
    ]  # fmt: skip
    assert "+9" in page


def test_client_account_page(owner_client, org, data):
    client = data["b"].client
    response = owner_client.get(url(org, "client", client.pk))
    assert response.status_code == 200
    assert response.context["overall"].n == 6
    assert response.context["revenue_total"] == Decimal(400)


def test_targets_alert_once_per_crossing(org, owner, member, data, settings):
    coe = member(Role.CX_COE)
    services.save_target(
        organization=org,
        actor=owner.user,
        metric="nps",
        target=Decimal(40),
        warning=Decimal(20),
        starts_on=recent(60).date(),
        ends_on=timezone.localdate() + timedelta(days=30),
        owner=data["ann"],
    )
    alerts = services.evaluate_targets(org)  # NPS +9 is below the warning threshold of 20
    assert [a.status for a in alerts] == ["off_target"]
    target = MetricTarget.objects.get(organization=org)
    assert target.status == "off_target" and target.last_value == Decimal("9.09")
    assert services.send_alert(org, alerts[0].pk)
    assert not services.send_alert(org, alerts[0].pk)  # a retried task sends nothing twice
    messages = [m for m in mail.outbox if m.subject.startswith("Net Promoter Score")]
    assert len(messages) == 1
    body = messages[0].body
    assert "+9" in body and "+40" in body and "/metrics/targets/" in body
    assert set(messages[0].to) == {coe.user.email, data["ann"].user.email}
    # still off target: no new crossing, no new alert
    assert services.evaluate_targets(org) == []
    # recovers above the target, then slips again: a new crossing
    data["builder"].add([10] * 20, project=data["a"], submitted_at=recent(5))
    assert services.evaluate_targets(org) == []
    assert MetricTarget.objects.get(pk=target.pk).status == "on_target"
    data["builder"].add([0] * 30, project=data["a"], submitted_at=recent(4))
    assert len(services.evaluate_targets(org)) == 1
    assert MetricAlert.objects.filter(organization=org).count() == 2


def test_home_page_shows_metrics_off_target(owner_client, org, owner, data):
    MetricTarget.objects.create(
        organization=org,
        metric="nps",
        target=40,
        warning=20,
        starts_on=date(2020, 1, 1),
        ends_on=date(2099, 1, 1),
        status="off_target",
        last_value=Decimal("9.09"),
    )
    page = owner_client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Net Promoter Score is off target: +9 against +40" in page
    assert "% promoters (9-10) − % detractors (0-6) among responses in the period." in page  # what it counts


def test_target_form_explains_a_wrong_threshold(owner_client, org, data):
    response = owner_client.post(
        url(org, "targets"),
        {"metric": "nps", "target": "40", "warning": "50", "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
    )
    assert response.status_code == 200
    assert "higher is better" in response.content.decode()
    assert not MetricTarget.objects.filter(organization=org).exists()


def upload(name, text):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_revenue_import_is_all_or_nothing_with_a_row_report(owner_client, org, data):
    bad = "client,month,amount\nAlpha Health,2025-01,100\nNobody,2025-01,5\nBay Water,2025-13,7\nBay Water,2025-02,-3\n"
    response = owner_client.post(url(org, "revenue"), {"file": upload("rev.csv", bad)})
    report = response.context["report"]
    assert not report.imported and report.error_rows == 3
    assert [line for line, _ in report.errors] == [3, 4, 5]
    assert "No client is named “Nobody”." in response.content.decode()
    assert RevenueRecord.objects.filter(organization=org, month=date(2025, 1, 1)).count() == 0
    good = 'client,month,amount\nAlpha Health,2025-01,100\nBay Water,2025-01,"1,250.50"\n'
    response = owner_client.post(url(org, "revenue"), {"file": upload("rev.csv", good)}, follow=True)
    assert "2 new, 0 updated" in response.content.decode()
    again = "client,month,amount\nAlpha Health,2025-01,120\n"
    owner_client.post(url(org, "revenue"), {"file": upload("rev.csv", again)})
    rows = RevenueRecord.objects.filter(organization=org, month=date(2025, 1, 1)).order_by("client__name")
    assert [r.amount for r in rows] == [Decimal(120), Decimal("1250.50")]


def test_revenue_import_refuses_other_files(owner_client, org, data):
    response = owner_client.post(url(org, "revenue"), {"file": upload("rev.xlsx", "junk")})
    assert "Upload a .csv file." in response.content.decode()
    response = owner_client.post(url(org, "revenue"), {"file": upload("rev.csv", "name,when\nx,y\n")})
    assert "The header row needs the columns: client, month, amount." in response.content.decode()


def test_proposal_import_and_win_rate(owner_client, org, data):
    text = (
        "reference,title,submitted_on,outcome,decided_on,client,value\n"
        f"P-1,Clinic,{recent(50):%Y-%m-%d},won,{recent(20):%Y-%m-%d},Alpha Health,1000\n"
        f"P-2,Depot,{recent(50):%Y-%m-%d},lost,{recent(20):%Y-%m-%d},,\n"
        f"P-3,School,{recent(10):%Y-%m-%d},,,,\n"
    )
    response = owner_client.post(url(org, "proposals"), {"file": upload("p.csv", text)}, follow=True)
    assert "3 new, 0 updated" in response.content.decode()
    assert "win rate 50.0%" in response.content.decode()
    bad = "reference,title,submitted_on,outcome\nP-1,Clinic,2025-01-01,won\n"
    response = owner_client.post(url(org, "proposals"), {"file": upload("p.csv", bad)})
    assert "needs its decision date" in response.content.decode()
    assert ProposalRecord.objects.get(organization=org, reference="P-1").outcome == "won"


def test_adoption_assessment_from_invitation_to_score(
    org, owner, member, owner_client, django_capture_on_commit_callbacks
):
    staff = member(Role.STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            url(org, "adoption"), {"quarter": f"{timezone.localdate():%Y-%m}", "closes_on": "2099-01-01"}
        )
    assert response.status_code == 302
    invites = [m for m in mail.outbox if "CX adoption assessment" in m.subject]
    assert sorted(m.to[0] for m in invites) == sorted([owner.user.email, staff.user.email])
    survey = AdoptionResponse.objects.filter(organization=org).first().survey
    home = client_for(staff).get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Answer the CX adoption assessment" in home
    answers = {"strategy": 5, "listening": 4, "closing_loop": 3, "insight": 3, "behaviors": 4, "measurement": 5}
    assert client_for(staff).post(url(org, "adoption_answer", survey.pk), answers).status_code == 302
    assert client_for(staff).post(url(org, "adoption_answer", survey.pk), {"strategy": 9}).status_code == 200
    page = owner_client.get(url(org, "adoption"))
    # dimension scores (s − 1) / 4 × 100: 100, 75, 50, 50, 75, 100 → 75 overall
    assert page.context["results"]["latest"]["score"] == pytest.approx(75)


def test_board_report_pdf_holds_the_headline_nps(owner_client, org, data):
    today = timezone.localdate()
    response = owner_client.post(
        url(org, "board_reports"),
        {"period_start": f"{recent(40):%Y-%m}", "period_end": f"{today:%Y-%m}", "commentary": "Water needs help."},
    )
    report = BoardReport.objects.get(organization=org)
    assert response.status_code == 302
    pdf = owner_client.get(url(org, "board_report_pdf", report.pk))
    assert pdf["Content-Type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert "NPS +9 ±53 (n=11)" in text
    assert "Water needs help." in text
    page = owner_client.get(url(org, "board_report", report.pk)).content.decode()
    assert "<svg" in page


def test_board_report_mail_goes_to_executives_once(org, owner, member, data, django_capture_on_commit_callbacks):
    executive = member(Role.EXECUTIVE)
    report = services.save_board_report(
        organization=org, actor=owner.user, period_start=recent(40).date(), period_end=timezone.localdate()
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_board_report_mail(report=report, actor=owner.user)
    assert not services.mail_board_report(org, report.pk)
    sent = [m for m in mail.outbox if "CX board report" in m.subject]
    assert [m.to for m in sent] == [[executive.user.email]]
    assert "NPS +9 ±53 (n=11)" in sent[0].body


def test_settings_change_the_minimum(owner_client, org, data):
    response = owner_client.post(
        url(org, "settings"),
        {"min_n": 12, "gross_margin": "0.4", "account_convention": "every_response", "currency": "USD"},
    )
    assert response.status_code == 302
    page = owner_client.get(url(org, "index")).content.decode()
    assert "too few (n=11)" in page


def test_outsiders_never_see_figures(outsider_client, org, data):
    assert outsider_client.get(url(org, "index")).status_code == 404
    assert outsider_client.get(url(org, "client", data["a"].client_id)).status_code == 404


def test_large_organizations_read_rollups_and_say_how_fresh(owner_client, org, data, monkeypatch):
    from metrics import tasks

    monkeypatch.setattr(services, "ROLLUP_MIN_RESPONSES", 5)  # this organization counts as large
    tasks.refresh_rollups()
    page = owner_client.get(url(org, "index")).content.decode()
    assert "+9 ±53 (n=11)" in page and "Figures as of" in page
    # a new answer shows once the periodic task has run again
    data["builder"].add([0, 0], project=data["b"], submitted_at=recent(3))
    assert "(n=11)" in owner_client.get(url(org, "index")).content.decode()
    tasks.refresh_rollups()
    assert "(n=13)" in owner_client.get(url(org, "index")).content.decode()
