"""The index keeps the words of a document, not its text.

A result's heading and snippet are read from the live row (search/selectors.py),
so ``title`` and ``body`` were read by nothing but the generated ``vector``:
without them the table is a third smaller (904 MB to 580 MB at 1,000,000
items; docs/benchmarks.md, "The search table without its text").

PostgreSQL: the vector becomes a plain column first, keeping every value
(``DROP EXPRESSION``, PostgreSQL 13 or later), and search/indexing.py writes it
from then on; then the two columns go. Dropping a column does not rewrite the
table: the space comes back as rows are written again, or at once with
``VACUUM FULL search_document`` (docs/search.md). SQLite: its FTS5 table holds
the words already; only the columns go.

Back: the columns come back empty and the vector is generated from them again,
so every document is indexed anew (``search.indexing.rebuild``).
"""

from django.db import migrations

VECTOR = """
  CASE WHEN language = 'english' THEN
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'B')
  ELSE
    setweight(to_tsvector('norwegian'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('norwegian'::regconfig, coalesce(body, '')), 'B')
  END
"""
POSTGRES_UP = ["ALTER TABLE search_document ALTER COLUMN vector DROP EXPRESSION"]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS search_document_study_vector",
    "ALTER TABLE search_document DROP COLUMN vector",
    f"ALTER TABLE search_document ADD COLUMN vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED",
    "CREATE INDEX search_document_study_vector ON search_document USING GIN (study_id, vector)",
]


def vector_written(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_UP:
            schema_editor.execute(statement)


def vector_generated(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_DOWN:
            schema_editor.execute(statement)
    from search import indexing

    indexing.rebuild(get_model=apps.get_model)


class Migration(migrations.Migration):
    # Going back rebuilds every document from the rows it indexes
    # (``search.indexing.rebuild``): their tables must still be there then.
    dependencies = [
        ("search", "0002_study_vector_index"),
        ("contributions", "0003_merge_claims_and_passages"),
        ("studies", "0004_document_blocks"),
    ]

    operations = [
        migrations.RunPython(vector_written, vector_generated),
        migrations.RemoveField(model_name="searchdocument", name="body"),
        migrations.RemoveField(model_name="searchdocument", name="title"),
    ]
