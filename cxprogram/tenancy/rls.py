"""PostgreSQL row-level security on every tenant table: the backstop behind the explicit scoping.

The policy admits a row when its organization is the one the app set for the transaction
(`app.current_org`), or inside an explicit system scope (`app.rls_bypass`). With neither set it
admits nothing (fail closed). RLS binds roles that are neither superusers nor the table's owner:
production runs the app as such a role and migrations as the owner (see README, "Tenancy").
Applied after every migrate, so later apps' tables are covered without extra work.
"""

from django.apps import apps
from django.db import connection

POLICY = "tenant_isolation"
CONDITION = (
    "current_setting('app.rls_bypass', true) = 'on' OR "
    "organization_id = NULLIF(current_setting('app.current_org', true), '')::bigint"
)


def tenant_models():
    from .models import TenantModel

    return [m for m in apps.get_models() if issubclass(m, TenantModel) and not m._meta.proxy]


def apply_row_level_security(sender=None, using="default", **kwargs):
    if sender is not None and sender.label != "tenancy":
        return  # post_migrate is sent once per app after all migrations ran: apply once
    if connection.vendor != "postgresql":
        return  # SQLite (the embedded default) has no row-level security
    with connection.cursor() as cursor:
        for model in tenant_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            cursor.execute(f"CREATE POLICY {POLICY} ON {table} USING ({CONDITION}) WITH CHECK ({CONDITION})")
