from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def can(membership, permission: str) -> bool:
    """{% if membership|can:"audit.view" %}: the permissions module, in templates."""
    return bool(membership) and membership.can(permission)


@register.simple_tag(takes_context=True)
def sort_header(context, label: str, field: str):
    """A sortable column header link that keeps the other query parameters: {% sort_header "Name" "name" %}."""
    from django.utils.html import format_html

    request = context["request"]
    current = request.GET.get("sort", "")
    query = request.GET.copy()
    query.pop("page", None)
    descending = current == field
    query["sort"] = f"-{field}" if descending else field
    state = "ascending" if current == field else "descending" if current == f"-{field}" else "none"
    return format_html('<th scope="col" aria-sort="{}"><a href="?{}">{}</a></th>', state, query.urlencode(), label)


@register.filter
def select_options(field) -> str:
    """A select field's <option>s, the current value selected, written in Python: a long list (every
    project manager of a large organization) renders many times faster than through widget templates
    or a template loop."""
    chosen = field.value()
    current = "" if chosen is None else str(chosen)
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, mark_safe(" selected") if str(value) == current else "", label)
            for value, label in field.field.choices
        ),
    )
