"""The minutes of a change board meeting: one context for the page, the PDF and the mail."""

from django.template.loader import render_to_string

from .models import Meeting
from .selectors import committed


def minutes_context(meeting: Meeting) -> dict:
    from django.utils import timezone

    organization = meeting.organization
    decisions = list(
        meeting.decisions.select_related("initiative__owner__user", "owner__user", "decided_by__user").order_by(
            "decided_at", "pk"
        )
    )
    decided = {d.initiative_id for d in decisions}
    undecided = [
        item for item in meeting.agenda.select_related("initiative__owner__user") if item.initiative_id not in decided
    ]
    local_day = timezone.localtime(meeting.scheduled_for, organization.tz).date()
    return {
        "organization": organization,
        "meeting": meeting,
        "local_time": timezone.localtime(meeting.scheduled_for, organization.tz),
        "present": [a.membership for a in meeting.attendance.select_related("membership__user")],
        "decisions": decisions,
        "undecided": undecided,
        "usage": committed(organization, local_day),
    }


def minutes_pdf(meeting: Meeting, context: dict | None = None) -> bytes:
    from weasyprint import HTML

    html = render_to_string("initiatives/minutes_pdf.html", context or minutes_context(meeting))
    return HTML(string=html).write_pdf()
