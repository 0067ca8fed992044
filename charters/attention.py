"""The home page's "needs your attention" items for charters (two queries at most)."""

from django.urls import reverse

from cxprogram.core import dates

from . import selectors


def charter_items(request) -> list[dict]:
    organization, membership = request.organization, request.membership
    items = []
    for signer in selectors.awaiting_signature(membership)[:5]:
        version = signer.request.version
        items.append(
            {
                "title": f"Charter awaiting your signature: {version.title}",
                "detail": f"Version {version.number}, asked {dates.local(signer.asked_at, 'j M')}. "
                f"The request expires on {dates.local(signer.request.expires_at)}.",
                "url": reverse("charters:sign", args=[organization.slug, signer.pk]),
                "tone": "warning",
            }
        )
    for charter in selectors.unacknowledged(membership)[:5]:
        items.append(
            {
                "title": f"Acknowledge the charter: {charter.title}",
                "detail": "Read it and tell your colleagues you will act on it.",
                "url": reverse("charters:detail", args=[organization.slug, charter.pk]),
                "tone": "info",
            }
        )
    return items
