"""Shared fixtures. The base cast, after healthchecks' test case: an `owner` (admin) and a `teammate`
(staff) in `org`, and an `outsider` who administers another organization, `other_org`."""

import pytest
from django.test import Client

from cxprogram.tenancy.permissions import Role
from tests.factories import add_member, make_org, make_user

pytest_plugins = ["tests.fixtures.mail", "tests.fixtures.worker", "tests.fixtures.browser"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Real hashing costs ~0.3 s a password; tests are about behaviour, not key stretching.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_rate_limit_hits_yet():
    """Rate-limit counters live for a minute in Redis (or the local cache), longer than a test: each test
    starts with none, so a limit trips where its test says, not where earlier tests' requests add up."""
    from django.core.cache import cache

    from cxprogram.core import ratelimit

    count_hits = ratelimit._count_hits()
    if count_hits is None:
        cache.clear()
    else:
        keys = list(count_hits.registered_client.scan_iter(ratelimit.KEY_PREFIX + "*"))
        if keys:
            count_hits.registered_client.delete(*keys)


@pytest.fixture
def org(db):
    return make_org("Acme Consulting", slug="acme")


@pytest.fixture
def owner(org):
    return add_member(org, [Role.ADMIN], user=make_user("owner@acme.example", "Olivia Owner"))


@pytest.fixture
def teammate(org):
    return add_member(org, [Role.STAFF], user=make_user("teammate@acme.example", "Theo Teammate"))


@pytest.fixture
def other_org(db):
    return make_org("Globex", slug="globex")


@pytest.fixture
def outsider(other_org):
    return add_member(other_org, [Role.ADMIN], user=make_user("outsider@globex.example", "Oscar Outsider"))


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture
def teammate_client(teammate):
    return client_for(teammate)


@pytest.fixture
def outsider_client(outsider):
    return client_for(outsider)


@pytest.fixture
def member(org):
    """Make a member with the given roles: member(Role.EXECUTIVE, Role.CX_COE)."""

    def make(*roles, **fields):
        return add_member(org, roles or [Role.STAFF], **fields)

    return make


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL (row-level security, triggers). CI always runs on
    PostgreSQL; a quick local run on SQLite leaves them out and says so."""
    from django.conf import settings

    if settings.IS_POSTGRES:
        return
    selected = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(selected) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in selected])
        items[:] = selected
