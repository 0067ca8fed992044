"""The app shell: navigation by role, the organization switcher, the friendly error pages, the dev
outbox, and front-end assets that all come from /static/."""

import posixpath
import re
import urllib.request
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from cxprogram.core.models import OutboxMessage
from cxprogram.tenancy.permissions import Role
from tests.factories import add_member, make_org

pytestmark = pytest.mark.django_db


class Links(HTMLParser):
    """The sidebar's section links, the switcher's links, and every asset the page loads."""

    def __init__(self):
        super().__init__()
        self.nav, self.switcher, self.assets = [], [], []
        self._in = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "nav" and a.get("aria-label") == "Sections":
            self._in.append("nav")
        elif tag == "details" and "org-switcher" in a.get("class", ""):
            self._in.append("switcher")
        elif tag == "a" and self._in:
            (self.nav if self._in[-1] == "nav" else self.switcher).append((a["href"], a.get("aria-current")))
            self._label_for = self._in[-1]
        if tag == "script" and a.get("src"):
            self.assets.append(a["src"])
        if tag == "link" and a.get("rel") in ("stylesheet", "preload", "icon"):
            self.assets.append(a["href"])

    def handle_endtag(self, tag):
        if (tag == "nav" and self._in[-1:] == ["nav"]) or (tag == "details" and self._in[-1:] == ["switcher"]):
            self._in.pop()

    def handle_data(self, data):
        if self._in and getattr(self, "_label_for", None) and data.strip():
            target = self.nav if self._label_for == "nav" else self.switcher
            href, current = target[-1]
            target[-1] = (href, current, data.strip())
            self._label_for = None


def parse(response) -> Links:
    links = Links()
    links.feed(response.content.decode())
    return links


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def nav_labels(client, org) -> list[str]:
    return [label for _, _, label in parse(client.get(reverse("org_home", args=[org.slug]))).nav]


def test_navigation_follows_the_roles(org, member):
    assert nav_labels(client_for(member(Role.STAFF)), org) == ["Home", "Charter", "Initiatives", "Settings"]
    assert nav_labels(client_for(member(Role.PROJECT_MANAGER)), org) == [
        "Home",
        "Charter",
        "Feedback",
        "Initiatives",
        "Settings",
    ]
    for role in (Role.CX_COE, Role.EXECUTIVE, Role.ADMIN, Role.UNIT_LEADER):
        assert nav_labels(client_for(member(role)), org) == [
            "Home",
            "Charter",
            "Feedback",
            "Initiatives",
            "Dashboards",
            "Settings",
        ], role


def test_the_current_section_is_marked(owner_client, org):
    links = parse(owner_client.get(reverse("org_members", args=[org.slug])))

    assert [label for _, current, label in links.nav if current == "page"] == ["Settings"]
    links = parse(owner_client.get(reverse("org_home", args=[org.slug])))
    assert [label for _, current, label in links.nav if current == "page"] == ["Home"]


def test_a_staff_member_cannot_open_dashboards_or_the_audit_log(teammate_client, org):
    for url in (reverse("metrics:index", args=[org.slug]), reverse("org_audit", args=[org.slug])):
        response = teammate_client.get(url)
        assert response.status_code == 403
        page = response.content.decode()
        assert "Your role does not allow this" in page
        assert "Ask an admin of your organization if you need access." in page


def test_the_switcher_lists_every_organization_of_the_person(owner, org, other_org):
    add_member(other_org, [Role.STAFF], user=owner.user)
    third = make_org("Initech", slug="initech")
    gone = add_member(third, [Role.EXECUTIVE], user=owner.user)
    gone.is_active = False
    gone.save()
    client = client_for(owner)

    switcher = parse(client.get(reverse("org_home", args=["globex"]))).switcher

    assert switcher == [
        ("/o/acme/", None, "Acme Consulting"),
        ("/o/globex/", "true", "Globex"),
        (reverse("organization_create"), None, "+ New organization"),
    ]
    response = client.get("/")
    assert response.url == reverse("organization_list")
    listed = client.get(response.url).content.decode()
    assert "Acme Consulting" in listed and "Globex" in listed and "Initech" not in listed


def test_the_switcher_costs_the_same_however_many_organizations(owner, org, django_assert_max_num_queries):
    client = client_for(owner)
    url = reverse("org_home", args=[org.slug])
    client.get(url)
    with django_assert_max_num_queries(100) as one:
        client.get(url)
    for n in range(6):
        add_member(make_org(f"Sister {n}"), [Role.ADMIN], user=owner.user)

    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(url)

    assert len(parse(page).switcher) == 8


def test_not_found_pages_are_the_friendly_ones(owner_client, outsider_client, org, client):
    outsider = outsider_client.get(reverse("org_home", args=[org.slug]))
    for response in (
        outsider,
        owner_client.get("/o/no-such-org/"),
        owner_client.get(reverse("org_member_edit", args=[org.slug, 999999])),
        client.get("/nothing-here/"),
    ):
        assert response.status_code == 404
        page = response.content.decode()
        assert "We could not find that page" in page
        assert "may belong to an organization you are not a member of" in page
    # Nothing about the other tenant leaks into the outsider's page.
    assert "Acme Consulting" not in outsider.content.decode()


def test_the_server_error_page_renders_without_a_database_or_context():
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert 'href="/static/css/app.css"' in page


def outbox_settings(settings):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "cxprogram.core.mail.OutboxBackend"


def test_the_dev_outbox_lists_sent_mail_with_clickable_links(settings, org, owner):
    outbox_settings(settings)
    from cxprogram.tenancy import services

    invitation = services.invite_member(organization=org, actor=owner.user, email="new@example.com", roles=["staff"])
    services.mail_invitation(invitation)
    client = Client()

    listing = client.get(reverse("dev_outbox"))

    assert listing.status_code == 200
    kept = OutboxMessage.objects.get()
    assert kept.to == "new@example.com"
    assert "Acme Consulting" in kept.subject
    assert kept.subject in listing.content.decode()
    page = client.get(reverse("dev_outbox_message", args=[kept.pk])).content.decode()
    link = services.invitation_url(invitation)
    assert f'<a href="{link}"' in page
    html = client.get(reverse("dev_outbox_message_html", args=[kept.pk])).content.decode()
    assert "Accept the invitation" in html


def test_the_dev_outbox_is_not_there_without_debug(settings):
    settings.EMAIL_BACKEND = "cxprogram.core.mail.OutboxBackend"
    settings.DEBUG = False
    message = OutboxMessage.objects.create(to="x@example.com", from_email="cx@example.com", subject="Hi", body_text="")

    for url in (
        reverse("dev_outbox"),
        reverse("dev_outbox_message", args=[message.pk]),
        reverse("dev_outbox_message_html", args=[message.pk]),
    ):
        assert Client().get(url).status_code == 404


def test_the_dev_outbox_is_not_there_with_a_real_mail_backend(settings):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    assert Client().get(reverse("dev_outbox")).status_code == 404
    assert mail.outbox == []


EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']\s*(?:https?:)?//""", re.I)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)|@import\s+["']([^"']+)""", re.I)


def test_pages_load_their_scripts_styles_and_fonts_from_static_only(owner_client, org, client, settings):
    settings.ACCOUNT_RATE_LIMITS = False
    pages = [
        client.get("/"),
        client.get(reverse("account_login")),
        client.get(reverse("account_signup")),
        owner_client.get(reverse("org_home", args=[org.slug])),
        owner_client.get(reverse("org_members", args=[org.slug])),
        owner_client.get(reverse("org_audit", args=[org.slug])),
        owner_client.get(reverse("mfa_index")),
        owner_client.get(reverse("api_docs")),
        owner_client.get(reverse("api_redoc")),
    ]
    assets = set()
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        links = parse(response)
        assert not EXTERNAL.search(html), EXTERNAL.search(html).group(0)
        for asset in links.assets:
            # Same origin: static files, or the API docs page's own generated script.
            assert asset.startswith(("/static/", "data:", "/api/docs/?script=")), asset
        assets.update(a for a in links.assets if a.startswith("/static/"))

    assert {"/static/css/app.css", "/static/vendor/htmx/htmx.min.js", "/static/js/app.js"} <= assets
    stylesheet = finders.find("css/app.css")
    with open(stylesheet) as handle:
        css = handle.read()
    referenced = [a or b for a, b in CSS_URL.findall(css) if not (a or b).startswith("data:")]
    assert referenced, "app.css loads its fonts"
    for url in referenced:
        assert not re.match(r"(?:https?:)?//", url), url
        assert finders.find(posixpath.normpath(posixpath.join("css", url))), url


@pytest.mark.django_db(transaction=True)
def test_htmx_fonts_and_css_are_served_from_static(live_server):
    for path, content_type in [
        ("/static/vendor/htmx/htmx.min.js", "javascript"),
        ("/static/css/app.css", "text/css"),
        ("/static/fonts/inter-latin-400-normal.woff2", "font/woff2"),
        ("/static/fonts/dancing-script-latin-400-normal.woff2", "font/woff2"),
        ("/static/js/app.js", "javascript"),
    ]:
        with urllib.request.urlopen(live_server.url + path, timeout=10) as response:  # noqa: S310
            assert response.status == 200, path
            assert content_type in response.headers["Content-Type"], (path, response.headers["Content-Type"])
            assert len(response.read()) > 500, path


@pytest.mark.django_db
def test_pages_show_times_in_the_organization_time_zone(owner_client, org, owner):
    from datetime import UTC, datetime

    from cxprogram.audit.models import AuditEvent

    org.time_zone = "Asia/Tokyo"
    org.save()
    AuditEvent.objects.create(
        organization=org, actor=owner.user, verb="tz.check", created_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    )
    body = owner_client.get(f"/o/{org.slug}/audit/").content.decode()
    assert "2 Mar 2026 08:30" in body  # 23:30 UTC is 08:30 the next morning in Tokyo
