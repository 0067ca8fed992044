# When a project was last asked for feedback (the batch form) is read through its batches.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0011_submit_audit_names_the_client'),
        ('tenancy', '0003_unit_parent_restrict'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='batchproject',
            index=models.Index(fields=['organization', 'project'], name='batchproject_org_project'),
        ),
    ]
