"""Autosave in one statement, as the submit is (0009): `feedback_save_draft` finds the link, refuses a
closed one or answers to another version's questions, and keeps the draft. A client's survey autosaves
at every change, so this is the public request clients send most. SECURITY DEFINER like 0009's
functions, for the one link of the token hash it is given."""

from importlib import import_module

from django.db import migrations

CLOSED = import_module("feedback.migrations.0009_survey_link_row_and_submit_function").CLOSED

SAVE_DRAFT = """
CREATE FUNCTION feedback_save_draft(
  p_token_hash text, p_template_version_id bigint, p_answers jsonb, p_now timestamptz
) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  link record;
BEGIN
  SELECT r.id, b.template_version_id, %(closed)s AS closed
    INTO link
    FROM feedback_surveyrequest r
    JOIN feedback_batch b ON b.id = r.batch_id
   WHERE r.token_hash = p_token_hash
   LIMIT 1;
  IF NOT FOUND THEN
    RETURN 'unknown';
  ELSIF link.closed THEN
    RETURN 'closed';
  ELSIF link.template_version_id <> p_template_version_id THEN
    RETURN 'stale';
  END IF;
  UPDATE feedback_surveyrequest SET draft_answers = p_answers, draft_saved_at = p_now WHERE id = link.id;
  RETURN 'saved';
END
$$;
""" % {"closed": CLOSED.format(at="p_now")}

DROP = "DROP FUNCTION IF EXISTS feedback_save_draft(text, bigint, jsonb, timestamptz);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
        schema_editor.execute(SAVE_DRAFT)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0009_survey_link_row_and_submit_function")]

    operations = [migrations.RunPython(create, drop)]
