"""What the dashboards show, built from `selectors.Metrics`: tiles, and charts as plotly figure JSON with a
data table each (the same rows, for screen readers, printing and CSV export). Figures are plain dicts in
plotly's JSON schema, rendered in the browser by static/metrics/charts.js.

Charts never rely on colour alone: every bar and point carries its figure as a text label, and the promoter /
passive / detractor bars also differ by pattern. Each point links to the responses behind it."""

import hashlib
from datetime import date
from functools import cached_property
from urllib.parse import urlencode

from django.core.cache import cache
from django.urls import reverse

from cxprogram.core.charts import chart_text
from cxprogram.tenancy.models import Membership, Unit

from . import catalog
from .formulas import NpsFigure
from .models import MetricTarget
from .selectors import ALL, Metrics, Period, RequestFigure, Slice, names

COLORS = {"promoter": "#16703a", "passive": "#8a8f98", "detractor": "#b42318", "line": "#1d4ed8", "band": "#c7d5f8"}
PATTERNS = {"promoter": "", "passive": "/", "detractor": "x"}
# Traces with labels above or below their points draw them with "cliponaxis": False, so the edge of the
# plot does not cut off the label of a point near it; the top margin leaves them room.
LAYOUT = {
    "margin": {"l": 48, "r": 16, "t": 28, "b": 48},
    "height": 300,
    "font": {"family": "Inter, system-ui, sans-serif", "size": 12},
    "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},  # below the axis labels
    "hovermode": "closest",
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}


def time_axis(labels: list[str]) -> dict:
    """An x axis of periods in calendar order. More than six are slanted so that each ends at its tick:
    plotly's own slant runs the other way and cut the last one off at the right edge."""
    return {
        "automargin": True,
        "categoryorder": "array",
        "categoryarray": labels,
        **({"tickangle": -45} if len(labels) > 6 else {}),
    }


def fmt(value, digits=0, sign=False) -> str:
    if value is None:
        return "—"
    return f"{value:+.{digits}f}" if sign else f"{value:,.{digits}f}"


def nps_label(figure) -> str:
    if figure.n == 0:
        return "no responses"
    if figure.too_few:
        return f"too few (n={figure.n})"
    if figure.census:
        return f"{figure.score:+.0f}, exact (all {figure.n} contacts)"
    return f"{figure.score:+.0f} ±{figure.margin:.0f} (n={figure.n})"


def runs(values: list) -> list[list[int]]:
    """The indexes of each run of values that are not None: [1, None, 2, 3] gives [[0], [2, 3]]. Charts
    draw each run apart, so that nothing is drawn over the periods without a value between them."""
    found = [[]]
    for index, value in enumerate(values):
        if value is None:
            found.append([])
        else:
            found[-1].append(index)
    return [run for run in found if run]


def margin_runs(figures: list[NpsFigure]) -> list[list[tuple[int, float, float]]]:
    """The margin of error of each run of periods that have a score: [(index, low, high)] per run, clipped
    to the NPS scale."""

    def clipped(i: int) -> tuple[int, float, float]:
        score, margin = figures[i].score, figures[i].margin
        return i, max(-100, score - margin), min(100, score + margin)

    return [[clipped(i) for i in run] for run in runs([figure.score for figure in figures])]


def margin_band(labels: list[str], figures: list[NpsFigure]) -> tuple[list, list]:
    """(x, y) of the margin of error for a plotly "toself" fill: one closed shape per run, apart by a gap."""
    x, y = [], []
    for run in margin_runs(figures):
        if x:
            x.append(None)
            y.append(None)
        x += [labels[i] for i, _, _ in run] + [labels[i] for i, _, _ in reversed(run)]
        y += [high for _, _, high in run] + [low for _, low, _ in reversed(run)]
    return x, y


def step_label(step: date, grain: str) -> str:
    return f"{step.year} Q{(step.month - 1) // 3 + 1}" if grain == "quarter" else f"{step:%b %Y}"


class Dashboard:
    """The CX CoE dashboard for a period and slice: everything the page, its CSV exports and the executive
    summary read, computed with a fixed number of queries."""

    def __init__(self, organization, period: Period, slc: Slice = ALL, grain: str = "month", query: dict | None = None):
        self.organization = organization
        self.metrics = Metrics(organization)
        self.period, self.slice, self.grain = period, slc, grain
        self.query = {k: v for k, v in (query or {}).items() if v not in ("", None)}
        self.currency = self.metrics.settings.currency

    # --- links -------------------------------------------------------------------------------------------

    @cached_property
    def responses_url(self) -> str:
        return reverse("metrics:responses", args=[self.organization.slug])

    def drill(self, **overrides) -> str:
        """The responses behind a figure: this page's filters plus the figure's own (a month, a unit, ...)."""
        query = {**self.query, **{k: v for k, v in overrides.items() if v is not None}}
        for key in ("grain", "page", "table"):
            query.pop(key, None)
        return self.responses_url + "?" + urlencode(query)  # one reverse() per page: hundreds of cells drill

    def step_query(self, step: date) -> dict:
        months = 3 if self.grain == "quarter" else 1
        last = date(step.year + (step.month + months - 2) // 12, (step.month + months - 2) % 12 + 1, 1)
        return {"start": f"{step:%Y-%m}", "end": f"{last:%Y-%m}", "months": None}

    def names(self, model, keys) -> dict:
        return names(self.organization, model, keys)

    def cached(self, name: str, compute):
        """Figures that scan whole tables (accounts, revenue, behaviors), computed once per rollup refresh for a
        large organization: the page shows them "as of" that refresh, like the rest. Small organizations
        (never rolled up) always compute them live."""
        refreshed = self.metrics.settings.rollups_refreshed_at
        if refreshed is None:
            return compute()
        parts = (self.organization.pk, refreshed.isoformat(), name, self.period, self.slice)
        key = "metrics:figures:" + hashlib.sha256(repr(parts).encode()).hexdigest()
        value = cache.get(key)
        if value is None:
            value = compute()
            cache.set(key, value, CACHE_SECONDS)
        return value

    # --- the page ------------------------------------------------------------------------------------

    def build(self) -> dict:
        m, period, slc, grain = self.metrics, self.period, self.slice, self.grain
        today = m.today()
        trend = m.nps_trend(period, slc, grain)
        overall = sum_figures([fig for _, fig in trend], m.settings.min_n)
        previous = m.nps(period.previous(), slc)
        by_unit = m.nps_by(period, "top_unit", slc)
        by_pm = m.nps_by(period, "project_manager", slc)
        requests_trend = m.requests_trend(period, slc, grain)
        requests = sum_requests([fig for _, fig in requests_trend])
        revenue_trend = self.cached("revenue_trend", lambda: m.revenue_trend(period, slc))
        revenue = self.cached("revenue", lambda: m.revenue(period, slc))
        accounts = self.cached("accounts", lambda: m.accounts(period, slc))
        cases = m.cases(slc)
        targets = targets_in_force(self.organization, today, slc.unit_id)
        unit_names = self.names(Unit, [k for k, _ in by_unit])
        pm_names = self.names(Membership, [k for k, _ in by_pm])
        charts = [
            self.nps_trend_chart(trend),
            self.categories_chart(trend),
            self.ranking_chart("nps-units", "NPS by unit", by_unit, unit_names, "unit", "No unit"),
            self.ranking_chart("nps-managers", "NPS by project manager", by_pm, pm_names, "project_manager", "—"),
            self.response_rate_chart(requests_trend),
            self.revenue_chart(revenue_trend),
        ]
        for chart in charts:
            drill = chart.get("drill", True)
            chart["rows"] = [{"cells": r[:-1] if drill else r, "url": r[-1] if drill else ""} for r in chart["rows"]]
        tiles = [
            self.tile("nps", overall.score, targets, nps_label(overall), previous.score, self.drill()),
            self.tile(
                "response_rate",
                requests.rate,
                targets,
                f"{requests.answered:,} of {requests.delivered:,} requests answered"
                + (f", in {requests.hours_to_answer:.0f} h on average" if requests.hours_to_answer else ""),
            ),
            {
                "label": "Open follow-up cases",
                "value": f"{cases['open']:,}",
                "detail": f"{cases['overdue']:,} overdue",
                "status": "off_target" if cases["overdue"] else "",
                "url": reverse("feedback:cases", args=[self.organization.slug]),
            },
            self.tile(
                "revenue_at_risk",
                accounts.revenue_at_risk,
                targets,
                f"{accounts.clients_at_risk} of {accounts.clients} clients with responses",
                url=self.drill(category="detractor"),
            ),
            self.tile("net_revenue_retention", revenue.net_retention, targets, f"vs {revenue.period.previous().label}"),
            self.tile("gross_revenue_churn", revenue.gross_churn, targets, f"{revenue.clients_lost} clients lost"),
            self.tile(
                "new_clients",
                revenue.new_clients,
                targets,
                f"{self.currency} {revenue.new_revenue:,.0f} of revenue",
            ),
            self.tile(
                "account_nps",
                accounts.figure.score,
                targets,
                f"{accounts.figure.n} votes · {m.settings.get_account_convention_display()}",
            ),
        ]
        return {
            "period": period,
            "overall": overall,
            "charts": charts,
            "tiles": tiles,
            "behaviors": self.behaviors(targets),
            "freshness": m.freshness,
            "accounts": accounts,
            "revenue": revenue,
        }

    def behavior_figures(self) -> dict:
        m, period, before = self.metrics, self.period, self.period.previous()
        return {
            "now_p": m.participation(period, self.slice),
            "then_p": m.participation(before, self.slice),
            "now_sla": m.cases_within_sla(period),
            "then_sla": m.cases_within_sla(before),
            "ideas": m.ideas_generated(period),
            "ideas_before": m.ideas_generated(before),
            "acknowledgment": m.acknowledgment(self.slice.unit_id),
            "adoption": m.adoption(),
            "callouts": m.callouts(period),
        }

    def behaviors(self, targets) -> list[dict]:
        figures = self.cached("behaviors", self.behavior_figures)
        now_p, then_p = figures["now_p"], figures["then_p"]
        now_sla, then_sla = figures["now_sla"], figures["then_sla"]
        ideas, ideas_before = figures["ideas"], figures["ideas_before"]
        acknowledgment, adoption, callouts = figures["acknowledgment"], figures["adoption"], figures["callouts"]
        latest = adoption["latest"]
        earlier = adoption["trend"][-2] if len(adoption["trend"]) > 1 else None
        tiles = [
            self.tile(
                "feedback_participation",
                now_p["project_rate"],
                targets,
                f"{now_p['projects_asked']} of {now_p['projects']} active projects asked",
                then_p["project_rate"],
            ),
            self.tile(
                "pm_participation",
                now_p["manager_rate"],
                targets,
                f"{now_p['managers_asked']} of {now_p['managers']} project managers",
                then_p["manager_rate"],
            ),
            self.tile(
                "cases_within_sla",
                now_sla["rate"],
                targets,
                f"{now_sla['within']} of {now_sla['total']} cases opened",
                then_sla["rate"],
            ),
            self.tile("ideas_generated", ideas, targets, "initiatives submitted by members", ideas_before),
            self.tile(
                "charter_acknowledgment",
                acknowledgment["rate"] if acknowledgment else None,
                targets,
                f"{acknowledgment['acknowledged']} of {acknowledgment['members']} members"
                if acknowledgment
                else "No charter in force yet",
            ),
            self.tile(
                "adoption_score",
                latest["score"] if latest else None,
                targets,
                f"{latest['label']}, {latest['respondents']} respondents" if latest else "No assessment answered yet",
                earlier["score"] if earlier else None,
                url=reverse("metrics:adoption", args=[self.organization.slug]),
            ),
        ]
        if callouts is not None:
            columns = ", ".join(f"{c['column']} {c['kudos']}" for c in callouts["by_column"][:6]) or "none yet"
            tiles.append(
                {
                    "label": "Behavior call-outs",
                    "value": f"{callouts['kudos']:,}",
                    "detail": f"kudos by matrix column: {columns}; {callouts['flags']} flagged",
                    "status": "",
                    "url": reverse("charters:index", args=[self.organization.slug]),
                }
            )
        return tiles

    def tile(self, key, value, targets, detail="", before=None, url="") -> dict:
        metric = catalog.get(key)
        target = targets.get(key)
        tile = {
            "key": key,
            "label": metric.label,
            "value": metric.format(value, self.currency),
            "raw": value,
            "detail": detail,
            "definition": metric.definition,
            "status": target.status_for(value) if target else "",
            "target": metric.format(target.target, self.currency) if target else "",
            "url": url,
        }
        if before is not None and value is not None:
            delta = float(value) - float(before)
            better = delta >= 0 if metric.higher_is_better else delta <= 0
            unit = " pts" if metric.unit in ("points", "percent", "score") else ""
            tile["trend"] = (
                f"{'▲' if delta > 0 else '▼' if delta < 0 else '='} {abs(delta):,.1f}{unit} vs previous period"
            )
            tile["trend_good"] = better
        return tile

    # --- charts --------------------------------------------------------------------------------------

    def nps_trend_chart(self, trend) -> dict:
        labels = [step_label(step, self.grain) for step, _ in trend]
        scores = [fig.score for _, fig in trend]
        band_x, band_y = margin_band(labels, [fig for _, fig in trend])
        urls = [self.drill(**self.step_query(step)) for step, _ in trend]
        figure = {
            "data": [
                {
                    "x": band_x,
                    "y": band_y,
                    "type": "scatter",
                    "mode": "lines",
                    # The outline gives a period that stands alone a visible bar, not a polygon of no width.
                    "line": {"width": 6, "color": COLORS["band"]},
                    "fill": "toself",
                    "fillcolor": COLORS["band"],
                    "name": "95% margin of error",
                    "hoverinfo": "skip",
                },
                {
                    "x": labels,
                    "y": scores,
                    "type": "scatter",
                    "mode": "lines+markers+text",
                    "name": "NPS",
                    "line": {"color": COLORS["line"], "width": 2},
                    "marker": {"size": 8},
                    "text": [fmt(s, sign=True) if s is not None else "" for s in scores],
                    "textposition": "top center",
                    "cliponaxis": False,
                    "customdata": urls,
                    "hovertext": [nps_label(fig) for _, fig in trend],
                    "hoverinfo": "x+text",
                },
            ],
            "layout": {
                **LAYOUT,
                "xaxis": time_axis(labels),  # in order, though the band skips periods
                "yaxis": {"title": {"text": "NPS"}, "range": [-100, 100], "zeroline": True},
            },
        }
        rows = [
            [label, nps_label(fig), fig.promoters, fig.passives, fig.detractors, url]
            for label, (_, fig), url in zip(labels, trend, urls, strict=True)
        ]
        return {
            "id": "nps-trend",
            "title": f"NPS by {self.grain}",
            "description": "NPS with its 95% margin of error (the shaded band). Periods with too few responses "
            "show no point.",
            "figure": figure,
            "columns": ["Period", "NPS", "Promoters", "Passives", "Detractors"],
            "rows": rows,
        }

    def categories_chart(self, trend) -> dict:
        labels = [step_label(step, self.grain) for step, _ in trend]
        data = []
        for category, attr in (("promoter", "promoters"), ("passive", "passives"), ("detractor", "detractors")):
            shares = [fig.share(getattr(fig, attr)) for _, fig in trend]
            data.append(
                {
                    "x": labels,
                    "y": [s or 0 for s in shares],
                    "type": "bar",
                    "name": f"{category.title()}s",
                    "marker": {
                        "color": COLORS[category],
                        # "overlay" draws the white strokes on the category's color; plotly's default
                        # ("replace") draws them alone, so passives and detractors were invisible.
                        "pattern": {
                            "shape": PATTERNS[category],
                            "fillmode": "overlay",
                            "fgcolor": "#ffffff",
                            "solidity": 0.3,
                        },
                    },
                    "text": [f"{s:.0f}%" if s else "" for s in shares],
                    "textposition": "inside",
                    "textangle": 0,  # upright; a share too long for its segment is left to the data table
                    "customdata": [self.drill(category=category, **self.step_query(step)) for step, _ in trend],
                }
            )
        figure = {
            "data": data,
            "layout": {
                **LAYOUT,
                "barmode": "stack",
                "xaxis": time_axis(labels),
                "uniformtext": {"minsize": 8, "mode": "hide"},
                "yaxis": {"title": {"text": "% of responses"}, "range": [0, 100]},
            },
        }
        rows = [
            [
                label,
                fig.n,
                fmt(fig.share(fig.promoters), 1),
                fmt(fig.share(fig.passives), 1),
                fmt(fig.share(fig.detractors), 1),
                self.drill(**self.step_query(step)),
            ]
            for label, (step, fig) in zip(labels, trend, strict=True)
        ]
        return {
            "id": "nps-categories",
            "title": "Promoters, passives and detractors",
            "description": "Share of responses in each category. Patterns tell the categories apart: plain for "
            "promoters, stripes for passives, crosses for detractors.",
            "figure": figure,
            "columns": ["Period", "Responses", "Promoters %", "Passives %", "Detractors %"],
            "rows": rows,
        }

    def ranking_chart(self, chart_id, title, ranking, labels, param, missing) -> dict:
        ranked = sorted(ranking, key=lambda kf: (kf[1].score is None, -(kf[1].score or 0), -kf[1].n))
        names_ = [labels.get(key, missing) for key, _ in ranked]
        urls = [self.drill(**{param: key}) if key else self.drill() for key, _ in ranked]
        # The figures go under each name: beside the bar they printed over the whisker and ran off the chart.
        ticks = [f"{chart_text(name)}<br>{nps_label(fig)}" for name, (_, fig) in zip(names_, ranked, strict=True)]
        figure = {
            "data": [
                {
                    "y": ticks[::-1],
                    "x": [fig.score or 0 for _, fig in ranked][::-1],
                    "type": "bar",
                    "orientation": "h",
                    "marker": {
                        "color": [
                            COLORS["promoter"] if (fig.score or 0) >= 0 else COLORS["detractor"] for _, fig in ranked
                        ][::-1]
                    },
                    "hovertemplate": "%{y}<extra></extra>",
                    "customdata": urls[::-1],
                    "error_x": {
                        "type": "data",
                        "array": [fig.margin or 0 for _, fig in ranked][::-1],
                        "visible": True,
                        "color": "#5a6472",
                    },
                    "name": "NPS",
                }
            ],
            "layout": {
                **LAYOUT,
                "height": max(220, 48 * len(ranked) + 80),
                "margin": {**LAYOUT["margin"], "l": 160},
                "xaxis": {"title": {"text": "NPS"}, "range": [-100, 100]},
                "yaxis": {"automargin": True},
                "showlegend": False,
            },
        }
        rows = [[name, nps_label(fig), fig.n, url] for name, (_, fig), url in zip(names_, ranked, urls, strict=True)]
        return {
            "id": chart_id,
            "title": title,
            "description": "Ranked by NPS; the whisker is the 95% margin of error. Slices with too few responses "
            "show no bar.",
            "figure": figure,
            "columns": ["Name", "NPS", "Responses"],
            "rows": rows,
        }

    def response_rate_chart(self, requests_trend) -> dict:
        labels = [step_label(step, self.grain) for step, _ in requests_trend]
        rates = [fig.rate for _, fig in requests_trend]
        urls = [self.drill(**self.step_query(step)) for step, _ in requests_trend]
        figure = {
            "data": [
                {
                    "x": labels,
                    "y": rates,
                    "type": "scatter",
                    "mode": "lines+markers+text",
                    "name": "Response rate",
                    "line": {"color": COLORS["line"]},
                    "text": [fmt(r) + "%" if r is not None else "" for r in rates],
                    "textposition": "top center",
                    "cliponaxis": False,
                    "customdata": urls,
                },
            ],
            "layout": {
                **LAYOUT,
                "xaxis": time_axis(labels),
                "yaxis": {"title": {"text": "% answered"}, "range": [0, 105]},
                "showlegend": False,
            },
        }
        rows = [
            [label, fig.delivered, fig.answered, fmt(fig.rate, 1), fmt(fig.hours_to_answer, 1), url]
            for label, (_, fig), url in zip(labels, requests_trend, urls, strict=True)
        ]
        return {
            "id": "response-rate",
            "title": "Response rate",
            "description": "Requests answered out of requests delivered, by the month the requests went out.",
            "figure": figure,
            "columns": ["Period", "Delivered", "Answered", "Response rate %", "Hours to answer"],
            "rows": rows,
        }

    def revenue_chart(self, revenue_trend) -> dict:
        labels = [step_label(r.period.start, "quarter") for r in revenue_trend]
        nrr = [r.net_retention for r in revenue_trend]
        churn = [r.gross_churn for r in revenue_trend]
        figure = {
            "data": [
                {
                    "x": labels,
                    "y": nrr,
                    "type": "scatter",
                    "mode": "lines+markers+text",
                    "name": "Net revenue retention %",
                    "line": {"color": COLORS["line"]},
                    "text": [fmt(v) + "%" if v is not None else "" for v in nrr],
                    "textposition": "top center",
                    "cliponaxis": False,
                },
                {
                    "x": labels,
                    "y": churn,
                    "type": "scatter",
                    "mode": "lines+markers+text",
                    "name": "Gross revenue churn %",
                    "line": {"color": COLORS["detractor"], "dash": "dash"},
                    "marker": {"symbol": "square"},
                    "text": [fmt(v) + "%" if v is not None else "" for v in churn],
                    "textposition": "top center",  # below, they ran into the quarter names
                    "cliponaxis": False,
                },
            ],
            "layout": {**LAYOUT, "yaxis": {"title": {"text": "%"}, "rangemode": "tozero"}},
        }
        rows = [
            [label, fmt(r.current), fmt(r.net_retention, 1), fmt(r.gross_churn, 1), r.new_clients, r.clients_lost]
            for label, r in zip(labels, revenue_trend, strict=True)
        ]
        return {
            "id": "revenue",
            "title": "Net revenue retention and gross churn by quarter",
            "description": "Each complete quarter against the quarter before it. Net retention is the solid line, "
            "gross churn the dashed one.",
            "figure": figure,
            "columns": [
                "Quarter",
                f"Revenue ({self.currency})",
                "Net retention %",
                "Gross churn %",
                "New clients",
                "Clients lost",
            ],
            "rows": rows,
            "drill": False,
        }


def client_figures(trend, revenue, currency) -> dict:
    """The client account page: account NPS by quarter (with its margin) and revenue by month."""
    labels = [step_label(step, "quarter") for step, _ in trend]
    scores = [fig.score for _, fig in trend]
    months = [f"{month:%b %Y}" for month, _ in revenue]
    amounts = [float(amount) for _, amount in revenue]
    return {
        "account-nps": {
            "data": [
                {
                    "x": labels,
                    "y": scores,
                    "type": "scatter",
                    "mode": "lines+markers+text",
                    "name": "Account NPS",
                    "text": [nps_label(fig) for _, fig in trend],
                    "textposition": "top center",
                    "cliponaxis": False,
                    "error_y": {"type": "data", "array": [fig.margin or 0 for _, fig in trend], "visible": True},
                    "line": {"color": COLORS["line"]},
                }
            ],
            "layout": {**LAYOUT, "yaxis": {"title": {"text": "NPS"}, "range": [-110, 110]}, "showlegend": False},
        },
        "revenue": {
            "data": [
                {
                    "x": months,
                    "y": amounts,
                    "type": "bar",
                    "name": f"Revenue ({currency})",
                    "marker": {"color": COLORS["line"]},
                    # Two years of labels shrink to unreadable; hover and the data table give each month's figure.
                    "text": [f"{a:,.0f}" if a else "" for a in amounts] if len(amounts) <= 12 else None,
                    "textposition": "outside",
                    "cliponaxis": False,
                    "hovertemplate": f"%{{x}}: %{{y:,.0f}} {currency}<extra></extra>",
                }
            ],
            "layout": {
                **LAYOUT,
                "xaxis": time_axis(months),
                "yaxis": {"title": {"text": currency}, "rangemode": "tozero"},
                "showlegend": False,
            },
        },
    }


def adoption_figure(results) -> dict:
    """The adoption assessment: overall score per quarter, labelled."""
    labels = [row["label"] for row in results["trend"]]
    scores = [round(row["score"]) for row in results["trend"]]
    return {
        "data": [
            {
                "x": labels,
                "y": scores,
                "type": "bar",
                "marker": {"color": COLORS["line"]},
                "text": [f"{s}/100" for s in scores],
                "textposition": "outside",
                "name": "Adoption score",
            }
        ],
        "layout": {**LAYOUT, "yaxis": {"title": {"text": "Score (0-100)"}, "range": [0, 110]}, "showlegend": False},
    }


CACHE_SECONDS = 24 * 3600  # keys change with every refresh; this only bounds what an idle cache keeps


def warm(organization) -> None:
    """After a rollup refresh: compute the default dashboard (last 12 months, everyone) once."""
    metrics = Metrics(organization)
    Dashboard(organization, Period.last_months(12, metrics.today())).build()


def sum_figures(figures, min_n):
    return NpsFigure(
        sum(f.promoters for f in figures), sum(f.passives for f in figures), sum(f.detractors for f in figures), min_n
    )


def sum_requests(figures):
    total = RequestFigure()
    for fig in figures:
        total.delivered += fig.delivered
        total.answered += fig.answered
        total.seconds += fig.seconds
    return total


def targets_in_force(organization, today: date, unit_id=None) -> dict:
    """metric key → the target in force today for the organization (or the unit), one query."""
    found = {}
    rows = MetricTarget.objects.for_org(organization).filter(starts_on__lte=today, ends_on__gte=today, unit_id=unit_id)
    for target in rows.order_by("-starts_on"):
        found.setdefault(target.metric, target)
    return found
