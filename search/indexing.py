"""Keeping the index true: every save and delete of a source's row, in its transaction.

The receivers run inside the transaction that saves the row (post_save and
post_delete fire before commit), so an edit, a moderation action or a
deletion changes the index atomically with the item: there is no moment at
which the index still finds text that was taken away. Results are checked
against the live rows as well (search/selectors.py).

One exception, for posting: a new row marked ``index_after_commit = True``
(set by contributions.services on what a person posts) is indexed by a task
queued after its transaction commits (``search.tasks.document_refresh``),
so the poster does not wait for it. The task reads the row as it is when it
runs: a post hidden, edited, withdrawn or deleted before then is indexed as
it is now (or not at all), never with its first text. Until the task has run
the new item is simply not found yet. A comment's post marks its row
``index_after_commit = WITH_POST``: contributions' own after-commit task
(``contributions.tasks.comment_posted``) then sends
``contributions.services.comment_posted`` and the document is written here on
that signal, so a post sends one message, not two.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from core.tasks import task
from search.models import SearchDocument
from search.sources import SOURCES, Source, source_for_model
from search.text import terms

FTS_TABLE = "search_fts"
REFRESH_TASK = "search.tasks.document_refresh"
# ``index_after_commit`` set to this: written on contributions' comment_posted signal.
WITH_POST = "with-post"


def _uses_fts5() -> bool:
    return connection.vendor == "sqlite"


def index_object(source: Source, obj: Model, *, document_model=SearchDocument) -> None:
    """Write (or remove) the search document of one row."""
    fields = source.document(obj)
    if fields is None:
        document_model.objects.filter(source=source.key, object_id=obj.pk).delete()
        return
    fields["fingerprint"] = source.fingerprint(obj)
    document, _created = document_model.objects.update_or_create(
        source=source.key, object_id=obj.pk, defaults=fields
    )
    if _uses_fts5():
        _fts_write(document)


def refresh_object(source: Source, pk: int) -> bool:
    """Write the search document of row ``pk`` as the row is now; remove it if the row is gone.

    Idempotent: a second run writes the same document. The row is locked while
    its document is written, so a hide or an edit committing at the same time
    waits (their own receivers then write the document after this one).
    Returns whether the row exists.
    """
    model = source.model_class
    with transaction.atomic():
        obj = (
            model.objects.select_for_update(of=("self",))
            .select_related(*source.related)
            .filter(pk=pk)
            .first()
        )
        if obj is None:
            remove_object(source, pk)
            return False
        index_object(source, obj)
    return True


def _index_after_commit(source: Source, pk: int) -> None:
    transaction.on_commit(lambda: task(REFRESH_TASK).delay(source.key, pk))


def remove_object(source: Source, pk: int) -> None:
    # On SQLite a trigger removes the FTS row with the document (migration 0001).
    SearchDocument.objects.filter(source=source.key, object_id=pk).delete()


def _fts_write(document: SearchDocument) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [document.pk])  # noqa: S608 - a constant name
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (%s, %s, %s)",  # noqa: S608
            [
                document.pk,
                terms(document.title, document.language),
                terms(document.body, document.language),
            ],
        )


def _saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs) -> None:
    if raw:
        return  # loaddata: rebuild_search_index afterwards
    source = source_for_model(sender)
    if source is None:
        return
    if created and getattr(instance, "index_after_commit", False):
        if instance.index_after_commit != WITH_POST:
            _index_after_commit(source, instance.pk)
        return
    if update_fields is not None and source.fields and not (set(update_fields) & source.fields):
        return
    index_object(source, instance)


def _deleted(sender, instance, **kwargs) -> None:
    source = source_for_model(sender)
    if source is not None:
        remove_object(source, instance.pk)


def _amendment_saved(sender, instance, created=False, raw=False, **kwargs) -> None:
    """An amendment's wording and decision are found with its contribution.

    The row is saved after the contribution (and again when it is decided or
    credited), in the same transaction: the contribution's document is
    written anew from both. A new amendment of a contribution indexed after
    commit is left to that task, which reads both rows.
    """
    if raw:
        return
    source = source_for_model(sender._meta.get_field("contribution").related_model)
    if source is None:
        return
    contribution = instance.contribution
    if created and getattr(contribution, "index_after_commit", False):
        return
    contribution.amendment = instance  # the row just saved, not a stale or missing one
    index_object(source, contribution)


def _comment_posted(sender, *, comment_id: int, **kwargs) -> None:
    refresh_object(source_for_model(sender), comment_id)


def connect_receivers() -> None:
    from contributions.models import Amendment, Comment
    from contributions.services import comment_posted

    comment_posted.connect(_comment_posted, sender=Comment, dispatch_uid="search-comment-posted")
    post_save.connect(_amendment_saved, sender=Amendment, dispatch_uid="search-amendment-save")
    for source in SOURCES.values():
        model = source.model_class
        uid = f"search-{source.key}"
        post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"{uid}-delete")


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def rebuild(*, study_id: int | None = None, batch: int = 500, get_model=None) -> int:
    """Index every row of every source anew (or of one study); returns the count.

    ``get_model`` is a migration's ``apps.get_model`` when run from one.
    """
    get_model = get_model or apps.get_model
    document_model = get_model("search", "SearchDocument")
    count = 0
    for source in SOURCES.values():
        model = get_model(source.model)
        # A migration's historical model may not have every relation yet.
        related = [name for name in source.related if _has_field(model, name.split("__")[0])]
        rows = model.objects.select_related(*related).order_by("pk")
        documents = document_model.objects.filter(source=source.key)
        if study_id is not None:
            rows = rows.filter(study_id=study_id)
            documents = documents.filter(study_id=study_id)
        documents.exclude(object_id__in=rows.values("pk")).delete()
        for obj in rows.iterator(chunk_size=batch):
            index_object(source, obj, document_model=document_model)
            count += 1
    return count
