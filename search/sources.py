"""What search finds: one ``Source`` per kind of thing, registered here.

A source names a model, turns one of its rows into the fields of a search
document and the title and text whose words it keeps (or None: not
searchable), and says where a result links. Every row
of a registered model is indexed on save and removed on delete
(search/indexing.py), so new kinds of contribution or comment (new field
values, new rows of these models) are found without any change here. To make a
new model searchable, write its ``document`` and ``url`` and add one
``register(Source(...))`` below; ``manage.py rebuild_search_index`` then
indexes the rows that exist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Model, Q
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from search.text import detect_language, plain_text

PUBLISHED = "published"


@dataclass(frozen=True)
class Source:
    key: str  # stored in SearchDocument.source; the "kind" filter's value
    model: str  # "app_label.ModelName"
    label: Promise  # the kind as a reader sees it
    document: Callable[[Model], dict | None]
    url: Callable[[Model], str]
    # Fields whose change must reach the index; a save(update_fields=...) that
    # touches none of them (a reaction count, a revision number) is skipped.
    fields: frozenset[str] = frozenset()
    # select_related for reading live rows (results and rebuilds).
    related: tuple[str, ...] = ()
    # A heading for a result, from the live row (escaped by the template).
    heading: Callable[[Model], str] = field(default=lambda obj: "")
    # Everything of the live row that the document shows or depends on, cheaply
    # (no Markdown): its hash is kept with the document, and a result whose row
    # no longer has it is left out (search/selectors.py).
    check: Callable[[Model], str] = field(default=lambda obj: "")
    # The kind of one live row as a reader sees it, when a source holds several
    # (passage comments and amendments are contributions); ``label`` otherwise.
    label_of: Callable[[Model], Promise] | None = None
    # The document's "body" alone, when it can be had without the rest of the
    # document (its language is read from the whole text): what a snippet is cut from.
    body: Callable[[Model], str] | None = None

    def label_for(self, obj: Model) -> Promise:
        return self.label_of(obj) if self.label_of is not None else self.label

    @property
    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)

    def text(self, obj: Model) -> str:
        """The text of the live row a result's snippet is cut from (the index keeps only
        its words); empty when the row is not searchable now."""
        if self.body is not None:
            return self.body(obj)
        document = self.document(obj)
        return "" if document is None else document["body"]

    def fingerprint(self, obj: Model) -> str:
        return hashlib.sha256(self.check(obj).encode("utf-8", "replace")).hexdigest()[:32]


@dataclass(frozen=True)
class Kind:
    """A value of the "kind" filter: a source's rows, or those of them meeting a condition."""

    key: str
    label: Promise
    source: str
    condition: Q | None = None  # on the source's live rows

    @property
    def model_class(self) -> type[Model]:
        return SOURCES[self.source].model_class


SOURCES: dict[str, Source] = {}
# The kind filter's values, in the order it lists them.
KINDS: dict[str, Kind] = {}


def register(source: Source, *, kinds: tuple[Kind, ...] = ()) -> Source:
    """Register a source; it is one kind of the filter unless ``kinds`` divide it."""
    SOURCES[source.key] = source
    for kind in kinds or (Kind(key=source.key, label=source.label, source=source.key),):
        KINDS[kind.key] = kind
    return source


def source_for_model(model: type[Model]) -> Source | None:
    label = model._meta.label
    for source in SOURCES.values():
        if source.model == label:
            return source
    return None


def _amendment(obj):
    """The amendment row of an amendment contribution; None for every other item.

    Also None for a model without the relation (a migration's historical model).
    """
    return getattr(obj, "amendment", None)


def _amendment_text(obj) -> list[str]:
    """The proposed wording and the decision's reason: found with the amendment."""
    amendment = _amendment(obj)
    if amendment is None:
        return []
    return [amendment.wording, amendment.decision_reason]


def _item_body(obj, extra: Sequence[str] = ()) -> str:
    return "\n\n".join(part for part in [plain_text(obj.body), *extra] if part)


def _item(obj, *, title: str, section_id: int | None, extra: Sequence[str] = ()) -> dict:
    body = _item_body(obj, extra)
    return {
        "study_id": obj.study_id,
        "section_id": section_id,
        "organisation_id": obj.acted_for_id,
        "sector": obj.acted_for_sector,
        "state": obj.state,
        "author_id": obj.author_id,
        "language": detect_language(f"{title}\n{body}"),
        "title": title[:300],
        "body": body,
        "created_at": obj.created_at,
    }


def _item_check(obj) -> str:
    return "\x00".join([obj.state, getattr(obj, "title", ""), obj.body])


def _contribution_check(obj) -> str:
    return "\x00".join([_item_check(obj), *_amendment_text(obj)])


_ITEM_FIELDS = frozenset(
    {"body", "state", "acted_for", "acted_for_sector", "author", "created_at", "study"}
)


def _contribution_url(obj) -> str:
    # The study page from this contribution on (its list is paged by id).
    base = reverse("study_detail", args=[obj.study.slug])
    return f"{base}?before={obj.pk + 1}#contribution-{obj.pk}"


def _comment_url(obj) -> str:
    base = reverse("study_detail", args=[obj.study.slug])
    return f"{base}?before={obj.contribution_id + 1}#comment-{obj.pk}"


def _comment_heading(obj) -> str:
    # The contribution's title only while anyone may read it.
    if obj.contribution.state == PUBLISHED:
        return obj.contribution.title
    return ""


_CONTRIBUTION = pgettext_lazy("kind of search result", "Contribution")
_PASSAGE = pgettext_lazy("kind of search result", "Comment on a passage")
_AMENDMENT = pgettext_lazy("kind of search result", "Amendment")
_DOCUMENT_KIND_LABELS = {"passage": _PASSAGE, "amendment": _AMENDMENT}

register(
    Source(
        key="contribution",
        model="contributions.Contribution",
        label=_CONTRIBUTION,
        label_of=lambda obj: _DOCUMENT_KIND_LABELS.get(obj.kind, _CONTRIBUTION),
        document=lambda obj: _item(
            obj, title=obj.title, section_id=obj.section_id, extra=_amendment_text(obj)
        ),
        url=_contribution_url,
        fields=_ITEM_FIELDS | {"title", "section"},
        # An amendment's row is saved after its contribution and re-indexes it
        # (search/indexing.py), so its wording is found as well.
        related=("study", "amendment", "acted_for"),
        heading=lambda obj: obj.title,
        check=_contribution_check,
        body=lambda obj: _item_body(obj, _amendment_text(obj)),
    ),
    # Passage comments and amendments are contributions pinned to the concept
    # document (contributions/passages.py), each a kind of its own.
    kinds=(
        Kind(
            key="contribution",
            label=_CONTRIBUTION,
            source="contribution",
            condition=~Q(kind__in=list(_DOCUMENT_KIND_LABELS)),
        ),
        Kind(key="passage", label=_PASSAGE, source="contribution", condition=Q(kind="passage")),
        Kind(
            key="amendment", label=_AMENDMENT, source="contribution", condition=Q(kind="amendment")
        ),
    ),
)

register(
    Source(
        key="comment",
        model="contributions.Comment",
        label=pgettext_lazy("kind of search result", "Comment"),
        document=lambda obj: _item(obj, title="", section_id=obj.contribution.section_id),
        url=_comment_url,
        fields=_ITEM_FIELDS | {"contribution"},
        related=("study", "contribution", "acted_for"),
        heading=_comment_heading,
        check=_item_check,
        body=_item_body,
    )
)


def _version_document(obj) -> dict:
    body = plain_text(obj.body)
    return {
        "study_id": obj.study_id,
        "section_id": None,
        "organisation_id": None,
        "sector": "",
        "state": PUBLISHED,  # a version exists once it is published
        "author_id": None,
        "language": detect_language(body),
        "title": "",
        "body": body,
        "created_at": obj.published_at,
    }


register(
    Source(
        key="document",
        model="studies.DocumentVersion",
        label=pgettext_lazy("kind of search result", "Concept document"),
        document=_version_document,
        url=lambda obj: reverse("studies:version_detail", args=[obj.study.slug, obj.pk]),
        fields=frozenset({"body", "published_at", "study"}),
        related=("study",),
        heading=lambda obj: str(_("Concept document, version %(number)s") % {"number": obj.number}),
        check=lambda obj: obj.body,
        body=lambda obj: plain_text(obj.body),
    )
)
