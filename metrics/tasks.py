"""Metrics tasks: each loads its rows and calls one service. The periodic ones sweep every organization and
work on each in its own transaction."""

from django.utils import timezone

from cxprogram.core.tasks import cx_task
from cxprogram.tenancy.context import system_scope, use_organization
from cxprogram.tenancy.models import Organization

from . import services
from .models import MetricsSettings, MetricTarget


def _organization(organization_id: int) -> Organization | None:
    return Organization.objects.filter(pk=organization_id).first()


@cx_task("metrics.refresh_rollups")
def refresh_rollups() -> int:
    """Every few minutes, for large organizations: recompute the months whose responses or requests changed
    since the last run, then compute the default dashboard once so that its first viewer does not wait."""
    from .dashboards import warm

    written = 0
    for organization in Organization.objects.all():
        with use_organization(organization):
            if not services.needs_rollups(organization):
                continue
            since = services.months_to_refresh(organization)
            if since is not False:
                written += services.refresh_rollups(organization, since)
                warm(organization)
    return written


@cx_task("metrics.evaluate_targets")
def evaluate_targets() -> int:
    today = timezone.now().date()
    with system_scope():
        organization_ids = set(
            MetricTarget.objects.filter(starts_on__lte=today, ends_on__gte=today).values_list(
                "organization_id", flat=True
            )
        )
    alerts = 0
    for organization in Organization.objects.filter(pk__in=organization_ids):
        with use_organization(organization):
            alerts += len(services.evaluate_targets(organization))
    return alerts


@cx_task("metrics.send_alert")
def send_alert(organization_id: int, alert_id: int) -> bool:
    organization = _organization(organization_id)
    if organization is None:
        return False
    with use_organization(organization):
        return services.send_alert(organization, alert_id)


@cx_task("metrics.send_adoption_invites")
def send_adoption_invites(organization_id: int, survey_id: int) -> int:
    organization = _organization(organization_id)
    if organization is None:
        return 0
    with use_organization(organization):
        return services.send_adoption_invites(organization, survey_id)


@cx_task("metrics.monthly_board_reports")
def monthly_board_reports() -> int:
    """Daily: for organizations that asked for it, last month's board report once the month is over."""
    with system_scope():
        organization_ids = list(
            MetricsSettings.objects.filter(board_report_monthly=True).values_list("organization_id", flat=True)
        )
    created = 0
    for organization in Organization.objects.filter(pk__in=organization_ids):
        with use_organization(organization):
            created += services.create_monthly_board_report(organization) is not None
    return created


@cx_task("metrics.mail_board_report")
def mail_board_report(organization_id: int, report_id: int) -> bool:
    organization = _organization(organization_id)
    if organization is None:
        return False
    with use_organization(organization):
        return services.mail_board_report(organization, report_id)
