"""Settings come from the environment: production settings pass `check --deploy` with no warning and
send secure cookies, HSTS and a strict Content-Security-Policy; with nothing set, the embedded
default runs on SQLite with eager tasks and the dev outbox. Each configuration is loaded in a fresh
process, as it would be on a server."""

import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD, make_user

PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
    "DEBUG": "false",
    "ALLOWED_HOSTS": "cx.example.com",
    "DATABASE_URL": "postgres://cx:secret@db.internal:5432/cx",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "DEFAULT_FROM_EMAIL": "CX Program <cx@example.com>",
    "SITE_URL": "https://cx.example.com",
}

PRINT_SETTINGS = """
import json, sys, django
django.setup()
from django.conf import settings as s
from django.test import Client
client = Client(HTTP_HOST=s.ALLOWED_HOSTS[0])
plain = client.get(sys.argv[1])
health = client.get("/healthz")
secure = client.get("/healthz", secure=True)
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ENGINE": s.DATABASES["default"]["ENGINE"],
    "DB_NAME": str(s.DATABASES["default"]["NAME"]),
    "CELERY_TASK_ALWAYS_EAGER": s.CELERY_TASK_ALWAYS_EAGER,
    "CELERY_BROKER_URL": s.CELERY_BROKER_URL,
    "CACHE": s.CACHES["default"]["BACKEND"],
    "EMAIL_BACKEND": s.EMAIL_BACKEND,
    "EMAIL_HOST": getattr(s, "EMAIL_HOST", ""),
    "EMAIL_PORT": getattr(s, "EMAIL_PORT", 0),
    "EMAIL_USE_TLS": getattr(s, "EMAIL_USE_TLS", False),
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": s.SESSION_COOKIE_HTTPONLY,
    "SESSION_COOKIE_SAMESITE": s.SESSION_COOKIE_SAMESITE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "CSRF_COOKIE_HTTPONLY": s.CSRF_COOKIE_HTTPONLY,
    "CSRF_TRUSTED_ORIGINS": s.CSRF_TRUSTED_ORIGINS,
    "STATICFILES_STORAGE": s.STORAGES["staticfiles"]["BACKEND"],
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "health_status": health.status_code,
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csp": secure.get("Content-Security-Policy", ""),
    "frame": secure.get("X-Frame-Options", ""),
}))
"""


def load_settings(env: dict, tmp_path, probe: str = "/accounts/login/") -> dict:
    """Import the settings in a new process with exactly `env` (plus PATH) and report them, with
    the responses to a plain-HTTP request for `probe` and to secure requests for /healthz."""
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS, probe],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "cxprogram.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def csp_directives(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_production_settings_pass_the_deploy_check_with_no_warning(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **PRODUCTION},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_cookies_transport_security_and_content_policy(tmp_path):
    prod = load_settings(PRODUCTION, tmp_path)

    assert prod["DEBUG"] is False
    assert prod["ENGINE"] == "cxprogram.postgresql"  # Django's, with the quiet-socket health check
    assert (prod["CELERY_TASK_ALWAYS_EAGER"], prod["CELERY_BROKER_URL"]) == (False, "redis://redis.internal:6379/0")
    assert prod["CACHE"] == "django.core.cache.backends.redis.RedisCache"
    assert prod["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (prod["EMAIL_HOST"], prod["EMAIL_PORT"], prod["EMAIL_USE_TLS"]) == ("smtp.example.com", 587, True)
    assert prod["SESSION_COOKIE_SECURE"] and prod["SESSION_COOKIE_HTTPONLY"]
    assert prod["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod["CSRF_COOKIE_SECURE"] and prod["CSRF_COOKIE_HTTPONLY"]
    assert prod["CSRF_TRUSTED_ORIGINS"] == ["https://cx.example.com"]
    assert prod["STATICFILES_STORAGE"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    # Plain HTTP is redirected to HTTPS, except the health probes.
    assert (prod["plain_status"], prod["plain_location"]) == (301, "https://cx.example.com/accounts/login/")
    assert prod["health_status"] == 200
    assert prod["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert prod["frame"] == "DENY"
    policy = csp_directives(prod["csp"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in prod["csp"] and "'unsafe-eval'" not in prod["csp"]


def test_the_embedded_default_needs_no_configuration(tmp_path):
    # /healthz touches no database, so the checkout's SQLite file is not created by the test.
    embedded = load_settings({}, tmp_path, probe="/healthz")

    assert embedded["DEBUG"] is True
    assert embedded["ENGINE"] == "django.db.backends.sqlite3"
    assert embedded["DB_NAME"] == str(settings.BASE_DIR / "db.sqlite3")
    assert embedded["CELERY_TASK_ALWAYS_EAGER"] is True
    assert embedded["CELERY_BROKER_URL"] == "memory://"
    assert embedded["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"
    assert embedded["EMAIL_BACKEND"] == "cxprogram.core.mail.OutboxBackend"
    assert embedded["SESSION_COOKIE_SECURE"] is False  # http://127.0.0.1:8000 must work
    assert embedded["plain_status"] == 200


def test_smtp_settings_without_an_email_url(tmp_path):
    env = {**PRODUCTION, "EMAIL_HOST": "relay.internal", "EMAIL_PORT": "2525", "EMAIL_USE_TLS": "true"}
    del env["EMAIL_URL"]

    loaded = load_settings(env, tmp_path)

    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (loaded["EMAIL_HOST"], loaded["EMAIL_PORT"], loaded["EMAIL_USE_TLS"]) == ("relay.internal", 2525, True)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=", re.I)


@pytest.mark.django_db
def test_every_response_carries_the_strict_policy_and_pages_obey_it(client, owner_client, org, settings):
    settings.ACCOUNT_RATE_LIMITS = False
    pages = [
        client.get("/"),
        client.get(reverse("account_login")),
        client.get(reverse("account_signup")),
        client.get(reverse("account_reset_password")),
        owner_client.get(reverse("org_home", args=[org.slug])),
        owner_client.get(reverse("org_members", args=[org.slug])),
        owner_client.get(reverse("org_settings", args=[org.slug])),
        owner_client.get(reverse("org_units", args=[org.slug])),
        owner_client.get(reverse("org_audit", args=[org.slug])),
        owner_client.get(reverse("organization_create")),
        owner_client.get(reverse("api_tokens")),
        owner_client.get(reverse("account_email")),
        owner_client.get(reverse("mfa_index")),
        owner_client.get(reverse("api_docs")),
        owner_client.get(reverse("api_redoc")),
        owner_client.get("/o/no-such-org/"),
    ]
    make_user("csp@example.com")
    pages.append(client.post(reverse("account_login"), {"login": "csp@example.com", "password": "wrong-" + PASSWORD}))

    for response in pages:
        assert response.status_code in (200, 404), response
        policy = csp_directives(response["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
        assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html).group(0)
        assert not INLINE_STYLE.search(html), INLINE_STYLE.search(html).group(0)


def test_the_readme_documents_every_setting_read_from_the_environment():
    source = (settings.BASE_DIR / "cxprogram" / "settings.py").read_text()
    read = set(re.findall(r"""env(?:\.[a-z_]+)?\(\s*["']([A-Z_]+)["']""", source))
    readme = (settings.BASE_DIR / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z_]+)`", row.split("|")[1])
    }

    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SITE_URL"} <= read
    assert read - documented == set(), "add these to the README's configuration table"
    assert documented - read == set(), "the README documents settings that settings.py no longer reads"


def test_the_readme_lists_the_demo_logins():
    from cxprogram.core.demo import DEMO_PASSWORD, demo_logins

    readme = (settings.BASE_DIR / "README.md").read_text()

    assert f"**`{DEMO_PASSWORD}`**" in readme
    for email, name, _ in demo_logins():
        assert f"| `{email}` | {name} |" in readme, email
