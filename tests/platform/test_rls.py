"""PostgreSQL row-level security: the backstop behind the explicit tenant scoping.

RLS binds roles that are neither superusers nor the tables' owner, so the test queries as such a role,
as production's app role would."""

import psycopg
import pytest
from django.db import connection

from cxprogram.core import tokens
from cxprogram.tenancy.models import Membership
from cxprogram.tenancy.permissions import Role
from cxprogram.tenancy.rls import tenant_models
from feedback.models import Response, SurveyRequest
from tests.factories import add_member, make_org

# The probe is a second connection, so the rows must be committed.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

PROBE_ROLE = "cx_rls_probe"


@pytest.fixture
def probe_role():
    if connection.vendor != "postgresql":
        pytest.fail("row-level security tests need PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute(
            f"DO $$ BEGIN CREATE ROLE {PROBE_ROLE} NOSUPERUSER NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {PROBE_ROLE}")
        cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {PROBE_ROLE}")
    return PROBE_ROLE


def probe_connection() -> psycopg.Connection:
    """A fresh connection to the test database that acts as the probe role: no tenant set."""
    s = connection.settings_dict
    conn = psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        host=s["HOST"] or "localhost",
        port=s["PORT"] or 5432,
    )
    conn.execute(f"SET ROLE {PROBE_ROLE}")
    return conn


def count_as_probe(table: str, **config) -> int:
    with probe_connection() as conn, conn.transaction():
        for name, value in config.items():
            conn.execute("SELECT set_config(%s, %s, true)", [name, value])
        return conn.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}").fetchone()[0]


@pytest.fixture
def two_tenants():
    a, b = make_org("Alpha"), make_org("Beta")
    add_member(a, [Role.ADMIN])
    add_member(a, [Role.STAFF])
    add_member(b, [Role.ADMIN])
    return a, b


def test_every_tenant_table_has_row_level_security_enabled(probe_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r'")
        protected = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation'")
        with_policy = {row[0] for row in cursor.fetchall()}
    tables = {m._meta.db_table for m in tenant_models()}
    assert tables - protected == set()
    assert tables - with_policy == set()


def test_raw_sql_without_the_tenant_set_sees_no_rows(probe_role, two_tenants):
    table = Membership._meta.db_table
    assert Membership.objects.count() == 3  # the owner (superuser) sees everything
    assert count_as_probe(table) == 0


def test_raw_sql_with_a_tenant_set_sees_only_that_tenant(probe_role, two_tenants):
    a, b = two_tenants
    table = Membership._meta.db_table
    assert count_as_probe(table, **{"app.current_org": str(a.pk)}) == 2
    assert count_as_probe(table, **{"app.current_org": str(b.pk)}) == 1


def test_the_system_scope_setting_sees_every_tenant(probe_role, two_tenants):
    assert count_as_probe(Membership._meta.db_table, **{"app.rls_bypass": "on"}) == 3


def test_a_row_for_another_tenant_cannot_be_written(probe_role, two_tenants):
    a, b = two_tenants
    member = Membership.objects.filter(organization=b).first()
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE ON {Membership._meta.db_table} TO {PROBE_ROLE}")
    with probe_connection() as conn, conn.transaction():
        conn.execute("SELECT set_config('app.current_org', %s, true)", [str(a.pk)])
        updated = conn.execute(f"UPDATE {Membership._meta.db_table} SET title = 'hijacked' WHERE id = %s", [member.pk])
        assert updated.rowcount == 0
    member.refresh_from_db()
    assert member.title == ""


def test_a_survey_link_is_read_and_answered_across_tenants_only_through_its_token(probe_role, two_tenants):
    """The public survey reads and answers a link before its organization is known: its functions pass
    row-level security for the one request whose token hash they are given (the look-up and the submit
    make its organization current for the transaction), while the tables stay closed to the app role."""
    from feedback import services
    from tests.feedback.factories import make_account, make_pm

    a, _ = two_tenants
    pm = make_pm(a, email="paula@alpha.example")
    _, people, project = make_account(a, pm, contacts=1)
    batch = services.create_batch(organization=a, actor=pm.user, sender=pm, projects=[project], contacts=people)
    nonce = tokens.new_nonce()
    request = SurveyRequest.objects.create(
        organization=a,
        batch=batch,
        contact=people[0],
        project=project,
        nonce=nonce,
        state=SurveyRequest.State.SENT,
        token_hash=tokens.hash_token(tokens.make_token(services.TOKEN_PURPOSE, nonce)),
    )
    read = "SELECT request_id, organization_name, sender_name FROM feedback_survey_link(%s)"
    submit = "SELECT outcome FROM feedback_submit_answers(%s, %s, 9, '{\"nps\": 9}', false, now())"
    with probe_connection() as conn:
        with conn.transaction():
            link = conn.execute(read, [request.token_hash]).fetchone()
            current = conn.execute("SELECT current_setting('app.current_org', true)").fetchone()[0]
            unknown = conn.execute(read, ["0" * 64]).fetchone()
        with conn.transaction():
            draft = "SELECT feedback_save_draft(%s, %s, '{\"nps\": 7}', now())"
            saved = conn.execute(draft, [request.token_hash, batch.template_version_id]).fetchone()[0]
        with conn.transaction():
            outcome = conn.execute(submit, [request.token_hash, batch.template_version_id]).fetchone()[0]
            answered_in = conn.execute("SELECT current_setting('app.current_org', true)").fetchone()[0]
    assert link == (request.pk, "Alpha", pm.user.display_name)
    assert current == str(a.pk) and unknown is None
    assert (saved, outcome, answered_in) == ("saved", "created", str(a.pk))
    assert Response.objects.get().request_id == request.pk
    assert count_as_probe(SurveyRequest._meta.db_table) == 0
    assert count_as_probe(Response._meta.db_table) == 0
