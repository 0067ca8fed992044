"""The survey link look-up as one PostgreSQL function: the public pages' hottest read.

A link is looked up before its organization is known, so the read must pass row-level security.
SECURITY DEFINER runs it as the tables' owner (whom RLS does not bind); it returns at most the one
request whose token hash is given, with what the public pages show and the submit writes, as JSON.
PL/pgSQL keeps the query's plan for the session, so the six-table join is planned once per connection.
The sender's user carries only the fields a page shows (never the password hash)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION feedback_survey_link(p_token_hash text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  RETURN (
    SELECT jsonb_build_object(
      'request', to_jsonb(r), 'organization', to_jsonb(o), 'contact', to_jsonb(c), 'project', to_jsonb(p),
      'client', to_jsonb(cl), 'batch', to_jsonb(b), 'template_version', to_jsonb(v), 'sender', to_jsonb(m),
      'sender_user', jsonb_build_object(
        'id', u.id, 'email', u.email, 'full_name', u.full_name, 'first_name', u.first_name, 'last_name', u.last_name
      ),
      'response', to_jsonb(resp)
    )
    FROM feedback_surveyrequest r
    JOIN tenancy_organization o ON o.id = r.organization_id
    JOIN feedback_contact c ON c.id = r.contact_id
    JOIN feedback_project p ON p.id = r.project_id
    JOIN feedback_client cl ON cl.id = p.client_id
    JOIN feedback_batch b ON b.id = r.batch_id
    JOIN feedback_surveytemplateversion v ON v.id = b.template_version_id
    JOIN tenancy_membership m ON m.id = b.sender_id
    JOIN accounts_user u ON u.id = m.user_id
    LEFT JOIN feedback_response resp ON resp.request_id = r.id
    WHERE r.token_hash = p_token_hash
    LIMIT 1
  );
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS feedback_survey_link(text);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0004_request_queue_index")]

    operations = [migrations.RunPython(create, drop)]
