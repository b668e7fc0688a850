"""New participants per day kept in ParticipationDay; an index-only lookup of people's rows.

The triggers that keep the four summary tables are installed (they also move
a person between days' new participants when their first counted item
changes), then every summary is filled from the items, in the same
transaction: on PostgreSQL creating the triggers locks the item tables
against writers until the migration commits, so no item written meanwhile is
missed. This must stay the last migration that calls reports.summaries (a
later schema change moves the call to its own migration).
"""

from django.conf import settings
from django.db import migrations, models


def install_and_fill(apps, schema_editor):
    from reports import summaries

    summaries.install_triggers(schema_editor.connection)
    summaries.rebuild(conn=schema_editor.connection)


def remove(apps, schema_editor):
    """Going back: these triggers need the new column; run rebuild_statistics after."""
    from reports import summaries

    summaries.remove_triggers(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_person_language_optional'),
        ('reports', '0004_participation_people'),
        ('studies', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='participationsummary',
            name='participation_summary_person',
        ),
        migrations.AddField(
            model_name='participationday',
            name='new_participants',
            field=models.IntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name='participationsummary',
            index=models.Index(fields=['study', 'author'], include=('acted_for', 'acted_for_sector'), name='participation_summary_people'),
        ),
        migrations.RunPython(install_and_fill, remove),
    ]
