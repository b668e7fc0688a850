"""One GIN index on (study_id, vector) in place of the one on vector alone (PostgreSQL).

With the study in the index, a search within one study reads only that
study's matches from the index, instead of combining every match with a
bitmap of all the study's rows; a search across studies uses the vector part
alone, as it used the old index. The ``btree_gin`` extension (shipped with
PostgreSQL) lets a GIN index hold the integer column; creating it needs a
role allowed to create extensions (docs/search.md, "The index"). On SQLite
both operations do nothing: its FTS5 table is unchanged.
"""

from django.db import migrations

POSTGRES_UP = [
    # The extension stays on the way back: other indexes may use it.
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX IF NOT EXISTS search_document_study_vector "
    "ON search_document USING GIN (study_id, vector)",
    "DROP INDEX IF EXISTS search_document_vector",
]
POSTGRES_DOWN = [
    "CREATE INDEX IF NOT EXISTS search_document_vector ON search_document USING GIN (vector)",
    "DROP INDEX IF EXISTS search_document_study_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_search_document"),
    ]

    # Not django.contrib.postgres's BtreeGinExtension: unapplying it asks
    # pg_extension even on SQLite.
    operations = [
        migrations.RunPython(_run(POSTGRES_UP), _run(POSTGRES_DOWN)),
    ]
