"""The current organization, per request and per task.

A `contextvars` variable holds it (so threads and async tasks each see their own), and on PostgreSQL
the same organization id is set for the transaction (`set_config(..., true)`), which the row-level
security policies read. Querysets and services still take the organization explicitly: this is the
backstop, not the mechanism.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connection

_current = ContextVar("current_organization", default=None)


def get_current_organization():
    return _current.get()


def _set_db(name: str, value: str) -> None:
    if settings.IS_POSTGRES and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def activate(organization, in_database: bool = True) -> None:
    """Make `organization` current for the rest of this request or task (and its transaction).
    in_database=False when the query that found it has already set it for the transaction."""
    _current.set(organization)
    if in_database:
        _set_db("app.current_org", str(organization.pk))


def deactivate() -> None:
    _current.set(None)


@contextmanager
def use_organization(organization):
    """Run a block (a task, a command) for one organization, in its own transaction."""
    from django.db import transaction

    token = _current.set(organization)
    try:
        with transaction.atomic():
            _set_db("app.current_org", str(organization.pk))
            yield organization
    finally:
        _current.reset(token)


@contextmanager
def system_scope():
    """Cross-tenant work that is allowed to see every organization's rows: a person's own
    memberships across organizations, token look-ups for public links, periodic sweeps that then
    switch to each organization. Keep these blocks small and their filters explicit."""
    from django.db import transaction

    with transaction.atomic():
        _set_db("app.rls_bypass", "on")
        try:
            yield
        finally:
            _set_db("app.rls_bypass", "off")
