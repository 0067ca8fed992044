"""Feedback tasks: each loads its rows and calls one service. Periodic tasks pick up work that is due in
the database (scheduled batches, reminders, stuck requests, overdue cases)."""

from datetime import timedelta

from cxprogram.core.tasks import cx_task
from cxprogram.tenancy.context import system_scope, use_organization
from cxprogram.tenancy.models import Organization

from . import services
from .models import Batch, FollowUpCase, Response


def _organization(organization_id: int) -> Organization | None:
    return Organization.objects.filter(pk=organization_id).first()


@cx_task("feedback.dispatch_batch")
def dispatch_batch(organization_id: int, batch_id: int) -> int:
    organization = _organization(organization_id)
    return services.dispatch_batch(organization, batch_id) if organization else 0


@cx_task("feedback.send_due_batches")
def send_due_batches() -> int:
    """Start the scheduled batches whose time has come."""
    started = 0
    with system_scope():
        due = list(services.due_scheduled_batches().select_related("organization").values_list("pk", "organization_id"))
    for batch_id, organization_id in due:
        organization = _organization(organization_id)
        with use_organization(organization):
            batch = Batch.objects.for_org(organization).select_related("organization").get(pk=batch_id)
            started += services.start_batch(batch=batch, from_states=[Batch.State.SCHEDULED])
    return started


@cx_task("feedback.send_due_reminders")
def send_due_reminders() -> int:
    with system_scope():
        due = list(services.due_reminders()[:5000])
    for organization_id, request_id in due:
        send_reminder.delay(organization_id, request_id)
    return len(due)


@cx_task("feedback.send_reminder")
def send_reminder(organization_id: int, request_id: int) -> bool:
    organization = _organization(organization_id)
    if organization is None:
        return False
    return services.send_reminder(organization, request_id)


@cx_task("feedback.requeue_stuck_requests")
def requeue_stuck_requests(older_than_seconds: int | None = None) -> int:
    older_than = timedelta(seconds=older_than_seconds) if older_than_seconds is not None else services.STUCK_AFTER
    with system_scope():
        return len(services.requeue_stuck_requests(older_than))


@cx_task("feedback.send_case_alert")
def send_case_alert(organization_id: int, case_id: int) -> bool:
    organization = _organization(organization_id)
    if organization is None:
        return False
    with use_organization(organization):
        case = (
            FollowUpCase.objects.for_org(organization)
            .select_related("organization", "owner__user", "client", "project", "response__template_version")
            .filter(pk=case_id)
            .first()
        )
        return bool(case) and services.mail_case_alert(case)


@cx_task("feedback.remind_overdue_cases")
def remind_overdue_cases() -> int:
    with system_scope():
        due = list(services.overdue_cases().values_list("organization_id", "pk"))
    sent = 0
    for organization_id, case_id in due:
        with use_organization(_organization(organization_id)):
            sent += services.remind_overdue_case(case_id)
    return sent


@cx_task("feedback.send_thank_you")
def send_thank_you(organization_id: int, response_id: int) -> bool:
    organization = _organization(organization_id)
    if organization is None:
        return False
    with use_organization(organization):
        response = (
            Response.objects.for_org(organization)
            .select_related("organization", "contact", "project", "thank_you_approved_by__user")
            .filter(pk=response_id, thank_you_approved_by__isnull=False)
            .first()
        )
        return bool(response) and services.mail_thank_you(response)


@cx_task("feedback.run_import")
def run_import_task(organization_id: int, job_id: int) -> str:
    from . import imports
    from .models import ImportJob

    organization = _organization(organization_id)
    if organization is None:
        return "gone"
    with use_organization(organization):
        job = ImportJob.objects.for_org(organization).filter(pk=job_id, state=ImportJob.State.IMPORTING).first()
        return imports.run_import(job).state if job else "not importing"
