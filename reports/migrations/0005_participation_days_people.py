"""New participants per day kept in ParticipationDay; an index-only lookup of people's rows.

Triggers and filling: migration 0006.
"""

from django.conf import settings
from django.db import migrations, models


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
    ]
