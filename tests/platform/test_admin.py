"""The Django admin, the operators' console: superusers only, every model of ours shown and none
changed, no secret shown, every organization's rows read through row-level security."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.urls import reverse

from cxprogram.tenancy.models import Membership
from cxprogram.tenancy.permissions import Role
from feedback.models import FeedbackSettings, SurveyRequest
from tests.factories import add_member, make_org, make_user, populate_organization
from tests.platform.test_rls import PROBE_ROLE, probe_role  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

OUR_APPS = ("core", "accounts", "tenancy", "audit", "charters", "feedback", "initiatives", "metrics")


def signed_in(email: str, **flags) -> Client:
    user = make_user(email)
    for flag, value in flags.items():
        setattr(user, flag, value)
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator():
    return signed_in("ops@cxprogram.example", is_staff=True, is_superuser=True)


@pytest.fixture
def populated(org):
    populate_organization(org)
    return org


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_ours_is_shown_to_operators_and_none_can_be_changed(operator, populated):
    models = [m for label in OUR_APPS for m in apps.get_app_config(label).get_models()]
    assert [m for m in models if not admin.site.is_registered(m)] == []
    for model in models:
        listing = operator.get(admin_url(model, "changelist"))
        assert listing.status_code == 200, model
        assert f'href="{admin_url(model, "add")}"' not in listing.content.decode(), model
        row = model._default_manager.order_by("pk").first()
        if row is None:
            continue
        page = operator.get(admin_url(model, "change", row.pk))
        assert page.status_code == 200, model
        assert b'name="_save"' not in page.content, model  # shown, not a form to save
        assert operator.post(admin_url(model, "change", row.pk), {}).status_code == 403, model
        assert operator.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403, model
        assert model._default_manager.filter(pk=row.pk).exists()
    assert operator.get(admin_url(Membership, "add")).status_code == 403


def test_the_secrets_links_are_made_from_are_not_shown(operator, populated):
    request = SurveyRequest.objects.filter(organization=populated).first()
    FeedbackSettings.objects.filter(organization=populated).update(webhook_secret="hook-secret-1234")
    settings_row = FeedbackSettings.objects.get(organization=populated)
    pages = [
        operator.get(admin_url(SurveyRequest, "change", request.pk)).content.decode(),
        operator.get(admin_url(FeedbackSettings, "change", settings_row.pk)).content.decode(),
    ]
    assert request.nonce not in pages[0] and request.token_hash not in pages[0]
    assert "hook-secret-1234" not in pages[1]


def test_only_superusers_enter(client, owner_client, populated):
    """Not an organization's admin, not Django staff without the superuser flag, not the anonymous."""
    listing = admin_url(Membership, "changelist")
    for visitor in (client, owner_client, signed_in("staff@cxprogram.example", is_staff=True)):
        page = visitor.get(listing)
        assert page.status_code == 302 and page["Location"].startswith(reverse("admin:login"))


@pytest.mark.postgres
def test_operators_read_every_organization_as_the_app_role_would(operator, probe_role):  # noqa: F811
    """Row-level security binds the app's database role: an operator's admin requests pass it for their
    transaction, and only theirs."""
    first, second = make_org("Alpha"), make_org("Beta")
    add_member(first, [Role.ADMIN], user=make_user("ann@alpha.example", "Ann Alpha"))
    add_member(second, [Role.ADMIN], user=make_user("ben@beta.example", "Ben Beta"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.current_org', '', true)")  # as a request starts: no tenant
        cursor.execute(f"SET ROLE {PROBE_ROLE}")
        try:
            assert Membership.objects.count() == 0  # the app role outside the admin: no tenant, no rows
            page = operator.get(admin_url(Membership, "changelist")).content.decode()
        finally:
            cursor.execute("RESET ROLE")
    assert "Ann Alpha" in page and "Ben Beta" in page
