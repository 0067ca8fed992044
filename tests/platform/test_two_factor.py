"""An organization that requires two-factor authentication sends its admins and executives to set
up TOTP before any of its pages; recovery codes come with it; other roles are not forced."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from django.urls import reverse

from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.permissions import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    settings.ACCOUNT_RATE_LIMITS = False


@pytest.fixture
def strict_org(org):
    org.require_two_factor = True
    org.save(update_fields=["require_two_factor"])
    return org


def logged_in(membership) -> Client:
    """A real login through allauth (it records when the person authenticated, which setting up
    two-factor asks for)."""
    client = Client()
    response = client.post(reverse("account_login"), {"login": membership.user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def confirm_password_then_open_setup(client, membership) -> str:
    """allauth asks for the password again before an authenticator is added (a fresh login does not
    count), then shows the setup page."""
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    response = client.post(response.url, {"password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    page = client.get(response.url)
    assert page.status_code == 200
    return page.content.decode()


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now. Near the end of a 30-second step, wait for the next
    one, so the code is still current when the server checks it."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def secret_on(page: str) -> str:
    """The key a person would type into an authenticator app, as the setup page shows it."""
    (secret,) = re.findall(r'value="([A-Z2-7]{32})"', page)
    return secret


def test_an_admin_turns_on_the_requirement_in_the_settings(owner, org):
    client = logged_in(owner)
    data = {"name": org.name, "slug": org.slug, "time_zone": "UTC", "fiscal_year_start_month": 1}

    response = client.post(reverse("org_settings", args=[org.slug]), {**data, "require_two_factor": "on"})

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.require_two_factor
    event = AuditEvent.objects.get(organization=org, verb="organization.updated")
    assert event.payload == {"require_two_factor": "True"}
    # The admin is held to it too from the next page on.
    assert client.get(reverse("org_settings", args=[org.slug])).url == reverse("mfa_activate_totp")


def test_an_executive_without_totp_sets_it_up_before_any_tenant_page(strict_org, member):
    executive = member(Role.EXECUTIVE)
    client = logged_in(executive)

    for url in [
        reverse("org_home", args=[strict_org.slug]),
        reverse("org_members", args=[strict_org.slug]),
        reverse("charters:index", args=[strict_org.slug]),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == reverse("mfa_activate_totp")

    html = confirm_password_then_open_setup(client, executive)
    assert "Acme Consulting requires two-factor authentication for your role. Set it up to continue." in html
    secret = secret_on(html)

    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000" if totp_code(secret) != "000000" else "1"})
    assert wrong.status_code == 200
    assert "Incorrect code." in wrong.content.decode()
    assert client.get(reverse("org_home", args=[strict_org.slug])).status_code == 302

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert response.status_code == 302
    assert response.url == reverse("mfa_view_recovery_codes")
    assert set(Authenticator.objects.filter(user=executive.user).values_list("type", flat=True)) == {
        "totp",
        "recovery_codes",
    }
    codes_page = client.get(response.url).content.decode()
    codes = Authenticator.objects.get(user=executive.user, type="recovery_codes").wrap().get_unused_codes()
    assert len(codes) == 10
    assert all(code in codes_page for code in codes)
    home = client.get(reverse("org_home", args=[strict_org.slug]))
    assert home.status_code == 200
    assert "Acme Consulting" in home.content.decode()


def test_after_setup_login_asks_for_the_second_factor_and_takes_a_recovery_code(strict_org, member):
    executive = member(Role.EXECUTIVE)
    client = logged_in(executive)
    secret = secret_on(confirm_password_then_open_setup(client, executive))
    client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    codes = Authenticator.objects.get(user=executive.user, type="recovery_codes").wrap().get_unused_codes()
    client.post(reverse("account_logout"))

    response = client.post(reverse("account_login"), {"login": executive.user.email, "password": PASSWORD})

    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.post(reverse("mfa_authenticate"), {"code": "12345678"}).status_code == 200
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == executive.user.pk
    assert client.get(reverse("org_home", args=[strict_org.slug])).status_code == 200
    left = Authenticator.objects.get(user=executive.user, type="recovery_codes").wrap().get_unused_codes()
    assert codes[0] not in left and len(left) == 9


@pytest.mark.parametrize("roles", [[Role.STAFF], [Role.PROJECT_MANAGER], [Role.CX_COE, Role.UNIT_LEADER]])
def test_other_roles_are_not_forced(strict_org, member, roles):
    person = member(*roles)
    client = logged_in(person)

    assert client.get(reverse("org_home", args=[strict_org.slug])).status_code == 200
    assert client.get(reverse("org_members", args=[strict_org.slug])).status_code == 200
    assert not Authenticator.objects.filter(user=person.user).exists()


def test_without_the_requirement_nobody_is_forced(org, member):
    client = logged_in(member(Role.EXECUTIVE))

    assert client.get(reverse("org_home", args=[org.slug])).status_code == 200
