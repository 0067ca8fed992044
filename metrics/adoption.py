"""The CX adoption assessment: a short maturity questionnaire staff answer each quarter. One statement per
dimension, answered on a five-point agreement scale; a dimension's score is its average mapped to 0-100
((average − 1) / 4 × 100), and the overall score is the average of the dimensions."""

DIMENSIONS = [
    ("strategy", "Strategy", "I know what our CX program is trying to achieve and why it matters to the firm."),
    ("listening", "Listening", "We ask our clients for feedback on every active project, not only when asked."),
    ("closing_loop", "Closing the loop", "When a client tells us something is wrong, someone follows up within days."),
    ("insight", "Insight", "I hear what clients tell us soon enough to change how I work."),
    ("behaviors", "Behaviors", "I see colleagues act on the charter's desired behaviors in their everyday work."),
    ("measurement", "Measurement", "Leadership reviews CX figures regularly and acts on what they show."),
]
DIMENSION_CHOICES = [(key, label) for key, label, _ in DIMENSIONS]
SCALE = [
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Neither agree nor disagree"),
    (4, "Agree"),
    (5, "Strongly agree"),
]


def to_score(average: float | None) -> float | None:
    """A 1-5 average as a 0-100 maturity score."""
    return None if average is None else (float(average) - 1) / 4 * 100
