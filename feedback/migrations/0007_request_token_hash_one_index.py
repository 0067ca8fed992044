# The link look-up's index without the pattern-ops copy that CharField's db_index adds on PostgreSQL.
# The new index is built before the old ones go, so look-ups always have one.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0006_batch_response_count_counted_when_read"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="surveyrequest",
            index=models.Index(fields=["token_hash"], name="request_token_hash"),
        ),
        migrations.AlterField(
            model_name="surveyrequest",
            name="token_hash",
            field=models.CharField(max_length=64),
        ),
    ]
