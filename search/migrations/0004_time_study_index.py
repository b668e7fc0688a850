"""The time index holds the study too: ``(created_at, study_id)`` for ``(created_at)``.

A study's search for a frequent word reads the newest rows in time order and
keeps its study's matches. PostgreSQL often reads them from this index, the
one of every study (the table is in time order, so it thinks it cheap), and
fetched every row of every study from the table only to find that most were
other studies': 60,000 to 110,000 buffers in the big study of the benchmark.
With the study in the index it skips the other studies' rows in the index
and fetches only its own study's, as the ``(study_id, created_at)`` index
would (docs/benchmarks.md, "Search"). A search across studies reads it as it
read the old one. The new index is built before the old one goes, so a search
always has one; on SQLite both are plain indexes and nothing else changes.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0003_no_stored_text"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="searchdocument",
            index=models.Index(fields=["created_at", "study"], name="search_document_time_study"),
        ),
        migrations.RemoveIndex(
            model_name="searchdocument",
            name="search_document_created",
        ),
    ]
