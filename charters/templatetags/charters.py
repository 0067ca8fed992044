import base64

from django import template

from charters.rendering import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    """{{ text|markdown }}: Markdown rendered to sanitized HTML."""
    return render_markdown(text or "")


@register.filter
def svg_data_uri(svg: str) -> str:
    """A stored (server-built) signature SVG as a data: URI for an <img>."""
    return "data:image/svg+xml;base64," + base64.b64encode((svg or "").encode()).decode()


@register.filter
def with_role(signers, role: str) -> list:
    """The signers of one role ("lead" or "supporter"), in their order."""
    return [s for s in signers if s.role == role]
