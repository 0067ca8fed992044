"""Home-page attention items for feedback: my open and overdue cases, the organization's overdue cases
for those who run feedback, my batches in flight."""

from django.urls import reverse
from django.utils import timezone

from . import selectors
from .models import Batch, FollowUpCase


def feedback_items(request) -> list[dict]:
    organization, membership = request.organization, request.membership
    items = []
    if membership.can("cases.manage"):
        mine = FollowUpCase.objects.for_org(organization).filter(owner=membership).exclude(state="resolved")
        open_count = mine.count()
        overdue = mine.filter(due_at__lt=timezone.now()).count()
        if open_count:
            items.append(
                {
                    "title": f"{open_count} follow-up case{'s' if open_count != 1 else ''} to work"
                    + (f", {overdue} overdue" if overdue else ""),
                    "detail": "Talk to the client, then record the outcome and the root cause.",
                    "url": reverse("feedback:cases", args=[organization.slug]) + "?mine=1",
                    "tone": "danger" if overdue else "warning",
                    "count": open_count,
                }
            )
    if membership.can("feedback.manage"):
        # The CoE answers for every unhappy client, not only its own cases.
        others_overdue = selectors.cases_list(organization, overdue=True).exclude(owner=membership).count()
        if others_overdue:
            items.append(
                {
                    "title": f"{others_overdue} follow-up case{'s' if others_overdue != 1 else ''} overdue "
                    "across the organization",
                    "detail": "Ask their owners where they stand, or take them over.",
                    "url": reverse("feedback:cases", args=[organization.slug]) + "?overdue=1",
                    "tone": "danger",
                    "count": others_overdue,
                }
            )
    if membership.can("feedback.send"):
        in_flight = (
            Batch.objects.for_org(organization)
            .filter(sender=membership, state__in=[Batch.State.DRAFT, Batch.State.SCHEDULED, Batch.State.SENDING])
            .count()
        )
        if in_flight:
            items.append(
                {
                    "title": f"{in_flight} feedback batch{'es' if in_flight != 1 else ''} not yet sent or sending",
                    "detail": "Check the drafts, then send or schedule them.",
                    "url": reverse("feedback:index", args=[organization.slug]),
                    "count": in_flight,
                }
            )
    return items
