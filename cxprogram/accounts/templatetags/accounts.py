from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def my_memberships(context):
    """The signed-in person's active memberships, for the organization switcher (one query)."""
    from cxprogram.tenancy.selectors import memberships_of

    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return memberships_of(request.user)
