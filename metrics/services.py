"""Operations that change metrics data. Each runs in one transaction, records itself in the audit log, and
sends mail only after commit, through tasks that claim their row first (so nothing is mailed twice)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone

from cxprogram.audit.services import record
from cxprogram.core.mail import absolute_url, send_templated_mail
from cxprogram.core.tasks import enqueue
from cxprogram.tenancy.models import Membership, Organization
from cxprogram.tenancy.permissions import Role
from feedback.models import Client, Response, SurveyRequest

from . import adoption, catalog
from .models import (
    AdoptionAnswer,
    AdoptionResponse,
    AdoptionSurvey,
    BoardReport,
    MetricAlert,
    MetricsSettings,
    MetricTarget,
    MonthlyRollup,
    ProposalRecord,
    RevenueRecord,
)
from .selectors import CATEGORY_Q, Metrics, Period, Slice, add_months, month_start, quarter_start, request_aggregates

# --- Settings ---------------------------------------------------------------------------------------------

SETTINGS_FIELDS = ("min_n", "gross_margin", "account_convention", "currency", "board_report_monthly")


def metrics_settings(organization: Organization) -> MetricsSettings:
    """The organization's settings row, created with the defaults on first use."""
    found = MetricsSettings.objects.for_org(organization).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return MetricsSettings.objects.create(organization=organization)
    except IntegrityError:
        return MetricsSettings.objects.for_org(organization).get()


@transaction.atomic
def update_settings(*, organization: Organization, actor, request=None, **values) -> MetricsSettings:
    settings = metrics_settings(organization)
    changed = {k: str(v) for k, v in values.items() if k in SETTINGS_FIELDS and getattr(settings, k) != v}
    for name in changed:
        setattr(settings, name, values[name])
    settings.full_clean()
    settings.save()
    record(organization=organization, actor=actor, verb="metrics.settings_changed", payload=changed, request=request)
    return settings


# --- Rollups ------------------------------------------------------------------------------------------


def _local_midnight(day: date, tz) -> datetime:
    return datetime.combine(day, time.min, tz)


def refresh_rollups(organization: Organization, since: date | None = None) -> int:
    """Recompute MonthlyRollup for the months from `since` (default: from the first response) up to the
    current month included, and move the boundary past it: the dashboards then read these counts, as of now
    (the page says so). Returns the number of rollup rows written.

    Incremental runs pass the earliest month touched since the last refresh (see `months_to_refresh`)."""
    tz = organization.tz
    current = add_months(month_start(timezone.localdate(timezone=tz)), 1)
    with transaction.atomic():
        settings = metrics_settings(organization)
        settings = MetricsSettings.objects.select_for_update().get(pk=settings.pk)
        start = month_start(since) if since else date(1970, 1, 1)
        if settings.rollup_through and settings.rollup_through < current:
            start = min(start, add_months(settings.rollup_through, -1))  # the month that closed since, too
        since_dt, until_dt = _local_midnight(start, tz), _local_midnight(current, tz)
        responses = (
            Response.objects.for_org(organization)
            .filter(nps_score__isnull=False, submitted_at__gte=since_dt, submitted_at__lt=until_dt)
            .annotate(m=TruncMonth("submitted_at", tzinfo=tz))
            .values("m", "unit_id", "project_manager_id", "template_version__template_id", "contact_kind")
            .annotate(
                p=Count("pk", filter=CATEGORY_Q["promoter"]),
                pa=Count("pk", filter=CATEGORY_Q["passive"]),
                d=Count("pk", filter=CATEGORY_Q["detractor"]),
            )
            .order_by()
        )
        requests = (
            SurveyRequest.objects.for_org(organization)
            .filter(state=SurveyRequest.State.SENT, sent_at__gte=since_dt, sent_at__lt=until_dt)
            .annotate(m=TruncMonth("sent_at", tzinfo=tz))
            .values(
                "m",
                "project__unit_id",
                "project__project_manager_id",
                "batch__template_version__template_id",
                "contact__kind",
            )
            .annotate(**request_aggregates())
            .order_by()
        )
        rows: dict = {}

        def row(month, unit, pm, template, kind) -> MonthlyRollup:
            month = month.date() if isinstance(month, datetime) else month
            key = (month, unit, pm, template, kind)
            if key not in rows:
                rows[key] = MonthlyRollup(
                    organization=organization,
                    month=month,
                    unit_id=unit,
                    project_manager_id=pm,
                    template_id=template,
                    contact_kind=kind or "",
                )
            return rows[key]

        for r in responses:
            target = row(
                r["m"], r["unit_id"], r["project_manager_id"], r["template_version__template_id"], r["contact_kind"]
            )
            target.promoters, target.passives, target.detractors = r["p"], r["pa"], r["d"]
        for r in requests:
            target = row(
                r["m"],
                r["project__unit_id"],
                r["project__project_manager_id"],
                r["batch__template_version__template_id"],
                r["contact__kind"],
            )
            target.delivered, target.answered = r["delivered"], r["answered"]
            target.seconds_to_answer = int(r["waited"].total_seconds()) if r["waited"] else 0
        MonthlyRollup.objects.for_org(organization).filter(month__gte=start).delete()
        MonthlyRollup.objects.bulk_create(rows.values(), batch_size=2000)
        settings.rollup_through = current
        settings.rollups_refreshed_at = timezone.now()
        settings.save(update_fields=["rollup_through", "rollups_refreshed_at"])
    return len(rows)


def months_to_refresh(organization: Organization) -> date | None | bool:
    """The earliest month whose counts changed since the last refresh: False when nothing changed (and
    the boundary is current), None when everything must be computed (never refreshed)."""
    settings = metrics_settings(organization)
    if settings.rollups_refreshed_at is None:
        return None
    tz = organization.tz
    # A small overlap covers rows committed by transactions that started before the last refresh.
    changed_after = settings.rollups_refreshed_at - timedelta(minutes=5)
    first_response = (
        Response.objects.for_org(organization)
        .filter(updated_at__gte=changed_after)
        .aggregate(m=Min(TruncMonth("submitted_at", tzinfo=tz)))["m"]
    )
    first_request = (
        SurveyRequest.objects.for_org(organization)
        .filter(Q(sent_at__gte=changed_after) | Q(responded_at__gte=changed_after))
        .aggregate(m=Min(TruncMonth("sent_at", tzinfo=tz)))["m"]
    )
    months = [m.date() if isinstance(m, datetime) else m for m in (first_response, first_request) if m]
    current = month_start(timezone.localdate(timezone=tz))
    if not months:
        return False if settings.rollup_through == add_months(current, 1) else current
    return min(months)


# Below this many responses every figure is computed live, in a few milliseconds: rollups (and their
# "as of" delay) are only worth it for large organizations.
ROLLUP_MIN_RESPONSES = 20_000


def needs_rollups(organization: Organization) -> bool:
    if metrics_settings(organization).rollup_through is not None:
        return True
    return (
        Response.objects.for_org(organization)
        .filter(nps_score__isnull=False)[ROLLUP_MIN_RESPONSES - 1 : ROLLUP_MIN_RESPONSES]
        .exists()
    )


# --- Revenue and proposals ---------------------------------------------------------------------------


def _client_of(organization, client) -> Client:
    if client is None or client.organization_id != organization.pk:
        raise ValidationError({"client": "Choose a client of this organization."})
    return client


@transaction.atomic
def save_revenue(
    *, organization, actor, client: Client, month: date, amount: Decimal, source: str = "manual", request=None
) -> RevenueRecord:
    """Set a client's revenue for a month (replacing the figure entered before)."""
    _client_of(organization, client)
    if amount is None or Decimal(amount) < 0:
        raise ValidationError({"amount": "Enter an amount of zero or more."})
    row, created = RevenueRecord.objects.update_or_create(
        organization=organization,
        client=client,
        month=month_start(month),
        defaults={"amount": Decimal(amount), "source": source, "updated_at": timezone.now()},
    )
    record(
        organization=organization,
        actor=actor,
        verb="metrics.revenue_saved",
        target=row,
        payload={"client": client.name, "month": f"{row.month:%Y-%m}", "amount": str(row.amount)},
        request=request,
    )
    return row


@transaction.atomic
def delete_revenue(*, row: RevenueRecord, actor, request=None) -> None:
    record(organization=row.organization, actor=actor, verb="metrics.revenue_deleted", target=row, request=request)
    row.delete()


PROPOSAL_FIELDS = ("reference", "title", "client", "prospect", "unit", "value", "submitted_on", "outcome", "decided_on")


def _clean_proposal(organization, values: dict) -> dict:
    errors = {}
    if values.get("client") is not None and values["client"].organization_id != organization.pk:
        errors["client"] = "Choose a client of this organization."
    if values.get("unit") is not None and values["unit"].organization_id != organization.pk:
        errors["unit"] = "Choose a unit of this organization."
    outcome = values.get("outcome") or ProposalRecord.Outcome.PENDING
    decided = values.get("decided_on")
    if outcome == ProposalRecord.Outcome.PENDING and decided:
        errors["decided_on"] = "A pending proposal has no decision date yet."
    if outcome != ProposalRecord.Outcome.PENDING:
        if not decided:
            errors["decided_on"] = "Give the date the proposal was won or lost."
        elif values.get("submitted_on") and decided < values["submitted_on"]:
            errors["decided_on"] = "The decision cannot come before the submission."
    if values.get("value") is not None and values["value"] < 0:
        errors["value"] = "Enter a value of zero or more."
    if errors:
        raise ValidationError(errors)
    return {**values, "outcome": outcome}


@transaction.atomic
def save_proposal(
    *, organization, actor, proposal: ProposalRecord | None = None, source: str = "manual", request=None, **values
) -> ProposalRecord:
    values = _clean_proposal(organization, {k: v for k, v in values.items() if k in PROPOSAL_FIELDS})
    proposal = proposal or ProposalRecord(organization=organization, source=source)
    for name, value in values.items():
        setattr(proposal, name, value)
    proposal.updated_at = timezone.now()
    duplicate = ProposalRecord.objects.for_org(organization).filter(reference=proposal.reference)
    if proposal.pk:
        duplicate = duplicate.exclude(pk=proposal.pk)
    if duplicate.exists():
        raise ValidationError({"reference": "Another proposal has this reference."})
    proposal.save()
    record(
        organization=organization,
        actor=actor,
        verb="metrics.proposal_saved",
        target=proposal,
        payload={"outcome": proposal.outcome},
        request=request,
    )
    return proposal


@transaction.atomic
def delete_proposal(*, proposal: ProposalRecord, actor, request=None) -> None:
    record(
        organization=proposal.organization,
        actor=actor,
        verb="metrics.proposal_deleted",
        target=proposal,
        request=request,
    )
    proposal.delete()


# --- Targets and alerts -----------------------------------------------------------------------------


def _clean_target(organization, values: dict) -> None:
    errors = {}
    metric = catalog.BY_KEY.get(values.get("metric"))
    if metric is None:
        errors["metric"] = "Choose a metric."
    target, warning = values.get("target"), values.get("warning")
    if metric and target is not None and warning is not None:
        if metric.higher_is_better and warning > target:
            errors["warning"] = (
                "For this metric higher is better: the warning threshold must be at or below the target."
            )
        if not metric.higher_is_better and warning < target:
            errors["warning"] = "For this metric lower is better: the warning threshold must be at or above the target."
    if values.get("starts_on") and values.get("ends_on") and values["ends_on"] < values["starts_on"]:
        errors["ends_on"] = "The end comes before the start."
    for name in ("unit", "owner"):
        if values.get(name) is not None and values[name].organization_id != organization.pk:
            errors[name] = "Choose one of this organization."
    if errors:
        raise ValidationError(errors)


TARGET_FIELDS = ("metric", "unit", "target", "warning", "starts_on", "ends_on", "owner", "note")


@transaction.atomic
def save_target(*, organization, actor, instance: MetricTarget | None = None, request=None, **values) -> MetricTarget:
    """Create or change a target (`instance`); its status is judged afresh at the next evaluation."""
    values = {k: v for k, v in values.items() if k in TARGET_FIELDS}
    current = {name: getattr(instance, name) for name in TARGET_FIELDS} if instance else {}
    _clean_target(organization, {**current, **values})
    target = instance or MetricTarget(organization=organization)
    for name, value in values.items():
        setattr(target, name, value)
    target.status, target.last_value, target.evaluated_at = MetricTarget.Status.UNKNOWN, None, None
    target.save()
    record(
        organization=organization,
        actor=actor,
        verb="metrics.target_saved",
        target=target,
        payload={"metric": target.metric, "target": str(target.target), "warning": str(target.warning)},
        request=request,
    )
    return target


@transaction.atomic
def delete_target(*, target: MetricTarget, actor, request=None) -> None:
    record(organization=target.organization, actor=actor, verb="metrics.target_deleted", target=target, request=request)
    target.delete()


def target_period(target: MetricTarget, today: date) -> Period | None:
    """From the target's start to today (or its end), whole days; None before it starts."""
    if today < target.starts_on:
        return None
    return Period(target.starts_on, min(today, target.ends_on) + timedelta(days=1))


def evaluate_targets(organization: Organization) -> list[MetricAlert]:
    """Measure every target in force and store its status. A target whose status worsens (on target →
    near → off) gets ONE alert: the status change is a conditional update from the status read, so two
    evaluations running at once cannot both alert; the mail goes out after commit."""
    metrics = Metrics(organization)
    today = metrics.today()
    alerts = []
    targets = MetricTarget.objects.for_org(organization).filter(starts_on__lte=today, ends_on__gte=today)
    for target in targets.select_related("unit"):
        period = target_period(target, today)
        value = metrics.value(target.metric, period, Slice(unit_id=target.unit_id))
        status = target.status_for(value)
        with transaction.atomic():
            changed = MetricTarget.objects.filter(pk=target.pk, status=target.status).update(
                status=status,
                last_value=None if value is None else round(Decimal(str(value)), 2),
                evaluated_at=timezone.now(),
            )
            worse = MetricTarget.SEVERITY[status] > MetricTarget.SEVERITY.get(target.status, 0)
            if changed and worse and value is not None:
                alert = MetricAlert.objects.create(
                    organization=organization,
                    target=target,
                    status=status,
                    previous_status=target.status,
                    value=round(Decimal(str(value)), 2),
                )
                record(
                    organization=organization,
                    actor=None,
                    verb="metrics.target_crossed",
                    target=target,
                    payload={"status": status, "value": str(alert.value)},
                )
                from . import tasks

                enqueue(tasks.send_alert, organization.pk, alert.pk)
                alerts.append(alert)
    return alerts


def alert_recipients(alert: MetricAlert) -> list[str]:
    coe = Membership.objects.for_org(alert.organization).active().with_role(Role.CX_COE)
    emails = list(coe.values_list("user__email", flat=True))
    owner = alert.target.owner
    if owner and owner.is_active and owner.user.email not in emails:
        emails.append(owner.user.email)
    return emails


def send_alert(organization: Organization, alert_id: int) -> bool:
    """Mail an alert once: claim it by setting sent_at where it is still empty, then send."""
    alert = (
        MetricAlert.objects.for_org(organization).select_related("target__owner__user", "target__unit").get(pk=alert_id)
    )
    recipients = alert_recipients(alert)
    if not MetricAlert.objects.filter(pk=alert.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), recipients=recipients
    ):
        return False
    if recipients:
        target = alert.target
        send_templated_mail(
            to=recipients,
            template="metrics/email/alert",
            context={
                "organization": organization,
                "alert": alert,
                "target": target,
                "metric": target.definition,
                "value": target.definition.format(alert.value),
                "goal": target.definition.format(target.target),
                "warning": target.definition.format(target.warning),
                "url": absolute_url(reverse("metrics:targets", args=[organization.slug])),
                "dashboard_url": absolute_url(reverse("metrics:index", args=[organization.slug])),
            },
        )
    return True


# --- Adoption assessment ---------------------------------------------------------------------------


@transaction.atomic
def open_adoption_survey(*, organization, actor, quarter: date, closes_on: date, request=None) -> AdoptionSurvey:
    """Open this quarter's assessment for every active member and mail them (after commit)."""
    quarter = quarter_start(quarter)
    if closes_on < quarter:
        raise ValidationError({"closes_on": "The assessment must close after its quarter starts."})
    if AdoptionSurvey.objects.for_org(organization).filter(quarter=quarter).exists():
        raise ValidationError({"quarter": "This quarter already has an assessment."})
    survey = AdoptionSurvey.objects.create(
        organization=organization, quarter=quarter, closes_on=closes_on, created_by=actor
    )
    members = Membership.objects.for_org(organization).active()
    AdoptionResponse.objects.bulk_create(
        [AdoptionResponse(organization=organization, survey=survey, membership=m) for m in members]
    )
    record(organization=organization, actor=actor, verb="metrics.adoption_opened", target=survey, request=request)
    from . import tasks

    enqueue(tasks.send_adoption_invites, organization.pk, survey.pk)
    return survey


def send_adoption_invites(organization: Organization, survey_id: int) -> int:
    """Mail each invited member once: each response row is claimed (mailed_at set where empty) before its
    mail goes out, so a retried task skips those already mailed."""
    survey = AdoptionSurvey.objects.for_org(organization).get(pk=survey_id)
    url = absolute_url(reverse("metrics:adoption_answer", args=[organization.slug, survey.pk]))
    sent = 0
    pending = AdoptionResponse.objects.for_org(organization).filter(survey=survey, mailed_at__isnull=True)
    for response in pending.select_related("membership__user"):
        if not AdoptionResponse.objects.filter(pk=response.pk, mailed_at__isnull=True).update(mailed_at=timezone.now()):
            continue
        send_templated_mail(
            to=[response.membership.user.email],
            template="metrics/email/adoption_invite",
            context={"organization": organization, "survey": survey, "url": url, "member": response.membership},
        )
        sent += 1
    return sent


@transaction.atomic
def submit_adoption(*, survey: AdoptionSurvey, membership: Membership, scores: dict, request=None) -> AdoptionResponse:
    """Record a member's answers (one score 1-5 per dimension). Answering again replaces the answers while
    the assessment is open."""
    if not survey.is_open:
        raise ValidationError("This assessment is closed.")
    keys = [key for key, _ in adoption.DIMENSION_CHOICES]
    errors = {k: "Choose an answer." for k in keys if scores.get(k) not in (1, 2, 3, 4, 5)}
    if errors:
        raise ValidationError(errors)
    response, _ = AdoptionResponse.objects.get_or_create(
        organization=survey.organization, survey=survey, membership=membership
    )
    response.answers.all().delete()
    AdoptionAnswer.objects.bulk_create(
        [
            AdoptionAnswer(organization=survey.organization, response=response, dimension=k, score=scores[k])
            for k in keys
        ]
    )
    response.submitted_at = timezone.now()
    response.save(update_fields=["submitted_at"])
    record(
        organization=survey.organization,
        actor=membership.user,
        verb="metrics.adoption_answered",
        target=survey,
        request=request,
    )
    return response


# --- Board reports ---------------------------------------------------------------------------------


@transaction.atomic
def save_board_report(
    *, organization, actor, period_start: date, period_end: date, commentary: str = "", report=None, request=None
) -> BoardReport:
    period_start, period_end = month_start(period_start), add_months(month_start(period_end), 1) - timedelta(days=1)
    if period_end < period_start:
        raise ValidationError({"period_end": "The period ends before it starts."})
    clash = BoardReport.objects.for_org(organization).filter(period_start=period_start, period_end=period_end)
    if report is not None:
        clash = clash.exclude(pk=report.pk)
    if clash.exists():
        raise ValidationError({"period_start": "There is already a board report for this period: edit that one."})
    report = report or BoardReport(organization=organization, created_by=actor)
    report.period_start, report.period_end, report.commentary = period_start, period_end, commentary
    report.updated_at = timezone.now()
    report.save()
    record(organization=organization, actor=actor, verb="metrics.board_report_saved", target=report, request=request)
    return report


def executives_emails(organization) -> list[str]:
    members = Membership.objects.for_org(organization).active().with_role(Role.EXECUTIVE)
    return list(members.values_list("user__email", flat=True))


@transaction.atomic
def queue_board_report_mail(*, report: BoardReport, actor, request=None) -> None:
    from . import tasks

    record(
        organization=report.organization,
        actor=actor,
        verb="metrics.board_report_mailed",
        target=report,
        request=request,
    )
    BoardReport.objects.filter(pk=report.pk).update(mailed_at=None)
    enqueue(tasks.mail_board_report, report.organization_id, report.pk)


def mail_board_report(organization: Organization, report_id: int) -> bool:
    """Mail the executives a link to the report with its headline figures, once per request to send."""
    report = BoardReport.objects.for_org(organization).get(pk=report_id)
    if not BoardReport.objects.filter(pk=report.pk, mailed_at__isnull=True).update(mailed_at=timezone.now()):
        return False
    recipients = executives_emails(organization)
    if not recipients:
        return False
    from .reports import board_report_context

    context = board_report_context(report)
    send_templated_mail(
        to=recipients,
        template="metrics/email/board_report",
        context={
            **context,
            "pdf_url": absolute_url(reverse("metrics:board_report_pdf", args=[organization.slug, report.pk])),
        },
    )
    return True


def create_monthly_board_report(organization: Organization) -> BoardReport | None:
    """On schedule: last month's report (once), mailed to the executives after commit."""
    today = timezone.localdate(timezone=organization.tz)
    start = add_months(month_start(today), -1)
    end = month_start(today) - timedelta(days=1)
    with transaction.atomic():
        report, created = BoardReport.objects.get_or_create(
            organization=organization, period_start=start, period_end=end
        )
        if not created:
            return None
        record(organization=organization, actor=None, verb="metrics.board_report_scheduled", target=report)
        from . import tasks

        enqueue(tasks.mail_board_report, organization.pk, report.pk)
    return report
