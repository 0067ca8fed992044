# An organization is deleted with its units and action items; a parent unit or a member who owns action
# items alone still is not (RESTRICT, like the other tenant links, where PROTECT refused both).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenancy', '0002_organization_indexed_by_its_composites'),
    ]

    operations = [
        migrations.AlterField(
            model_name='unit',
            name='parent',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.RESTRICT, related_name='children', to='tenancy.unit'),
        ),
    ]
