"""Security headers on every page, rate limits on the entrance, inert user text."""

import pytest
from django.urls import reverse

from cxprogram.tenancy import services
from cxprogram.tenancy.models import Unit
from tests.platform.test_tenant_isolation import url_patterns

pytestmark = pytest.mark.django_db


def page_urls(org_slug: str) -> list[str]:
    """Every GET-able page without an object id: the public ones and the organization's."""
    urls = []
    for name, params in url_patterns():
        if not name or name.startswith(("admin:", "dev_")) or set(params) - {"org_slug"}:
            continue
        try:
            urls.append(reverse(name, kwargs={"org_slug": org_slug} if params else None))
        except Exception:  # allauth patterns that need extra kwargs are not pages on their own
            continue
    return urls


def assert_security_headers(response, url):
    csp = response.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp, url
    assert response["X-Frame-Options"] == "DENY", url
    assert response["Referrer-Policy"] == "same-origin", url
    assert response["X-Content-Type-Options"] == "nosniff", url


def test_every_page_carries_the_security_headers(owner_client, org, client):
    urls = page_urls(org.slug)
    assert len(urls) > 10
    for url in urls:
        for who in (owner_client, client):
            response = who.get(url)
            if response.status_code in (200, 302, 401, 403, 404, 405, 429):
                assert_security_headers(response, url)
            else:
                pytest.fail(f"{url} answered {response.status_code}")


def test_failed_logins_lock_the_account_for_a_while(client, owner):
    from tests.factories import PASSWORD

    for _ in range(5):
        client.post("/accounts/login/", {"login": owner.user.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": owner.user.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_attempts_are_rate_limited_per_ip(client):
    codes = [
        client.post("/accounts/login/", {"login": f"p{i}@example.com", "password": "x"}).status_code for i in range(35)
    ]
    assert codes[0] == 200 and codes[-1] == 429


def test_password_reset_is_rate_limited(client, owner):
    codes = [client.post("/accounts/password/reset/", {"email": owner.user.email}).status_code for _ in range(8)]
    assert 429 in codes


def test_user_text_is_escaped_in_pages(owner_client, org, owner):
    services.save_unit(organization=org, actor=owner.user, name="<script>alert(1)</script>")
    services.invite_member(
        organization=org,
        actor=owner.user,
        email="x@example.com",
        roles=["staff"],
        unit=Unit.objects.get(organization=org),
    )
    for url in (f"/o/{org.slug}/units/", f"/o/{org.slug}/members/", f"/o/{org.slug}/audit/"):
        body = owner_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url
