"""What search finds: one ``Source`` per kind of thing, registered here.

A source names a model, turns one of its rows into the fields of a search
document (or None: not searchable), and says where a result links. Every row
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
from django.db.models import Model
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

    @property
    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)

    def fingerprint(self, obj: Model) -> str:
        return hashlib.sha256(self.check(obj).encode("utf-8", "replace")).hexdigest()[:32]


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.key] = source
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


def _item(obj, *, title: str, section_id: int | None, extra: Sequence[str] = ()) -> dict:
    body = "\n\n".join(part for part in [plain_text(obj.body), *extra] if part)
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


register(
    Source(
        key="contribution",
        model="contributions.Contribution",
        label=pgettext_lazy("kind of search result", "Contribution"),
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
    )
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
    )
)
