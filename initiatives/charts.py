"""plotly figures, built here and handed to the page as JSON; a static script draws them (strict CSP)."""

import json
from datetime import date, timedelta

import plotly.graph_objects as go

from . import scoring

QUADRANT_COLOURS = {
    scoring.QUICK_WIN: "#16703a",
    scoring.BIG_BET: "#1d4ed8",
    scoring.FILL_IN: "#8a8f98",
    scoring.MONEY_PIT: "#b42318",
}
HEALTH_COLOURS = {"on_track": "#16703a", "at_risk": "#d08700", "off_track": "#b42318"}
LAYOUT = {
    "font": {"family": "Inter, system-ui, sans-serif", "size": 13},
    "plot_bgcolor": "#ffffff",
    "paper_bgcolor": "#ffffff",
}


def matrix_figure(data: dict) -> dict:
    """Value (benefit + business value) against effort, split into the four quadrants."""
    figure = go.Figure()
    for quadrant, colour in QUADRANT_COLOURS.items():
        points = [p for p in data["points"] if p["quadrant"] == quadrant]
        if not points:
            continue
        figure.add_trace(
            go.Scatter(
                x=[p["effort"] for p in points],
                y=[p["value"] for p in points],
                mode="markers+text",
                name=quadrant,
                text=[p["code"] for p in points],
                textposition="top center",
                marker={"size": 12, "color": colour},
                customdata=[[p["title"], p["formula"]] for p in points],
                hovertemplate="<b>%{text}</b> %{customdata[0]}<br>value %{y}, effort %{x} person-days"
                "<br>%{customdata[1]}<extra></extra>",
            )
        )
    split = data["effort_split"]
    top = max(p["effort"] for p in data["points"]) * 1.1 or 1
    figure.add_shape(type="line", x0=split, x1=split, y0=0, y1=20, line={"color": "#d9dde3", "dash": "dash"})
    figure.add_shape(
        type="line",
        x0=0,
        x1=top,
        y0=data["value_split"],
        y1=data["value_split"],
        line={"color": "#d9dde3", "dash": "dash"},
    )
    for text, x, y in (
        (scoring.QUICK_WIN, 0, 20),
        (scoring.BIG_BET, top, 20),
        (scoring.FILL_IN, 0, 0),
        (scoring.MONEY_PIT, top, 0),
    ):
        figure.add_annotation(
            x=x,
            y=y,
            text=f"<b>{text}s</b>",
            showarrow=False,
            xanchor="left" if x == 0 else "right",
            yanchor="top" if y else "bottom",
            font={"color": QUADRANT_COLOURS[text]},
        )
    figure.update_layout(
        **LAYOUT,
        height=520,
        margin={"l": 60, "r": 20, "t": 20, "b": 60},
        xaxis={"title": {"text": "Effort (person-days)"}, "range": [0, top], "gridcolor": "#eef0f3"},
        yaxis={
            "title": {"text": "Value (customer benefit + business value)"},
            "range": [-0.5, 20.5],
            "gridcolor": "#eef0f3",
        },
        legend={"orientation": "h", "y": -0.15},
    )
    return json.loads(figure.to_json())


def timeline_figure(timeline: dict) -> dict:
    """A bar per dated initiative from its target start to its end, with an arrow from each blocker's
    end to the start of the initiative that waits for it."""
    bars = timeline["bars"]
    figure = go.Figure()
    for health, colour in HEALTH_COLOURS.items():
        group = [b for b in bars if b["health"] == health]
        if not group:
            continue
        starts = [date.fromisoformat(b["start"]) for b in group]
        ends = [date.fromisoformat(b["end"]) + timedelta(days=1) for b in group]
        figure.add_trace(
            go.Bar(
                base=[s.isoformat() for s in starts],
                x=[(e - s).days * 86400000 for s, e in zip(starts, ends, strict=True)],
                y=[f"{b['code']} {b['title'][:40]}" for b in group],
                orientation="h",
                name=health.replace("_", " ").capitalize(),
                marker={"color": colour},
                customdata=[[b["status"], b["start"], b["end"]] for b in group],
                hovertemplate="%{y}<br>%{customdata[0]}: %{customdata[1]} → %{customdata[2]}<extra></extra>",
            )
        )
    labels = {b["id"]: f"{b['code']} {b['title'][:40]}" for b in bars}
    ends = {b["id"]: b["end"] for b in bars}
    starts = {b["id"]: b["start"] for b in bars}
    for link in timeline["links"]:
        figure.add_annotation(
            x=starts[link["to"]],
            y=labels[link["to"]],
            ax=ends[link["from"]],
            ay=labels[link["from"]],
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=3,
            arrowwidth=1.5,
            arrowcolor="#5a6472",
        )
    figure.update_layout(
        **LAYOUT,
        barmode="overlay",
        height=max(260, 36 * len(bars) + 120),
        margin={"l": 20, "r": 20, "t": 20, "b": 40},
        xaxis={"type": "date", "gridcolor": "#eef0f3"},
        yaxis={
            "autorange": "reversed",
            "categoryorder": "array",
            "categoryarray": [labels[b["id"]] for b in bars],
            "automargin": True,
        },
        legend={"orientation": "h", "y": -0.1},
    )
    return json.loads(figure.to_json())
