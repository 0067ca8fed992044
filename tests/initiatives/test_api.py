"""The initiatives API: the same services and rules as the pages, errors in the platform's format."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cxprogram.accounts.services import create_api_token
from cxprogram.tenancy.permissions import Role
from initiatives import services
from initiatives.models import ActionItem, Ballot, Decision, Initiative, Meeting, Status
from tests.initiatives.factories import make_initiative

pytestmark = pytest.mark.django_db


def api_for(membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_api_token(user=membership.user, name='t')[1]}")


@pytest.fixture
def base(org):
    return f"/api/v1/orgs/{org.slug}/"


def test_submit_qualify_score_and_refused_transition(org, owner, teammate, base):
    staff_api, coe_api = api_for(teammate), api_for(owner)
    response = staff_api.post(
        base + "initiatives/",
        {"title": "Plain-language invoices", "description": "Clients ask what they pay for."},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["code"], body["status"], body["submitted_by"]) == ("CX-001", "submitted", teammate.pk)
    pk = body["id"]
    assert (
        staff_api.post(
            base + f"initiatives/{pk}/qualify/", {"horizon": "short"}, content_type="application/json"
        ).status_code
        == 403
    )
    response = coe_api.post(base + f"initiatives/{pk}/start/", {}, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (
        error["code"] == "invalid"
        and "CX-001 is submitted, so it cannot be started" in error["fields"]["non_field_errors"][0]
    )
    response = coe_api.post(base + f"initiatives/{pk}/qualify/", {"horizon": "short"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "qualified"
    response = coe_api.post(
        base + "scores/",
        {"initiative": pk, "customer_benefit": 7, "business_value": 5, "cost": "-1", "effort_days": 4},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["error"]["fields"]["cost"] == ["Cost must be zero or more."]
    response = coe_api.post(
        base + "scores/",
        {"initiative": pk, "customer_benefit": 7, "business_value": 5, "cost": "900", "effort_days": 4},
        content_type="application/json",
    )
    assert response.status_code == 201
    # (7 + 5) × 80% ÷ 4 = 2.4
    assert response.json()["value"] == "2.4000" and response.json()["formula"].endswith("= 2.40")
    detail = coe_api.get(base + f"initiatives/{pk}/").json()
    assert detail["score"]["value"] == "2.4000"
    assert [e["kind"] for e in coe_api.get(base + f"initiatives/{pk}/timeline/").json()] == [
        "score",
        "status",
        "status",
    ]


def test_status_filter(org, owner, base):
    a = make_initiative(org, owner, Status.QUALIFIED, title="A")
    make_initiative(org, owner, title="B")
    response = api_for(owner).get(base + "initiatives/?status=qualified")
    assert [row["id"] for row in response.json()["results"]] == [a.pk]


def test_ballots_rounds_and_board_decisions(org, owner, member, base):
    executive = member(Role.EXECUTIVE)
    a, b = (make_initiative(org, owner, Status.RANKED, title=t) for t in ("A", "B"))
    owner_api, exec_api = api_for(owner), api_for(executive)
    closes = (timezone.now() + timedelta(days=2)).isoformat()
    response = owner_api.post(
        base + "ranking-rounds/",
        {"title": "Q1", "initiatives": [a.pk, b.pk], "stakeholders": [executive.pk], "closes_at": closes},
        content_type="application/json",
    )
    assert response.status_code == 201
    round_id = response.json()["id"]
    response = owner_api.post(
        base + "ballots/", {"round": round_id, "order": [a.pk, b.pk]}, content_type="application/json"
    )
    assert (
        response.status_code == 400 and "not a stakeholder" in response.json()["error"]["fields"]["non_field_errors"][0]
    )
    response = exec_api.post(
        base + "ballots/", {"round": round_id, "order": [a.pk, a.pk]}, content_type="application/json"
    )
    assert response.status_code == 400 and "appear more than once" in response.json()["error"]["fields"]["order"][0]
    assert (
        exec_api.post(
            base + "ballots/", {"round": round_id, "order": [b.pk, a.pk]}, content_type="application/json"
        ).status_code
        == 201
    )
    response = owner_api.post(base + f"ranking-rounds/{round_id}/close/", {}, content_type="application/json")
    assert response.json()["state"] == "closed"
    assert {r["initiative"]: r["combined_rank"] for r in response.json()["results"]} == {b.pk: 1, a.pk: 2}
    assert (
        exec_api.post(
            base + "ballots/", {"round": round_id, "order": [a.pk, b.pk]}, content_type="application/json"
        ).status_code
        == 400
    )
    assert Ballot.objects.count() == 1

    services.set_limits(organization=org, actor=executive, capacity_person_days_per_month=None, budget_per_quarter=1000)
    meeting = Meeting.objects.create(organization=org, scheduled_for=timezone.now() + timedelta(days=1))
    assert (
        owner_api.post(
            base + f"meetings/{meeting.pk}/attendance/",
            {"present": [owner.pk, executive.pk]},
            content_type="application/json",
        ).status_code
        == 200
    )
    decision = {
        "meeting": meeting.pk,
        "initiative": b.pk,
        "outcome": "approve",
        "deadline": str(timezone.localdate() + timedelta(days=30)),
        "owner": owner.pk,
        "person_days": "5",
        "budget": "2500",
    }
    response = owner_api.post(base + "decisions/", decision, content_type="application/json")
    assert (
        response.status_code == 400
        and "1,000.00 remain this quarter" in response.json()["error"]["fields"]["override_reason"][0]
    )
    assert not Decision.objects.exists()
    response = owner_api.post(
        base + "decisions/", {**decision, "override_reason": "Signed by the CFO"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert Initiative.objects.get(pk=b.pk).status == Status.APPROVED
    response = owner_api.post(
        base + "decisions/",
        {"meeting": meeting.pk, "initiative": a.pk, "outcome": "reject"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "note" in response.json()["error"]["fields"]
    response = owner_api.post(
        base + f"meetings/{meeting.pk}/close/", {"notes": "Short meeting."}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["state"] == "held"


def test_action_items_and_updates(org, owner, teammate, base):
    running = make_initiative(org, owner, Status.IN_PROGRESS)
    owner_api = api_for(owner)
    due = str(timezone.localdate() + timedelta(days=5))
    response = owner_api.post(
        base + "action-items/",
        {"initiative": running.pk, "title": "Draft FAQ", "owner": teammate.pk, "due_on": due},
        content_type="application/json",
    )
    assert response.status_code == 201
    item_id = response.json()["id"]
    response = api_for(teammate).patch(
        base + f"action-items/{item_id}/", {"status": "done"}, content_type="application/json"
    )
    assert response.status_code == 200 and ActionItem.objects.get().status == "done"
    response = api_for(teammate).patch(
        base + f"action-items/{item_id}/", {"title": "Renamed"}, content_type="application/json"
    )
    assert response.status_code == 400
    response = owner_api.post(
        base + "updates/",
        {"initiative": running.pk, "health": "at_risk", "text": "Vendor late."},
        content_type="application/json",
    )
    assert response.status_code == 201
    running.refresh_from_db()
    assert running.health == "at_risk"
    assert (
        api_for(teammate)
        .post(
            base + "updates/",
            {"initiative": running.pk, "health": "on_track", "text": "x"},
            content_type="application/json",
        )
        .status_code
        == 403
    )
