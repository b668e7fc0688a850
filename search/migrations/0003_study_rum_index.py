"""A RUM index that returns a study's matches newest first (PostgreSQL with ``rum``).

The GIN index on (study_id, vector) finds a study's matches but not in time
order, so a search read every match's row to keep the newest 1,001. The RUM
index (the ``rum`` extension, Debian's ``postgresql-15-rum``) holds each
word's matches with their ``created_at`` attached, so PostgreSQL sorts a
study's matches by time inside the index and reads only the rows it returns
(docs/search.md, "The index"; docs/benchmarks.md, "Search"). The study is a
column of its own (``rum_int8_ops``): the index is read for the study and the
words at once.

Made only where it can be: on PostgreSQL with the extension already created
or available to a superuser (``rum`` is not a trusted extension). Elsewhere,
and on SQLite, the migration does nothing and search reads the GIN index as
before, with the same results (``search.selectors``). The GIN index stays:
a search across studies reads it.
"""

from django.db import migrations

INDEX = "search_document_rum"
CREATE = [
    # The extension stays on the way back, as btree_gin does (0002).
    "CREATE EXTENSION IF NOT EXISTS rum",
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON search_document USING rum "
    "(study_id rum_int8_ops, vector rum_tsvector_addon_ops, created_at rum_timestamptz_ops) "
    "WITH (attach = 'created_at', to = 'vector')",
]

# Installed already, or installable by this role.
CAN_CREATE = """
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'rum')
    OR (EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'rum')
        AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(CAN_CREATE)
        if not cursor.fetchone()[0]:
            return
    for statement in CREATE:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_study_vector_index"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
