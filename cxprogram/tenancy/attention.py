"""What needs this person's attention on the organization home page.

Each app registers a provider: a function (request) -> list of items, where an item is a dict with
`title`, `detail`, `url`, and optionally `tone` ("info", "warning", "danger") and `count`.
Providers run in registration order; each must use a bounded number of queries."""

from django.urls import reverse

_providers = []


def register(provider):
    _providers.append(provider)
    return provider


def attention_items(request) -> list[dict]:
    items = []
    for provider in _providers:
        items.extend(provider(request))
    return items


@register
def platform_items(request) -> list[dict]:
    from .decorators import has_totp
    from .models import Invitation, Membership

    organization, membership = request.organization, request.membership
    items = []
    if membership.can("members.manage"):
        if Membership.objects.for_org(organization).count() == 1:
            items.append(
                {
                    "title": "Invite your colleagues",
                    "detail": "Executives sign the charter, project managers ask clients for feedback, "
                    "and the CX Center of Excellence follows up.",
                    "url": reverse("org_members", args=[organization.slug]),
                    "tone": "info",
                }
            )
        pending = Invitation.objects.for_org(organization).pending().count()
        if pending:
            items.append(
                {
                    "title": f"{pending} invitation{'s' if pending != 1 else ''} not yet accepted",
                    "detail": "Resend or revoke them from the members page.",
                    "url": reverse("org_members", args=[organization.slug]),
                    "count": pending,
                }
            )
    if membership.can("org.manage") and not has_totp(request.user):
        items.append(
            {
                "title": "Protect your account with two-factor authentication",
                "detail": "Admins can change who has access to everything here.",
                "url": reverse("mfa_activate_totp"),
                "tone": "warning",
            }
        )
    return items
