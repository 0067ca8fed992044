"""The CoE dashboard in a real browser: the charts draw (under the strict CSP), a unit filter narrows every
figure, a click on the detractors' bar opens the responses behind it, and the board report downloads as a PDF
whose text holds the headline NPS."""

import re
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cxprogram.tenancy.models import Unit
from feedback.models import Response
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_filter_drill_down_and_board_report(live_server, page, org, owner, data, tmp_path):
    base = live_server.url
    problems = []

    def on_console(message):
        # plotly.js probes once per page whether images can render pixelated by giving a test element a style
        # attribute; the CSP refuses it and plotly falls back. Every other error counts.
        probe = message.text.startswith("Applying inline style") and "plotly.min.js" in message.location["url"]
        if message.type == "error" and not probe:
            problems.append(message.text)

    page.on("console", on_console)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()

    page.goto(f"{base}/o/{org.slug}/metrics/")
    expect(page.locator(".metric-tile").first).to_contain_text("+9")
    expect(page.locator('[data-chart="nps-trend"] svg.main-svg').first).to_be_visible()
    expect(page.locator('[data-chart="nps-categories"] svg.main-svg').first).to_be_visible()

    # Each unit's figures sit under its name, and a name shows as it was typed, tags and all: plotly reads
    # tags in labels (the bold one would also have set a style attribute, which the CSP refuses).
    Unit.objects.filter(pk=data["water"].pk).update(name="Water <b>& Wastewater</b>")
    page.reload()
    water = page.locator('[data-chart="nps-units"] .ytick text', has_text="Water <b>& Wastewater</b>")
    # 10, 2, 1, 6, 8, 9: (2 − 3) / 6 → −17
    expect(water).to_have_text(re.compile(r"^Water <b>& Wastewater</b>-17 ±\d+ \(n=6\)$"))

    # Filter by unit: Buildings holds Healthcare's five responses (3 promoters, 1 passive, 1 detractor → +40).
    page.select_option("select[name=unit]", label="Buildings")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    expect(page.locator(".metric-tile").first).to_contain_text("+40")
    assert f"unit={data['buildings'].pk}" in page.url

    # Click the detractors' segment of the bar of the month the answers fall in: the responses behind it,
    # same unit. The fixture dates them days back, so early in a month that is last month's bar, not this one's.
    # (plotly listens on a layer above the bars, so the pointer goes where a person would put it)
    answered = timezone.localtime(Response.objects.get(client=data["a"].client, nps_score=3).submitted_at, org.tz)
    month = answered.date().replace(day=1)
    today = timezone.localdate(timezone=org.tz)
    months_back = (today.year - month.year) * 12 + today.month - month.month
    points = page.locator('[data-chart="nps-categories"] g.trace.bars').nth(2).locator("g.point path")
    expect(points).to_have_count(12)  # the default period: the last 12 months, the current one last
    bar = points.nth(11 - months_back)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(r"/metrics/responses/\?.*category=detractor"))
    assert f"unit={data['buildings'].pk}" in page.url
    assert f"start={month:%Y-%m}" in page.url and f"end={month:%Y-%m}" in page.url
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Alpha Health")
    expect(rows.first).to_contain_text("3")

    # The board report for the months with data, downloaded and read.
    page.goto(f"{base}/o/{org.slug}/metrics/reports/")
    page.fill("input[name=period_start]", f"{month:%Y-%m}")
    page.fill("input[name=period_end]", f"{today:%Y-%m}")
    page.fill("textarea[name=commentary]", "Healthcare carries the score; Water needs attention.")
    page.get_by_role("button", name="Create").click()
    page.wait_for_load_state()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    path = tmp_path / "board-report.pdf"
    download_info.value.save_as(path)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "NPS +9 ±53 (n=11)" in text
    assert "Water needs attention." in text
    assert problems == []
