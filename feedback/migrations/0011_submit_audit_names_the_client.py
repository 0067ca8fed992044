"""The audit row of a survey submit names the client who answered ("Ana Ruiz (client)"), as the ORM path
does, instead of leaving the actor blank, which the log showed as "System". The function is 0009's with
the contact's name read in the same join."""

from importlib import import_module

from django.db import migrations

BEFORE = import_module("feedback.migrations.0009_survey_link_row_and_submit_function").SUBMIT.replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
)
CHANGES = (
    ("c.kind, c.language,", "c.kind, c.language, coalesce(nullif(c.name, ''), c.email) AS contact_label,"),
    ("VALUES (link.organization_id, NULL, '',", "VALUES (link.organization_id, NULL, link.contact_label || ' (client)',"),
)
AFTER = BEFORE
for old, new in CHANGES:
    assert AFTER.count(old) == 1, old
    AFTER = AFTER.replace(old, new)


def replace_with(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("feedback", "0010_survey_save_draft_function")]

    operations = [migrations.RunPython(replace_with(AFTER), replace_with(BEFORE))]
