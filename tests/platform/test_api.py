"""The REST API: personal tokens, tenancy in the path, one error format, pagination, the schema."""

import pytest
from django.test import Client
from django.utils import timezone

from cxprogram.accounts.models import ApiToken
from cxprogram.accounts.services import create_api_token
from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.models import Invitation, Membership, Unit
from cxprogram.tenancy.permissions import Role
from tests.factories import add_member

pytestmark = pytest.mark.django_db


def api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def owner_token(owner):
    return create_api_token(user=owner.user, name="script")[1]


def test_token_is_shown_once_and_stored_hashed(owner_client, owner):
    response = owner_client.post("/settings/tokens/", {"name": "Nightly import"})
    raw = response.context["new_token"]
    assert raw.startswith("cxp_") and raw in response.content.decode()
    token = ApiToken.objects.get(user=owner.user)
    assert raw not in (token.token_hash, token.last_four) and token.last_four == raw[-4:]
    again = owner_client.get("/settings/tokens/")
    assert raw not in again.content.decode()


def test_token_authenticates_and_keeps_last_used(owner, owner_token, org):
    response = api(owner_token).get(f"/api/v1/orgs/{org.slug}/members/")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert ApiToken.objects.get(user=owner.user).last_used_at is not None


def test_no_token_is_401_with_the_error_format(org):
    response = Client().get(f"/api/v1/orgs/{org.slug}/members/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_revoked_token_is_401(owner, owner_token, owner_client, org):
    token = ApiToken.objects.get(user=owner.user)
    owner_client.post(f"/settings/tokens/{token.pk}/revoke/")
    response = api(owner_token).get(f"/api/v1/orgs/{org.slug}/members/")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_garbage_token_is_401(org):
    assert api("cxp_not-a-real-token").get(f"/api/v1/orgs/{org.slug}/members/").status_code == 401


def test_another_tenant_is_404(owner_token, outsider):
    response = api(owner_token).get(f"/api/v1/orgs/{outsider.organization.slug}/members/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_deactivated_member_loses_api_access_at_once(owner, org, owner_token):
    second_admin = add_member(org, [Role.ADMIN])
    Membership.objects.filter(pk=owner.pk).update(is_active=False)
    assert api(owner_token).get(f"/api/v1/orgs/{org.slug}/units/").status_code == 404
    assert second_admin.is_active


def test_invalid_fields_are_400_with_field_errors(owner_token, org):
    response = api(owner_token).post(
        f"/api/v1/orgs/{org.slug}/invitations/",
        {"email": "not-an-email", "roles": ["wizard"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"email", "roles"}
    assert not Invitation.objects.exists()


def test_service_rule_errors_are_400_too(owner_token, org, teammate):
    response = api(owner_token).post(
        f"/api/v1/orgs/{org.slug}/invitations/",
        {"email": teammate.user.email, "roles": ["staff"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "already a member" in response.json()["error"]["fields"]["email"][0]


def test_staff_cannot_manage_members_403(teammate, org):
    token = create_api_token(user=teammate.user, name="t")[1]
    response = api(token).post(f"/api/v1/orgs/{org.slug}/units/", {"name": "Ops"}, content_type="application/json")
    assert response.status_code == 403
    assert not Unit.objects.exists()
    assert api(token).get(f"/api/v1/orgs/{org.slug}/units/").status_code == 200


def test_units_crud_and_audit(owner_token, org):
    client = api(owner_token)
    parent = client.post(f"/api/v1/orgs/{org.slug}/units/", {"name": "Buildings"}, content_type="application/json")
    assert parent.status_code == 201
    child = client.post(
        f"/api/v1/orgs/{org.slug}/units/",
        {"name": "Schools", "parent": parent.json()["id"]},
        content_type="application/json",
    )
    assert child.status_code == 201
    grandchild = client.post(
        f"/api/v1/orgs/{org.slug}/units/",
        {"name": "Deep", "parent": child.json()["id"]},
        content_type="application/json",
    )
    assert grandchild.status_code == 400
    assert "one level" in grandchild.json()["error"]["fields"]["parent"][0]
    assert AuditEvent.objects.filter(organization=org, verb="unit.created").count() == 2


def test_member_roles_change_and_deactivate(owner_token, org, teammate):
    client = api(owner_token)
    url = f"/api/v1/orgs/{org.slug}/members/{teammate.pk}/"
    response = client.patch(url, {"roles": ["executive", "staff"]}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["roles"] == ["executive", "staff"]
    assert client.post(url + "deactivate/").json()["is_active"] is False


def test_cannot_remove_the_last_admin(owner_token, org, owner):
    response = api(owner_token).patch(
        f"/api/v1/orgs/{org.slug}/members/{owner.pk}/", {"roles": ["staff"]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "at least one active admin" in str(response.json()["error"]["fields"])
    owner.refresh_from_db()
    assert owner.roles == ["admin"]


def test_pagination_is_page_numbered(owner_token, org):
    for i in range(55):
        Unit.objects.create(organization=org, name=f"Unit {i:02}")
    first = api(owner_token).get(f"/api/v1/orgs/{org.slug}/units/").json()
    assert first["count"] == 55 and len(first["results"]) == 50 and first["next"].endswith("page=2")
    second = api(owner_token).get(f"/api/v1/orgs/{org.slug}/units/?page=2").json()
    assert len(second["results"]) == 5


def test_organizations_lists_only_mine(owner_token, org, outsider):
    results = api(owner_token).get("/api/v1/orgs/").json()["results"]
    assert [o["slug"] for o in results] == [org.slug]


def test_audit_events_are_readable_by_admins_only(owner_token, org, teammate, owner):
    from cxprogram.tenancy import services

    services.revoke_invitation(
        invitation=services.invite_member(organization=org, actor=owner.user, email="x@example.com", roles=["staff"]),
        actor=owner.user,
    )
    events = api(owner_token).get(f"/api/v1/orgs/{org.slug}/audit-events/?verb=invitation.revoked").json()
    assert events["count"] == 1 and events["results"][0]["actor_label"] == owner.user.display_name
    staff_token = create_api_token(user=teammate.user, name="t")[1]
    assert api(staff_token).get(f"/api/v1/orgs/{org.slug}/audit-events/").status_code == 403


def test_schema_and_docs_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content and b"/api/v1/orgs/{org_slug}/members/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "https://" not in docs.split("<body")[0]


def test_token_last_used_is_not_written_on_every_call(owner, owner_token, org):
    client = api(owner_token)
    client.get(f"/api/v1/orgs/{org.slug}/units/")
    ApiToken.objects.filter(user=owner.user).update(last_used_at=timezone.now())
    before = ApiToken.objects.get(user=owner.user).last_used_at
    client.get(f"/api/v1/orgs/{org.slug}/units/")
    assert ApiToken.objects.get(user=owner.user).last_used_at == before


def test_token_calls_are_rate_limited(owner_token, org, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "api_token": "3/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [api(owner_token).get(f"/api/v1/orgs/{org.slug}/units/").status_code for _ in range(4)]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert codes == [200, 200, 200, 429]


def test_required_two_factor_blocks_the_api_until_enrolled(org, owner, owner_token):
    org.require_two_factor = True
    org.save()
    response = api(owner_token).get(f"/api/v1/orgs/{org.slug}/units/")
    assert response.status_code == 403
    assert "two-factor" in response.json()["error"]["message"]
