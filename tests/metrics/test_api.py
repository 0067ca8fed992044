"""The metrics API: the same figures as the dashboard, records with the import rules, targets, assessments."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cxprogram.tenancy.permissions import Role
from metrics.models import MetricTarget, ProposalRecord, RevenueRecord
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def api(org, path):
    return f"/api/v1/orgs/{org.slug}/{path}"


def test_metric_values_are_the_dashboards_figures(owner_client, org, data):
    response = owner_client.get(api(org, "metric-values/"), {"metric": "nps", "by": "top_unit"})
    assert response.status_code == 200
    body = response.json()
    nps = body["metrics"][0]
    assert (nps["nps"], nps["margin_of_error"], nps["n"], nps["too_few"]) == (9.1, 53.2, 11, False)
    by_unit = {row["key"]: row for row in body["breakdown"]}
    assert by_unit[data["buildings"].pk]["nps"] == 40.0
    everything = owner_client.get(api(org, "metric-values/")).json()
    keys = {m["metric"] for m in everything["metrics"]}
    assert {"nps", "response_rate", "net_revenue_retention", "revenue_at_risk", "adoption_score"} <= keys
    client_slice = owner_client.get(api(org, "metric-values/"), {"metric": "nps", "client": data["b"].client_id})
    assert client_slice.json()["metrics"][0]["n"] == 6


def test_metric_values_refuse_bad_queries_in_the_error_format(owner_client, org, data):
    response = owner_client.get(api(org, "metric-values/"), {"metric": "nope", "start": "2025-05", "end": "2025-01"})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "metric" in fields


def test_metric_values_permissions(org, member, outsider_client, data):
    assert client_for(member(Role.STAFF)).get(api(org, "metric-values/")).status_code == 403
    assert outsider_client.get(api(org, "metric-values/")).status_code == 404


def test_revenue_records_through_the_api(owner_client, org, data):
    client_id = data["a"].client_id
    created = owner_client.post(
        api(org, "revenue-records/"),
        {"client": client_id, "month": "2025-03-15", "amount": "700.00"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    row = RevenueRecord.objects.get(pk=created.json()["id"])
    assert (row.month, row.amount, row.source) == (date(2025, 3, 1), Decimal(700), "api")
    patched = owner_client.patch(
        api(org, f"revenue-records/{row.pk}/"), {"amount": "650"}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["amount"] == "650.00"
    moved = owner_client.patch(
        api(org, f"revenue-records/{row.pk}/"), {"month": "2025-04-01"}, content_type="application/json"
    )
    assert moved.status_code == 400


def test_revenue_import_through_the_api_is_all_or_nothing(owner_client, org, data):
    bad = SimpleUploadedFile("r.csv", b"client,month,amount\nAlpha Health,2024-01,10\nNobody,2024-01,10\n")
    response = owner_client.post(api(org, "revenue-records/import/"), {"file": bad})
    assert response.status_code == 400
    assert response.json()["error"]["report"]["errors"][0]["line"] == 3
    assert not RevenueRecord.objects.filter(organization=org, month=date(2024, 1, 1)).exists()
    good = SimpleUploadedFile("r.csv", b"client,month,amount\nAlpha Health,2024-01,10\n")
    assert owner_client.post(api(org, "revenue-records/import/"), {"file": good}).status_code == 201


def test_proposals_and_targets_validate_like_the_pages(owner_client, org, data):
    response = owner_client.post(
        api(org, "proposals/"),
        {"reference": "P-9", "title": "Bridge", "submitted_on": "2025-02-01", "outcome": "won"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "decided_on" in response.json()["error"]["fields"]
    assert not ProposalRecord.objects.filter(organization=org).exists()
    response = owner_client.post(
        api(org, "metric-targets/"),
        {
            "metric": "gross_revenue_churn",
            "target": "5",
            "warning": "3",
            "starts_on": "2025-01-01",
            "ends_on": "2025-12-31",
        },
        content_type="application/json",
    )
    assert response.status_code == 400 and "warning" in response.json()["error"]["fields"]
    response = owner_client.post(
        api(org, "metric-targets/"),
        {"metric": "nps", "target": "40", "warning": "30", "starts_on": "2025-01-01", "ends_on": "2025-12-31"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert MetricTarget.objects.get(organization=org).metric == "nps"


def test_adoption_assessment_through_the_api(owner_client, org, member, data):
    opened = owner_client.post(
        api(org, "adoption-surveys/"),
        {"quarter": "2025-04-01", "closes_on": "2099-01-01"},
        content_type="application/json",
    )
    assert opened.status_code == 201, opened.json()
    staff = client_for(member(Role.STAFF))
    scores = {"strategy": 4, "listening": 4, "closing_loop": 4, "insight": 4, "behaviors": 4, "measurement": 4}
    answered = staff.post(
        api(org, f"adoption-surveys/{opened.json()['id']}/answer/"), {"scores": scores}, content_type="application/json"
    )
    assert answered.status_code == 201
    results = owner_client.get(api(org, "adoption-surveys/results/")).json()
    # every statement "agree" (4): (4 − 1) / 4 × 100 = 75
    assert results["latest"]["score"] == 75
    assert (
        staff.post(api(org, "adoption-surveys/"), {"quarter": "2025-07-01", "closes_on": "2099-01-01"}).status_code
        == 403
    )
