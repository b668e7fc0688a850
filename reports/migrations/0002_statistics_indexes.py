"""Partial covering indexes on counted items, for reports.statistics.

The predicate is the counted-item rule (definitions version 1), written as
reports.statistics.COUNTED_SQL writes it, so PostgreSQL can answer the
statistics queries from the index alone (see docs/benchmarks.md, Statistics).
The tables belong to the contributions app; the indexes serve only the
statistics, so they live here.
"""

from django.db import migrations

COUNTED = (
    "(state IN ('published', 'withdrawn') "
    "OR (state = 'hidden' AND moderation_reason NOT IN ('spam', 'abuse')))"
)
COLUMNS = "(study_id, author_id, acted_for_id, acted_for_sector, created_at)"


def index(table: str, name: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} {COLUMNS} WHERE {COUNTED}",
        reverse_sql=f"DROP INDEX IF EXISTS {name}",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("contributions", "0001_initial"),
    ]

    operations = [
        index("contributions_contribution", "reports_contribution_counted"),
        index("contributions_comment", "reports_comment_counted"),
    ]
