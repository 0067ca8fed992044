"""The home page's "needs your attention" items for initiatives (at most four queries)."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from cxprogram.core import dates

from .models import ActionItem, Ballot, Initiative, RankingRound, Stakeholder, Status


def initiative_items(request) -> list[dict]:
    organization, membership = request.organization, request.membership
    slug = organization.slug
    items = []
    voted = Ballot.objects.for_org(organization).filter(membership=membership).values("round_id")
    awaiting = (
        RankingRound.objects.for_org(organization)
        .filter(state=RankingRound.State.OPEN, closes_at__gt=timezone.now())
        .filter(pk__in=Stakeholder.objects.for_org(organization).filter(membership=membership).values("round_id"))
        .exclude(pk__in=voted)
        .order_by("closes_at")[:3]
    )
    for round_ in awaiting:
        closes = dates.local(round_.closes_at, r"j M \a\t H:i", organization.tz)
        items.append(
            {
                "title": f"Rank the initiatives of “{round_.title}”",
                "detail": f"Your ranking sets the priorities. The round closes on {closes}.",
                "url": reverse("initiatives:round", args=[slug, round_.pk]),
                "tone": "warning",
            }
        )
    today = timezone.localdate(timezone=organization.tz)
    counts = (
        ActionItem.objects.for_org(organization)
        .filter(owner=membership)
        .exclude(status=ActionItem.State.DONE)
        .aggregate(overdue=Count("pk", filter=Q(due_on__lt=today)))
    )
    if counts["overdue"]:
        items.append(
            {
                "title": f"{counts['overdue']} overdue action item{'s' if counts['overdue'] != 1 else ''}",
                "detail": "Mark them done or agree a new date with the initiative's owner.",
                "url": reverse("initiatives:actions", args=[slug]),
                "tone": "danger",
                "count": counts["overdue"],
            }
        )
    if membership.can("initiatives.manage"):
        waiting = Initiative.objects.for_org(organization).filter(status=Status.SUBMITTED).count()
        if waiting:
            items.append(
                {
                    "title": f"{waiting} idea{'s' if waiting != 1 else ''} to qualify",
                    "detail": "Qualify, merge or decline them so the people who submitted them hear back.",
                    "url": reverse("initiatives:index", args=[slug]) + "?status=submitted",
                    "count": waiting,
                }
            )
    return items
