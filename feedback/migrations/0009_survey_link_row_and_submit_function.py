"""The public survey's two statements, as PostgreSQL functions.

`feedback_survey_link` reads a link: the few columns the public pages show, as one row (0005's version
returned ten whole rows as JSON, and turning those into model instances cost the page more than its own
work). `feedback_submit_answers` is the whole submit in one statement: it finds the link, refuses a
closed one or answers to another version's questions, records or updates the one response, marks the
request answered and writes the audit row (the ORM does the same in `services._submit_through_orm`).

A link is read before its organization is known, so both pass row-level security: SECURITY DEFINER runs
them as the tables' owner, and they touch only the request whose token hash they are given. Both make
that request's organization current for the transaction, so what the caller does next in it (opening a
follow-up case, saving a draft) passes RLS as usual. PL/pgSQL keeps each query's plan for the session."""

from django.db import migrations

# services.link_closed, in SQL: `r` a request, `b` its batch, `at` the moment.
CLOSED = (
    "(r.revoked_at IS NOT NULL OR r.state NOT IN ('sent', 'sending') OR coalesce(r.expires_at <= {at}, false) "
    "OR b.state IN ('closed', 'cancelled'))"
)

LINK = """
CREATE FUNCTION feedback_survey_link(p_token_hash text) RETURNS TABLE (
  request_id bigint, organization_id bigint, organization_name text, organization_logo text,
  project_name text, sender_name text, contact_id bigint, contact_language text, template_version_id bigint,
  closed boolean, answered boolean, will_contact boolean, saved_answers jsonb
)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
#variable_conflict use_column
BEGIN
  SELECT r.id, r.organization_id, o.name, o.logo, p.name,
         coalesce(nullif(u.full_name, ''), nullif(btrim(u.first_name || ' ' || u.last_name), ''), u.email),
         r.contact_id, c.language, b.template_version_id, %(closed)s,
         resp.id IS NOT NULL,
         resp.id IS NOT NULL AND (resp.follow_up_requested
           OR EXISTS (SELECT 1 FROM feedback_followupcase fc WHERE fc.response_id = resp.id)),
         coalesce(resp.answers, r.draft_answers)
    INTO request_id, organization_id, organization_name, organization_logo, project_name, sender_name,
         contact_id, contact_language, template_version_id, closed, answered, will_contact, saved_answers
    FROM feedback_surveyrequest r
    JOIN tenancy_organization o ON o.id = r.organization_id
    JOIN feedback_contact c ON c.id = r.contact_id
    JOIN feedback_project p ON p.id = r.project_id
    JOIN feedback_batch b ON b.id = r.batch_id
    JOIN tenancy_membership m ON m.id = b.sender_id
    JOIN accounts_user u ON u.id = m.user_id
    LEFT JOIN feedback_response resp ON resp.request_id = r.id
   WHERE r.token_hash = p_token_hash
   LIMIT 1;
  IF FOUND THEN
    PERFORM set_config('app.current_org', organization_id::text, true);
    RETURN NEXT;
  END IF;
END
$$;
""" % {"closed": CLOSED.format(at="now()")}

SUBMIT = """
CREATE FUNCTION feedback_submit_answers(
  p_token_hash text, p_template_version_id bigint, p_nps_score integer, p_answers jsonb,
  p_follow_up_requested boolean, p_now timestamptz
) RETURNS TABLE (outcome text, response_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
  link record;
BEGIN
  SELECT r.id, r.organization_id, r.batch_id, r.contact_id, r.project_id, p.client_id, p.project_manager_id,
         coalesce(p.unit_id, cl.unit_id) AS unit_id, p.code, c.kind, c.language, b.template_version_id,
         %(closed)s AS closed
    INTO link
    FROM feedback_surveyrequest r
    JOIN feedback_project p ON p.id = r.project_id
    JOIN feedback_client cl ON cl.id = p.client_id
    JOIN feedback_contact c ON c.id = r.contact_id
    JOIN feedback_batch b ON b.id = r.batch_id
   WHERE r.token_hash = p_token_hash
   LIMIT 1;
  IF NOT FOUND THEN
    outcome := 'unknown';
  ELSIF link.closed THEN
    outcome := 'closed';
  ELSIF link.template_version_id <> p_template_version_id THEN
    outcome := 'stale';
  END IF;
  IF outcome IS NOT NULL THEN
    RETURN NEXT;
    RETURN;
  END IF;
  PERFORM set_config('app.current_org', link.organization_id::text, true);
  -- A second submit of the link (or two at once: the later one waits for the first to commit, then
  -- finds its row) updates the one response.
  INSERT INTO feedback_response (organization_id, request_id, batch_id, contact_id, client_id, project_id,
      project_manager_id, unit_id, contact_kind, template_version_id, language, nps_score, answers,
      follow_up_requested, submitted_at, updated_at)
    VALUES (link.organization_id, link.id, link.batch_id, link.contact_id, link.client_id, link.project_id,
      link.project_manager_id, link.unit_id, link.kind, p_template_version_id, link.language, p_nps_score,
      p_answers, p_follow_up_requested, p_now, p_now)
    ON CONFLICT (request_id) DO NOTHING
    RETURNING id INTO response_id;
  IF response_id IS NOT NULL THEN
    outcome := 'created';
  ELSE
    UPDATE feedback_response
       SET nps_score = p_nps_score, answers = p_answers, follow_up_requested = p_follow_up_requested,
           language = link.language, updated_at = p_now
     WHERE request_id = link.id
    RETURNING id INTO response_id;
    outcome := 'updated';
  END IF;
  UPDATE feedback_surveyrequest SET responded_at = coalesce(responded_at, p_now), next_reminder_at = NULL
   WHERE id = link.id;
  INSERT INTO audit_auditevent (organization_id, actor_id, actor_label, verb, target_type, target_id, target_label,
      payload, ip_address, created_at)
    VALUES (link.organization_id, NULL, '',
      CASE outcome WHEN 'created' THEN 'response.submitted' ELSE 'response.updated' END,
      'feedback.response', response_id::text,
      'Response ' || response_id || ' (' || coalesce(p_nps_score::text, '–') || ')',
      jsonb_build_object('nps', p_nps_score, 'project', link.code), NULL, p_now);
  RETURN NEXT;
END
$$;
""" % {"closed": CLOSED.format(at="p_now")}

DROP = """
DROP FUNCTION IF EXISTS feedback_survey_link(text);
DROP FUNCTION IF EXISTS feedback_submit_answers(text, bigint, integer, jsonb, boolean, timestamptz);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
        schema_editor.execute(LINK)
        schema_editor.execute(SUBMIT)


def restore_json_link(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from importlib import import_module

        schema_editor.execute(DROP)
        schema_editor.execute(import_module("feedback.migrations.0005_survey_link_function").CREATE)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0008_organization_indexed_by_its_composites")]

    operations = [migrations.RunPython(create, restore_json_link)]
