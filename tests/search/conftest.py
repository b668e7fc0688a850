"""Helpers for the search tests."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from search import selectors
from search.text import parse_query


def found(query: str, *, user=None, study=None, **filters) -> list:
    """The keys (``source:object_id``) of what ``user`` (anonymous if None) finds, in order."""
    page = selectors.search(
        user=user or AnonymousUser(),
        query=parse_query(query),
        filters=selectors.SearchFilters(**filters),
        study=study,
    )
    assert page is not None
    return [f"{r.document.source}:{r.document.object_id}" for r in page.results]
