"""The value-versus-effort matrix as the page draws it: every initiative labelled once and legibly, the
effort on a log scale, and no plotly markup that the strict CSP refuses."""

import json
import math

from initiatives import charts, scoring


def point(pk: int, effort: float, value: int, quadrant: str = scoring.QUICK_WIN) -> dict:
    return {
        "id": pk,
        "code": f"CX-{pk:03}",
        "title": f"Idea {pk}",
        "value": value,
        "effort": effort,
        "formula": "(benefit 5 + business value 5) × confidence 70% ÷ effort 2 person-days = 3.50",
        "quadrant": quadrant,
    }


def matrix(points: list[dict], split: float = 8.0) -> dict:
    return charts.matrix_figure({"points": points, "effort_split": split, "value_split": scoring.VALUE_SPLIT})


def labels(figure: dict) -> dict[str, str]:
    """Each label's text, with its position, keyed by the initiative codes it shows."""
    shown = {}
    for trace in figure["data"]:
        for text, place in zip(trace["text"], trace["textposition"], strict=True):
            if text:
                shown[text] = place
    return shown


def test_initiatives_at_the_same_spot_share_one_label_and_each_code_shows_once():
    figure = matrix([point(1, 4, 15), point(2, 4, 15), point(3, 30, 16, scoring.BIG_BET)])

    shown = labels(figure)
    assert sorted(shown) == ["CX-001<br>CX-002", "CX-003"]
    assert [trace["customdata"][i][0] for trace in figure["data"] for i in range(len(trace["x"]))] == [
        "CX-001",
        "CX-002",
        "CX-003",
    ]


def test_a_label_that_would_print_over_the_marker_above_goes_below_its_own():
    shown = labels(matrix([point(1, 5, 15), point(2, 5, 14), point(3, 60, 11, scoring.BIG_BET)]))

    assert shown == {"CX-001": "top center", "CX-002": "bottom center", "CX-003": "top center"}


def test_effort_runs_on_a_log_scale_that_holds_every_initiative_and_the_split():
    figure = matrix([point(1, 0.5, 12), point(2, 3, 11), point(3, 90, 17, scoring.BIG_BET)], split=3)

    axis = figure["layout"]["xaxis"]
    assert axis["type"] == "log"
    low, high = axis["range"]
    assert low < math.log10(0.5) and math.log10(90) < high
    vertical = next(s for s in figure["layout"]["shapes"] if s["x0"] == s["x1"])
    assert vertical["x0"] == (math.log10(3) - low) / (high - low)  # the split line, in the plot's width
    assert all(low <= math.log10(v) <= high for v in axis["tickvals"])


def test_no_text_uses_bold_markup_which_the_content_policy_would_refuse():
    figure = matrix([point(1, 2, 11), point(2, 20, 4, scoring.MONEY_PIT), point(3, 1, 3, scoring.FILL_IN)])

    assert "<b>" not in json.dumps(figure)
    quadrant_names = [a["text"] for a in figure["layout"]["annotations"]]
    assert quadrant_names == ["Quick wins", "Big bets", "Fill-ins", "Money pits"]
    assert {a["font"]["weight"] for a in figure["layout"]["annotations"]} == {"bold"}
