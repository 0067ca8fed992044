import pytest

from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.models import Membership, Organization, Unit
from cxprogram.tenancy.permissions import Role

pytestmark = pytest.mark.django_db


def test_admin_changes_roles_and_unit(owner_client, org, teammate):
    unit = Unit.objects.create(organization=org, name="Buildings")
    response = owner_client.post(
        f"/o/{org.slug}/members/{teammate.pk}/", {"roles": ["executive", "cx_coe"], "unit": unit.pk, "title": "COO"}
    )
    assert response.status_code == 302
    teammate.refresh_from_db()
    assert teammate.roles == ["executive", "cx_coe"] and teammate.unit == unit
    event = AuditEvent.objects.get(verb="member.changed")
    assert event.payload["before"]["roles"] == ["staff"] and event.payload["after"]["roles"] == ["executive", "cx_coe"]


def test_roles_are_required(owner_client, org, teammate):
    response = owner_client.post(f"/o/{org.slug}/members/{teammate.pk}/", {"roles": [], "title": ""})
    assert response.status_code == 200
    assert "Choose at least one role." in response.content.decode()
    teammate.refresh_from_db()
    assert teammate.roles == ["staff"]


def test_deactivated_member_loses_access_at_once_and_history_stays(owner_client, teammate_client, org, teammate):
    assert teammate_client.get(f"/o/{org.slug}/").status_code == 200
    owner_client.post(f"/o/{org.slug}/members/{teammate.pk}/active/", {"active": "0"})
    assert teammate_client.get(f"/o/{org.slug}/").status_code == 404
    teammate.refresh_from_db()
    assert not teammate.is_active and teammate.deactivated_at is not None
    assert AuditEvent.objects.filter(verb="member.deactivated", target_id=str(teammate.pk)).exists()
    page = owner_client.get(f"/o/{org.slug}/members/").content.decode()
    assert "Deactivated" in page and teammate.user.email in page
    owner_client.post(f"/o/{org.slug}/members/{teammate.pk}/active/", {"active": "1"})
    assert teammate_client.get(f"/o/{org.slug}/").status_code == 200


def test_the_last_admin_cannot_be_deactivated(owner_client, org, owner):
    response = owner_client.post(f"/o/{org.slug}/members/{owner.pk}/active/", {"active": "0"}, follow=True)
    assert "at least one active admin" in response.content.decode()
    owner.refresh_from_db()
    assert owner.is_active


def test_staff_cannot_manage_members(teammate_client, org, owner):
    assert teammate_client.get(f"/o/{org.slug}/members/{owner.pk}/").status_code == 403
    assert teammate_client.post(f"/o/{org.slug}/members/{owner.pk}/active/", {"active": "0"}).status_code == 403
    page = teammate_client.get(f"/o/{org.slug}/members/")
    assert page.status_code == 200 and "Invite someone" not in page.content.decode()


def test_member_search(owner_client, org, teammate, owner):
    page = owner_client.get(f"/o/{org.slug}/members/", {"q": "theo"})
    assert list(page.context["members"]) == [teammate]


def test_units_nest_one_level(owner_client, org):
    owner_client.post(f"/o/{org.slug}/units/", {"name": "Buildings"})
    buildings = Unit.objects.get(name="Buildings")
    owner_client.post(f"/o/{org.slug}/units/", {"name": "Schools", "parent": buildings.pk})
    schools = Unit.objects.get(name="Schools")
    response = owner_client.post(f"/o/{org.slug}/units/", {"name": "Deep", "parent": schools.pk})
    assert "Select a valid choice" in response.content.decode()
    duplicate = owner_client.post(f"/o/{org.slug}/units/", {"name": "buildings"})
    assert "exists already" in duplicate.content.decode()
    assert Unit.objects.count() == 2


def test_organization_settings_and_duplicate_slug(owner_client, org, other_org):
    response = owner_client.post(
        f"/o/{org.slug}/settings/",
        {"name": "Acme", "slug": other_org.slug, "time_zone": "Europe/Paris", "fiscal_year_start_month": 4},
    )
    assert "already taken" in response.content.decode()
    org.refresh_from_db()
    assert org.time_zone == "UTC"
    response = owner_client.post(
        f"/o/{org.slug}/settings/",
        {"name": "Acme Group", "slug": "acme-group", "time_zone": "Europe/Paris", "fiscal_year_start_month": 4},
    )
    assert response.status_code == 302 and response["Location"] == "/o/acme-group/settings/"
    org.refresh_from_db()
    assert (org.name, org.time_zone, org.fiscal_year_start_month) == ("Acme Group", "Europe/Paris", 4)


def test_creating_an_organization_makes_me_its_admin(teammate_client, teammate):
    response = teammate_client.post("/orgs/new/", {"name": "Side Project", "time_zone": "UTC"})
    created = Organization.objects.get(name="Side Project")
    assert response["Location"] == f"/o/{created.slug}/"
    assert Membership.objects.get(organization=created, user=teammate.user).roles == [Role.ADMIN]
    assert teammate_client.get("/").status_code == 302
    assert teammate_client.get("/")["Location"] == "/orgs/"
