"""On PostgreSQL, the database itself refuses to change a frozen charter version's content or a
recorded signature: the model layer refuses too, but a trigger also stops raw SQL and other code
paths. (SQLite, the embedded default, relies on the model layer and verification.)"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION charters_refuse_frozen_version_change() RETURNS trigger AS $$
BEGIN
    IF OLD.frozen_at IS NOT NULL AND (
        NEW.title IS DISTINCT FROM OLD.title
        OR NEW.content IS DISTINCT FROM OLD.content
        OR NEW.matrix IS DISTINCT FROM OLD.matrix
        OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
        OR NEW.frozen_at IS DISTINCT FROM OLD.frozen_at
        OR NEW.number IS DISTINCT FROM OLD.number
        OR NEW.charter_id IS DISTINCT FROM OLD.charter_id
        OR NEW.organization_id IS DISTINCT FROM OLD.organization_id
    ) THEN
        RAISE EXCEPTION 'charter version % is frozen: its content cannot change', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER charters_version_frozen
    BEFORE UPDATE ON charters_charterversion
    FOR EACH ROW EXECUTE FUNCTION charters_refuse_frozen_version_change();

CREATE OR REPLACE FUNCTION charters_refuse_signature_change() RETURNS trigger AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL AND (
        NEW.signed_at IS DISTINCT FROM OLD.signed_at
        OR NEW.status IS DISTINCT FROM OLD.status
        OR NEW.signer_name IS DISTINCT FROM OLD.signer_name
        OR NEW.ip_address IS DISTINCT FROM OLD.ip_address
        OR NEW.user_agent IS DISTINCT FROM OLD.user_agent
        OR NEW.version_hash IS DISTINCT FROM OLD.version_hash
        OR NEW.consent_text IS DISTINCT FROM OLD.consent_text
        OR NEW.method IS DISTINCT FROM OLD.method
        OR NEW.typed_name IS DISTINCT FROM OLD.typed_name
        OR NEW.signature_svg IS DISTINCT FROM OLD.signature_svg
        OR NEW.membership_id IS DISTINCT FROM OLD.membership_id
        OR NEW.request_id IS DISTINCT FROM OLD.request_id
    ) THEN
        RAISE EXCEPTION 'signature % is recorded: it cannot change', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER charters_signature_recorded
    BEFORE UPDATE ON charters_signer
    FOR EACH ROW EXECUTE FUNCTION charters_refuse_signature_change();
"""

DROP = """
DROP TRIGGER IF EXISTS charters_signature_recorded ON charters_signer;
DROP FUNCTION IF EXISTS charters_refuse_signature_change();
DROP TRIGGER IF EXISTS charters_version_frozen ON charters_charterversion;
DROP FUNCTION IF EXISTS charters_refuse_frozen_version_change();
"""


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)  # no parameters: the "%" in RAISE messages stays as is

    return operation


class Migration(migrations.Migration):
    dependencies = [("charters", "0001_initial")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
