"""Background work of search: the document of a posted item, written after its commit."""

from celery import shared_task

from search import indexing
from search.sources import SOURCES


@shared_task(acks_late=True)
def document_refresh(source_key: str, object_id: int) -> bool:
    """Index the row as it is now (search/indexing.py, ``refresh_object``); idempotent."""
    source = SOURCES.get(source_key)
    if source is None:
        return False
    return indexing.refresh_object(source, object_id)
