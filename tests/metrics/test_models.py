from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from metrics.models import MetricTarget, ProposalRecord, RevenueRecord
from tests.feedback.factories import make_client
from tests.metrics.factories import add_revenue

pytestmark = pytest.mark.django_db


def target(metric, goal, warning):
    return MetricTarget(metric=metric, target=Decimal(goal), warning=Decimal(warning))


def test_target_status_when_higher_is_better():
    nps = target("nps", 40, 30)
    assert nps.status_for(45) == "on_target"
    assert nps.status_for(40) == "on_target"
    assert nps.status_for(35.5) == "warning"
    assert nps.status_for(30) == "warning"
    assert nps.status_for(29.9) == "off_target"
    assert nps.status_for(None) == "unknown"


def test_target_status_when_lower_is_better():
    churn = target("gross_revenue_churn", 5, 8)
    assert churn.status_for(4) == "on_target"
    assert churn.status_for(7.5) == "warning"
    assert churn.status_for(8.01) == "off_target"


def test_one_revenue_figure_per_client_and_month(org):
    client = make_client(org)
    add_revenue(client, {"2025-03": 100})
    with pytest.raises(IntegrityError), transaction.atomic():
        RevenueRecord.objects.create(organization=org, client=client, month=date(2025, 3, 1), amount=5)


def test_a_decided_proposal_needs_a_decision_date_after_submission(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProposalRecord.objects.create(
            organization=org, reference="X", title="x", submitted_on=date(2025, 3, 1), outcome="won"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ProposalRecord.objects.create(
            organization=org,
            reference="Y",
            title="y",
            submitted_on=date(2025, 3, 1),
            outcome="lost",
            decided_on=date(2025, 2, 1),
        )


def test_populate_fills_every_metrics_model(org, owner, member):
    from cxprogram.tenancy.permissions import Role
    from metrics import models
    from tests.feedback.factories import populate as populate_feedback
    from tests.metrics.factories import populate

    people = {
        "owner": owner,
        "executive": member(Role.EXECUTIVE),
        "cx_coe": member(Role.CX_COE),
        "project_manager": member(Role.PROJECT_MANAGER),
        "staff": member(Role.STAFF),
    }
    populate_feedback(org, people)
    populate(org, people)
    from django.apps import apps

    for model in apps.get_app_config("metrics").get_models():
        assert model.objects.filter(organization=org).exists(), model
    assert models.RevenueRecord.objects.get(organization=org).client.name == "Populated client"
