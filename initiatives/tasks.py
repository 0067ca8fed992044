"""Initiatives' tasks. Sweeps run hourly from beat and pick up what is due in the database (meetings
to plan, agendas to mail, reminders, digests); each mail is claimed in the database before it is sent."""

import logging

from django.utils import timezone

from cxprogram.core.tasks import cx_task
from cxprogram.tenancy.context import system_scope, use_organization
from cxprogram.tenancy.models import Organization

from . import services
from .models import Meeting, RankingRound

logger = logging.getLogger(__name__)


def _for_each_organization(service) -> int:
    """Run `service(organization, now)` for every organization, each in its own transaction, so one
    organization's failure does not hold up the others (it is tried again at the next sweep)."""
    now = timezone.now()
    organizations = list(Organization.objects.order_by("pk"))
    failures = 0
    for organization in organizations:
        try:
            with use_organization(organization):
                service(organization, now)
        except Exception:
            failures += 1
            logger.exception("%s failed for organization %s", service.__name__, organization.pk)
    return failures


@cx_task("initiatives.board_sweep")
def board_sweep() -> int:
    return _for_each_organization(services.board_sweep)


@cx_task("initiatives.ranking_sweep")
def ranking_sweep() -> int:
    return _for_each_organization(services.ranking_sweep)


@cx_task("initiatives.follow_up_sweep")
def follow_up_sweep() -> int:
    return _for_each_organization(services.follow_up_sweep)


@cx_task("initiatives.send_round_invitations")
def send_round_invitations(round_id: int) -> int:
    with system_scope():
        round_ = RankingRound.objects.select_related("organization").filter(pk=round_id).first()
    if round_ is None:
        return 0
    with use_organization(round_.organization):
        return services.mail_round_invitations(round_)


@cx_task("initiatives.send_minutes")
def send_minutes(meeting_id: int) -> int:
    with system_scope():
        meeting = Meeting.objects.select_related("organization").filter(pk=meeting_id).first()
    if meeting is None:
        return 0
    with use_organization(meeting.organization):
        return services.mail_minutes(meeting)
