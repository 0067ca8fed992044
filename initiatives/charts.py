"""plotly figures, built here and handed to the page as JSON; a static script draws them (strict CSP)."""

import json
import math
from datetime import timedelta

import plotly.graph_objects as go

from cxprogram.core.charts import chart_text

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


# Where a spot's label may go, tried in turn: (plotly textposition, offset of the label box's centre
# from the marker's, in label widths and heights, plus the marker's radius).
LABEL_PLACES = (("top center", 0, 0.5), ("bottom center", 0, -0.5), ("middle right", 0.5, 0), ("middle left", -0.5, 0))
PLOT_PX = (900, 440)  # the matrix's plot area, roughly, for telling which labels would collide


def _spot_labels(points: list[dict], x_range: tuple[float, float]) -> tuple[list[str], list[str]]:
    """A label and a text position per point. Initiatives at the same value and effort share one label
    (one code per line); each label goes above its marker unless it would print over another label or
    marker there, then below, right or left."""
    codes: dict[tuple, list[str]] = {}
    for p in points:
        codes.setdefault((p["effort"], p["value"]), []).append(p["code"])

    def centre(spot):  # in pixels of the plot area
        effort, value = spot
        low, high = x_range
        return (math.log10(effort) - low) / (high - low) * PLOT_PX[0], (value + 0.5) / 21 * PLOT_PX[1]

    def overlaps(a, b):
        return abs(a[0] - b[0]) * 2 < a[2] + b[2] and abs(a[1] - b[1]) * 2 < a[3] + b[3]

    taken = [(*centre(spot), 12, 12) for spot in codes]  # the markers
    places = {}
    for spot in sorted(codes, key=lambda spot: (-spot[1], spot[0])):
        x, y = centre(spot)
        width, height = 7.5 * max(map(len, codes[spot])) + 4, 15 * len(codes[spot])
        boxes = {name: (x + dx * (width + 18), y + dy * (height + 16), width, height) for name, dx, dy in LABEL_PLACES}
        name = next((n for n, box in boxes.items() if not any(overlaps(box, t) for t in taken)), "top center")
        taken.append(boxes[name])
        places[spot] = name
    labels, positions, labelled = [], [], set()
    for p in points:
        spot = (p["effort"], p["value"])
        labels.append("" if spot in labelled else "<br>".join(codes[spot]))
        positions.append(places[spot])
        labelled.add(spot)
    return labels, positions


def matrix_figure(data: dict) -> dict:
    """Value (benefit + business value) against effort, split into the four quadrants. Effort runs on a
    log scale: it spans days to months, and the quick wins would crowd the left edge on a linear one."""
    figure = go.Figure()
    efforts = [p["effort"] for p in data["points"]]
    low, high = math.log10(min(efforts) / 1.5), math.log10(max(efforts) * 1.5)
    labels, positions = _spot_labels(data["points"], (low, high))
    label = {p["id"]: (text, place) for p, text, place in zip(data["points"], labels, positions, strict=True)}
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
                text=[label[p["id"]][0] for p in points],
                textposition=[label[p["id"]][1] for p in points],
                marker={"size": 12, "color": colour},
                customdata=[[p["code"], chart_text(p["title"]), p["formula"]] for p in points],
                # No <b> in plotly text: it becomes a style attribute, which the CSP refuses.
                hovertemplate="%{customdata[0]} %{customdata[1]}<br>value %{y}, effort %{x} person-days"
                "<br>%{customdata[2]}<extra></extra>",
            )
        )
    split = (math.log10(data["effort_split"]) - low) / (high - low)  # where the split falls, in paper units
    line = {"color": "#d9dde3", "dash": "dash"}
    figure.add_shape(type="line", xref="paper", x0=split, x1=split, y0=0, y1=20, line=line)
    figure.add_shape(type="line", xref="paper", x0=0, x1=1, y0=data["value_split"], y1=data["value_split"], line=line)
    for text, x, y in (
        (scoring.QUICK_WIN, 0, 20),
        (scoring.BIG_BET, 1, 20),
        (scoring.FILL_IN, 0, 0),
        (scoring.MONEY_PIT, 1, 0),
    ):
        figure.add_annotation(
            xref="paper",
            x=x,
            y=y,
            text=f"{text}s",
            showarrow=False,
            xanchor="left" if x == 0 else "right",
            yanchor="top" if y else "bottom",
            font={"color": QUADRANT_COLOURS[text], "weight": "bold"},
        )
    figure.update_layout(
        **LAYOUT,
        height=520,
        margin={"l": 60, "r": 20, "t": 20, "b": 60},
        xaxis={
            "title": {"text": "Effort (person-days, log scale)"},
            "type": "log",
            "range": [low, high],
            "tickvals": [v for v in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if low <= math.log10(v) <= high],
            "gridcolor": "#eef0f3",
        },
        yaxis={
            "title": {"text": "Value (customer benefit + business value)"},
            "range": [-0.5, 20.5],
            "gridcolor": "#eef0f3",
        },
        legend={"orientation": "h", "y": -0.15},
    )
    return json.loads(figure.to_json())


def timeline_figure(timeline: dict) -> dict:
    """A bar per dated initiative from its target start to its end (a diamond on the deadline when it has
    no start), with an arrow from each blocker's end to the start of the initiative that waits for it: red
    when that start comes before the blocker's end."""
    bars = timeline["bars"]
    labels = {b["id"]: f"{b['code']} {chart_text(b['title'][:40])}" for b in bars}
    figure = go.Figure()
    for health, colour in HEALTH_COLOURS.items():
        name = health.replace("_", " ").capitalize()
        spans = [b for b in bars if b["health"] == health and not b["milestone"]]
        milestones = [b for b in bars if b["health"] == health and b["milestone"]]
        if spans:
            figure.add_trace(
                go.Bar(
                    base=[b["start"].isoformat() for b in spans],
                    x=[((b["end"] - b["start"]).days + 1) * 86400000 for b in spans],
                    y=[labels[b["id"]] for b in spans],
                    orientation="h",
                    name=name,
                    legendgroup=health,
                    marker={"color": colour},
                    customdata=[[b["status"], b["start"].isoformat(), b["end"].isoformat()] for b in spans],
                    hovertemplate="%{y}<br>%{customdata[0]}: %{customdata[1]} → %{customdata[2]}<extra></extra>",
                )
            )
        if milestones:
            figure.add_trace(
                go.Scatter(
                    x=[b["end"].isoformat() for b in milestones],
                    y=[labels[b["id"]] for b in milestones],
                    mode="markers",
                    name=name,
                    legendgroup=health,
                    showlegend=not spans,
                    marker={"color": colour, "symbol": "diamond", "size": 13, "line": {"color": "#ffffff", "width": 1}},
                    customdata=[[b["status"], b["end"].isoformat()] for b in milestones],
                    hovertemplate="%{y}<br>%{customdata[0]}, due %{customdata[1]}<extra></extra>",
                )
            )
    by_id = {b["id"]: b for b in bars}
    for link in timeline["links"]:
        figure.add_annotation(
            x=by_id[link["to"]]["start"].isoformat(),
            y=labels[link["to"]],
            ax=(by_id[link["from"]]["end"] + timedelta(days=1)).isoformat(),
            ay=labels[link["from"]],
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=3,
            arrowwidth=2 if link["out_of_order"] else 1.5,
            arrowcolor=HEALTH_COLOURS["off_track"] if link["out_of_order"] else "#5a6472",
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
