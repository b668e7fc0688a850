"""Participants and organisation keys per study; covering indexes; the triggers.

The study statistics count people per organisation and sector from sums per
(organisation, sector) key (ParticipationOrganisation), correcting only for
the few people with several summary rows (ParticipationPerson.groups > 1).
Migration 0005 installs the triggers that keep all four tables and fills
them from the items (migrations before it only create tables: the triggers
and the rebuild are the current code's, which needs every column).
"""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_person_language_optional'),
        ('reports', '0003_participation_summaries'),
        ('studies', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ParticipationOrganisation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('acted_for_sector', models.CharField(blank=True, max_length=16)),
                ('participants', models.IntegerField(default=0)),
                ('contributions', models.IntegerField(default=0)),
                ('comments', models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='ParticipationPerson',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('groups', models.IntegerField(default=0)),
                ('first_at', models.DateTimeField(null=True)),
                ('first_day', models.DateField(null=True)),
            ],
        ),
        migrations.AddIndex(
            model_name='participationsummary',
            index=models.Index(fields=['study', 'acted_for', 'acted_for_sector'], include=('contributions', 'comments'), name='participation_summary_key'),
        ),
        migrations.AddIndex(
            model_name='participationsummary',
            index=models.Index(fields=['study', 'author'], name='participation_summary_person'),
        ),
        migrations.AddField(
            model_name='participationorganisation',
            name='acted_for',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.organisation'),
        ),
        migrations.AddField(
            model_name='participationorganisation',
            name='study',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='studies.study'),
        ),
        migrations.AddField(
            model_name='participationperson',
            name='author',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='participationperson',
            name='study',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='studies.study'),
        ),
        migrations.AddConstraint(
            model_name='participationorganisation',
            constraint=models.UniqueConstraint(models.F('study'), django.db.models.functions.comparison.Coalesce(models.F('acted_for'), models.Value(0)), models.F('acted_for_sector'), name='participation_organisation_key'),
        ),
        migrations.AddIndex(
            model_name='participationperson',
            index=models.Index(fields=['study', 'first_day'], name='participation_person_day'),
        ),
        migrations.AddIndex(
            model_name='participationperson',
            index=models.Index(condition=models.Q(('groups__gt', 1)), fields=['study', 'author'], name='participation_person_multi'),
        ),
        migrations.AddConstraint(
            model_name='participationperson',
            constraint=models.UniqueConstraint(fields=('study', 'author'), name='participation_person_unique'),
        ),
    ]
