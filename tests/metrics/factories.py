"""Metrics test data: a compact way to lay down responses with known scores, and `populate` (a row of every
metrics model) for the platform's cross-tenant URL walk."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from feedback.models import Batch, Client, Response
from metrics import models as m
from tests.feedback.factories import make_client, make_contact, make_project, make_sent_request, make_template_version

_seq = itertools.count(1)


class Responses:
    """Builds responses for one organization: `add(scores, ...)` creates, per score, a contact, a sent
    request and a submitted response, on the given client/project (made on demand)."""

    def __init__(self, organization, sender):
        self.organization = organization
        self.sender = sender
        self.version = make_template_version(organization)
        self.batch = Batch.objects.create(
            organization=organization,
            name=f"Batch {next(_seq)}",
            template_version=self.version,
            sender=sender,
            reply_to=sender.user.email,
            state=Batch.State.SENT,
        )

    def project(self, client=None, pm=None, unit=None, **fields):
        client = client or make_client(self.organization, unit=unit)
        return make_project(client, project_manager=pm or self.sender, unit=unit, **fields)

    def add(
        self, scores, project=None, kind="decision_maker", submitted_at=None, sent_at=None, contact=None, comment=""
    ) -> list[Response]:
        """One response per score. Without `contact`, each comes from a new contact of the project's client;
        with it, the same person answers each time (a request per batch, so each gets its own batch)."""
        project = project or self.project()
        submitted_at = submitted_at or timezone.now()
        sent_at = sent_at or submitted_at - timedelta(days=2)
        responses = []
        for score in scores:
            who = contact or make_contact(project.client, kind=kind)
            batch = self.new_batch() if contact is not None else self.batch
            request = make_sent_request(batch, who, project, sent_at=sent_at, responded_at=submitted_at)
            responses.append(
                Response.objects.create(
                    organization=self.organization,
                    request=request,
                    batch=batch,
                    contact=who,
                    client=project.client,
                    project=project,
                    project_manager=project.project_manager,
                    unit=project.unit,
                    contact_kind=who.kind,
                    template_version=self.version,
                    nps_score=score,
                    answers={"nps": score, "reason": comment},
                    submitted_at=submitted_at,
                )
            )
        return responses

    def unanswered(self, count, project, sent_at=None):
        """Requests delivered and not answered."""
        for _ in range(count):
            make_sent_request(self.batch, make_contact(project.client), project, sent_at=sent_at or timezone.now())

    def new_batch(self):
        return Batch.objects.create(
            organization=self.organization,
            name=f"Batch {next(_seq)}",
            template_version=self.version,
            sender=self.sender,
            reply_to=self.sender.user.email,
            state=Batch.State.SENT,
        )


def recent(days_ago=10):
    return timezone.now() - timedelta(days=days_ago)


def add_revenue(client, amounts: dict[str, int]):
    """amounts: {"2025-01": 1000, ...}"""
    for month, amount in amounts.items():
        year, mon = map(int, month.split("-"))
        m.RevenueRecord.objects.create(
            organization_id=client.organization_id, client=client, month=date(year, mon, 1), amount=Decimal(amount)
        )


def populate(organization, people):
    client = Client.objects.for_org(organization).first() or make_client(organization, "Metrics client")
    owner, coe = people["owner"], people["cx_coe"]
    m.MetricsSettings.objects.create(organization=organization)
    add_revenue(client, {"2025-01": 1000})
    m.ProposalRecord.objects.create(
        organization=organization, reference="PR-1", title="Populated proposal", submitted_on=date(2025, 1, 5)
    )
    target = m.MetricTarget.objects.create(
        organization=organization,
        metric="nps",
        target=40,
        warning=30,
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 12, 31),
        owner=coe,
    )
    m.MetricAlert.objects.create(
        organization=organization, target=target, status="warning", previous_status="on_target", value=35
    )
    survey = m.AdoptionSurvey.objects.create(
        organization=organization, quarter=date(2025, 1, 1), closes_on=date(2025, 3, 31), created_by=owner.user
    )
    answer = m.AdoptionResponse.objects.create(
        organization=organization, survey=survey, membership=people["staff"], submitted_at=timezone.now()
    )
    m.AdoptionAnswer.objects.create(organization=organization, response=answer, dimension="strategy", score=4)
    m.BoardReport.objects.create(
        organization=organization, period_start=date(2025, 1, 1), period_end=date(2025, 3, 31), created_by=owner.user
    )
    m.MonthlyRollup.objects.create(organization=organization, month=date(2025, 1, 1), promoters=1)
