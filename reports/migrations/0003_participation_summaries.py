"""Participation summaries: the tables (triggers and filling: 0004).

The statistics read reports_participationsummary and reports_participationday
(see reports/summaries.py). Migration 0004 adds the participants table the
triggers also keep, installs the triggers and fills all three from the items.
"""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_person_language_optional"),
        ("contributions", "0001_initial"),
        ("reports", "0002_statistics_indexes"),
        ("studies", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ParticipationDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("contributions", models.IntegerField(default=0)),
                ("comments", models.IntegerField(default=0)),
                (
                    "study",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="studies.study",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("study", "day"), name="participation_day_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ParticipationSummary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("acted_for_sector", models.CharField(blank=True, max_length=16)),
                ("contributions", models.IntegerField(default=0)),
                ("comments", models.IntegerField(default=0)),
                ("first_at", models.DateTimeField()),
                ("last_at", models.DateTimeField()),
                (
                    "acted_for",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.organisation",
                    ),
                ),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "study",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="studies.study",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        models.F("study"),
                        models.F("author"),
                        django.db.models.functions.comparison.Coalesce(
                            models.F("acted_for"), models.Value(0)
                        ),
                        models.F("acted_for_sector"),
                        name="participation_summary_group",
                    )
                ],
            },
        ),
    ]
