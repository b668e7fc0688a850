"""The search index: one document per searchable thing (search/sources.py).

A document holds what the filters and permissions need (study, state,
author, snapshot) and the words to match, not the text itself: a result's
heading and snippet are read from the live row (search/selectors.py), and the
table is a third smaller (docs/benchmarks.md). On
PostgreSQL the words are a ``vector`` column (tsvector, ``norwegian`` or
``english``, written by search/indexing.py) with a GIN index; on SQLite a
``search_fts`` FTS5 table holds the stemmed words under the same row id.
Both are made by migrations 0001 and 0003 for their database only.
"""

from __future__ import annotations

from django.db import models

from accounts.models import Organisation, Sector
from studies.models import Section, Study


class SearchDocument(models.Model):
    source = models.CharField(max_length=30)
    object_id = models.PositiveBigIntegerField()
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sector = models.CharField(max_length=16, choices=Sector.choices, blank=True)
    state = models.CharField(max_length=16)
    # The author, for "your own items"; not a key, so no account is held by the index.
    author_id = models.BigIntegerField(null=True, blank=True)
    language = models.CharField(max_length=16, default="norwegian")
    created_at = models.DateTimeField()
    # Hash of what the row showed when indexed (Source.check): results are
    # compared with the live row by it.
    fingerprint = models.CharField(max_length=32, blank=True)

    class Meta:
        db_table = "search_document"
        constraints = [
            models.UniqueConstraint(fields=["source", "object_id"], name="search_document_unique")
        ]
        indexes = [
            models.Index(fields=["study", "created_at"], name="search_document_study"),
            # Newest first across studies; the study second, so that a study's
            # search that reads this index in time order skips the other studies'
            # rows in the index instead of reading each of them from the table
            # (search 0004, docs/search.md).
            models.Index(fields=["created_at", "study"], name="search_document_time_study"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.object_id}"
