"""Kept database connections between requests: one that the server ended is replaced before the next
request uses it, and a healthy one is reused without a `SELECT 1` round trip first."""

import select
import time

import pytest
from django.db import connection, connections

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def kept():
    """A second connection to the test database, kept between 'requests' as gunicorn's threads keep theirs."""
    if connection.vendor != "postgresql":
        pytest.fail("these tests are about PostgreSQL connections")
    kept = connections.create_connection("default")
    kept.connect()
    yield kept
    kept.close()


def next_request(kept) -> int:
    """What a request does with the kept connection: Django's start-of-request bookkeeping, then a query."""
    kept.close_if_unusable_or_obsolete()
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def count_pings(kept, monkeypatch) -> list:
    pings = []
    real = type(kept).is_usable
    monkeypatch.setattr(kept, "is_usable", lambda: pings.append(1) or real(kept))
    return pings


def test_a_healthy_kept_connection_is_reused_without_a_ping(kept, monkeypatch):
    pings = count_pings(kept, monkeypatch)
    first = next_request(kept)

    assert [next_request(kept) for _ in range(3)] == [first] * 3
    assert pings == []


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(kept, monkeypatch):
    pings = count_pings(kept, monkeypatch)
    ended = next_request(kept)
    with connection.cursor() as cursor:  # as a restart does to every session
        cursor.execute("SELECT pg_terminate_backend(%s)", [ended])
    deadline = time.monotonic() + 5
    while not select.select([kept.connection.fileno()], [], [], 0.1)[0] and time.monotonic() < deadline:
        pass  # the server's goodbye is on its way

    replacement = next_request(kept)

    assert replacement != ended
    assert pings == [1]
