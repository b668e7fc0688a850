"""The GIN index takes new documents at once, not through a pending list (PostgreSQL).

With ``fastupdate`` on (PostgreSQL's default) new entries wait in a pending
list of up to ``gin_pending_list_limit`` (4 MB, about 6,000 documents) that
every search reads through from start to end, and the write that fills it
merges it into the index. Measured at 1,000,000 documents with 5,000 new ones
waiting (428 pages): about 4 ms more per search, and the merge 134 ms for the
write that happens to trigger it; without the list a document costs 0.25 ms
to index instead of 0.13 (docs/benchmarks.md, "Search"). Documents are
written after a post commits (search.tasks) or with an edit, one at a time,
so the slower write does not show and the searches stay even.

Turning it off keeps what is already waiting, so the migration merges it. On
SQLite nothing happens.
"""

from django.db import migrations

INDEX = "search_document_study_vector"


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0004_time_study_index"),
    ]

    operations = [
        migrations.RunPython(
            _run(
                [
                    f"ALTER INDEX {INDEX} SET (fastupdate = off)",
                    f"SELECT gin_clean_pending_list('{INDEX}'::regclass)",
                ]
            ),
            _run([f"ALTER INDEX {INDEX} RESET (fastupdate)"]),
        ),
    ]
