"""What every plotly chart shares."""

import html


def chart_text(text: str) -> str:
    """User text for a plotly label or hover: plotly reads tags in them (<b>, <a href>, <br>); escaped, a
    name shows as it was typed."""
    return html.escape(text, quote=False)
