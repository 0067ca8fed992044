"""The NPS trend's margin-of-error band as the page and the board report's PDF draw it: a shape over each
run of periods that have a score, none across the periods without one, never beyond the NPS scale, and the
periods in calendar order."""

import pytest

from metrics.dashboards import margin_band, margin_runs
from metrics.formulas import NpsFigure
from metrics.reports import line_chart

MONTHS = ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026"]
FIGURES = [
    NpsFigure(promoters=8, passives=1, detractors=1, min_n=5),
    NpsFigure(promoters=9, passives=1, detractors=0, min_n=5),
    NpsFigure(promoters=1, passives=0, detractors=0, min_n=5),  # too few: no score, no band
    NpsFigure(promoters=2, passives=1, detractors=3, min_n=5),
    NpsFigure(promoters=0, passives=0, detractors=0, min_n=5),
]


def test_the_band_is_one_shape_per_run_of_scored_periods_clipped_to_the_scale():
    figures = FIGURES
    assert [f.score is None for f in figures] == [False, False, True, False, True]

    x, y = margin_band(MONTHS, figures)

    jan, feb, apr = figures[0], figures[1], figures[3]
    assert x == ["Jan 2026", "Feb 2026", "Feb 2026", "Jan 2026", None, "Apr 2026", "Apr 2026"]
    assert y == [
        min(100, jan.score + jan.margin),
        100,  # February's +80 with its margin would pass the top of the scale
        feb.score - feb.margin,
        jan.score - jan.margin,
        None,
        apr.score + apr.margin,
        max(-100, apr.score - apr.margin),
    ]
    assert feb.score + feb.margin > 100


@pytest.mark.django_db
def test_the_trend_keeps_the_periods_in_order_though_the_band_skips_some(owner_client, org, data):
    page = owner_client.get(f"/o/{org.slug}/metrics/")
    trend = page.context["figures"]["nps-trend"]

    months = trend["data"][-1]["x"]  # the NPS line has every period, scored or not
    axis = trend["layout"]["xaxis"]
    assert (axis["categoryorder"], axis["categoryarray"]) == ("array", months)
    assert set(trend["data"][0]["x"]) - {None} <= set(months)


@pytest.mark.django_db
def test_month_labels_slant_to_end_at_their_ticks_and_quarters_stay_level(owner_client, org, data):
    figures = owner_client.get(f"/o/{org.slug}/metrics/").context["figures"]
    for chart in ("nps-trend", "nps-categories", "response-rate"):
        axis = figures[chart]["layout"]["xaxis"]
        # plotly's own slant ran the labels right from their ticks, and the edge cut the last month off
        assert (axis["tickangle"], axis["automargin"]) == (-45, True), chart
    assert "tickangle" not in figures["revenue"]["layout"].get("xaxis", {})  # four quarters fit level


def test_the_board_reports_chart_shades_each_run_apart():
    svg = line_chart(MONTHS, [f.score for f in FIGURES], "NPS by month", band=margin_runs(FIGURES))

    assert svg.count("<polygon") == 2  # January-February, and April alone (drawn as a bar by its stroke)
    assert svg.count("<circle") == 3
    assert svg.count("<polyline") == 1  # January to February: no line across March to April
