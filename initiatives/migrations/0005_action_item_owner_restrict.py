# An organization is deleted with its units and action items; a parent unit or a member who owns action
# items alone still is not (RESTRICT, like the other tenant links, where PROTECT refused both).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('initiatives', '0004_organization_indexed_by_its_composites'),
        ('tenancy', '0003_unit_parent_restrict'),
    ]

    operations = [
        migrations.AlterField(
            model_name='actionitem',
            name='owner',
            field=models.ForeignKey(on_delete=django.db.models.deletion.RESTRICT, related_name='action_items', to='tenancy.membership'),
        ),
    ]
