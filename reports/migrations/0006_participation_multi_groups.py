"""The summary keys of people with several summary rows; the triggers; filling.

The triggers that keep the five summary tables are installed, then every
summary is filled from the items, in the same transaction: on PostgreSQL
creating the triggers locks the item tables against writers until the
migration commits, so no item written meanwhile is missed. This must stay the
last migration that calls reports.summaries (the triggers and the rebuild are
the current code's and need every column; a later schema change moves the
call, and summaries.SCHEMA_MIGRATION, to its own migration).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def install_and_fill(apps, schema_editor):
    from reports import summaries

    summaries.install_triggers(schema_editor.connection)
    summaries.rebuild(conn=schema_editor.connection)


def remove(apps, schema_editor):
    """Going back: the triggers need this schema; run rebuild_statistics after migrating."""
    from reports import summaries

    summaries.remove_triggers(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_person_language_optional'),
        ('reports', '0005_participation_days_people'),
        ('studies', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ParticipationMultiGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('acted_for_sector', models.CharField(blank=True, max_length=16)),
                ('acted_for', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.organisation')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('study', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='studies.study')),
            ],
            options={
                'indexes': [models.Index(fields=['study', 'author'], include=('acted_for', 'acted_for_sector'), name='participation_multi_study')],
            },
        ),
        migrations.RunPython(install_and_fill, remove),
    ]
