"""Hypothesis strategies shared by the CSV importers' property tests (feedback and metrics)."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Every example writes to the database: few of them, no deadline on a shared machine.
with_db = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Cells as people type them, trimmed (the importers trim): no NUL (a file with one is refused as binary) and
# no lone surrogates (not UTF-8).
typed = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30).map(str.strip)
tricky = st.sampled_from(
    [
        '=cmd|" /C calc"!A0',
        '=HYPERLINK("http://evil.example","x")',
        "+SUM(A1:A9)",
        "@import",
        "<script>alert('x')</script>",
        'He said "fine", then left',
        "first line\nsecond line",
        "one\r\ntwo, three",
        "Zoë Ærøskøbing 日本語 🏗️",
        "semi; colon\tand tab",
    ]
)
text_cell = st.one_of(typed, tricky)
named = text_cell.filter(bool)
