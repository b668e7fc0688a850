"""The study page's list: contributions with their comments, viewer-neutral, kept per event.

A listing is the item fragments (contributions/fragments.py) put together in
the order the selectors arranged them, with a stub where each item's
controls go (contributions/controls.py fills them per viewer). The whole list
is kept per study event number, language and filter, in this process and in
the shared cache: every change a list shows records a study event, a
changed name included (contributions/names.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import ngettext

from contributions.controls import Viewer, stub
from contributions.fragments import LOCAL_MAX, forget_fragments, fragments, templates_digest
from contributions.models import Comment, Contribution
from core.memory import Memory, MiB


def _ids(ids) -> str:
    return " ".join(str(pk) for pk in ids)


def all_comments_label(count: int) -> str:
    return ngettext("Show all %(counter)s comment", "Show all %(counter)s comments", count) % {
        "counter": count
    }


def replies_label(count: int) -> str:
    return ngettext("%(counter)s reply: show", "%(counter)s replies: show", count) % {
        "counter": count
    }


def _more_comments(contribution: Contribution, slug: str) -> str:
    """ "Show all N comments", when the window leaves some out.

    ``data-ids`` names the published top-level comments the count counts, so
    that static/js/live.js keeps it right as comments arrive, leave or change.
    Without JavaScript it is a link to the page of all the comments.
    """
    ids = getattr(contribution, "comment_ids", ())
    if not ids:
        return ""
    url = reverse("contribution_comments", kwargs={"slug": slug, "pk": contribution.pk})
    return _show_more(
        contribution.dom_id, "comments", ids, "secondary", url, url, all_comments_label(len(ids))
    )


def _more_replies(comment: Comment, slug: str) -> str:
    """ "N replies: show" on a top-level comment whose replies the window leaves out."""
    ids = getattr(comment, "reply_ids", ())
    if not ids or getattr(comment, "reply_list", None):
        return ""
    dom_id = comment.dom_id
    page = reverse("contribution_comments", kwargs={"slug": slug, "pk": comment.contribution_id})
    url = reverse("comment_replies", kwargs={"slug": slug, "pk": comment.pk})
    return _show_more(
        dom_id, "replies", ids, "tertiary", f"{page}#{dom_id}", url, replies_label(len(ids))
    )


def _show_more(dom_id: str, what: str, ids, style: str, href: str, url: str, label: str) -> str:
    """A link that loads the item's ``what`` (comments or replies) from ``url`` into
    their container and then hides itself; without JavaScript it goes to ``href``."""
    return (
        f'<p class="more-{what}" id="{dom_id}-more" data-ids="{_ids(ids)}">'
        f'<a class="ds-button button small {style}" href="{href}" hx-get="{url}" '
        f'hx-target="#{dom_id}-{what}" hx-swap="innerHTML" '
        f'data-hide-after-load="#{dom_id}-more">{escape(label)}</a></p>'
    )


class _Parts:
    """Text and stubs, alternating; a stub stands for the viewer's controls."""

    def __init__(self, fragments_by_item: dict) -> None:
        self.by_item = fragments_by_item
        self.out: list = [""]

    def text(self, value: str) -> None:
        self.out[-1] += value

    def item(self, item, children: dict) -> None:
        parts = self.by_item[id(item)]
        for index, part in enumerate(parts):
            if not index % 2:
                self.text(part)
            elif part == "tools":
                self.out.append(stub(item))
                self.out.append("")
            else:
                children.get(part, lambda: None)()

    def comment(self, comment: Comment, slug: str = "") -> None:
        replies = getattr(comment, "reply_list", None) or ()
        self.item(
            comment,
            {
                "replies": lambda: [self.comment(r) for r in replies],
                "more": lambda: self.text(_more_replies(comment, slug)) if slug else None,
            },
        )

    def contribution(self, contribution: Contribution, slug: str) -> None:
        official = getattr(contribution, "official_list", ())
        comments = getattr(contribution, "comment_list", ())
        self.item(
            contribution,
            {
                "official": lambda: [self.comment(c) for c in official],
                "comments": lambda: [self.comment(c, slug) for c in comments],
                "more": lambda: self.text(_more_comments(contribution, slug)),
            },
        )


def _comments_of(contribution: Contribution) -> list[Comment]:
    out = list(getattr(contribution, "official_list", ()))
    for comment in getattr(contribution, "comment_list", ()):
        out.append(comment)
        out.extend(getattr(comment, "reply_list", ()))
    return out


def _by_item(items: list) -> dict:
    return dict(zip((id(i) for i in items), fragments(items), strict=True))


@dataclass
class Listing:
    """A page of contributions with their comments, viewer-neutral, with stubs for controls."""

    parts: tuple
    has_more: bool = False
    next_before: int | None = None
    contributions: tuple = ()  # ids, in order

    def html(self, viewer: Viewer) -> str:
        if viewer.anonymous:
            return "".join(self.parts[::2])
        tools = viewer.tools
        return "".join(
            part if not index % 2 else tools(part) for index, part in enumerate(self.parts)
        )


def listing_of(contributions: list[Contribution], slug: str, **page) -> Listing:
    items: list = []
    for contribution in contributions:
        items.append(contribution)
        items.extend(_comments_of(contribution))
    builder = _Parts(_by_item(items))
    for contribution in contributions:
        builder.contribution(contribution, slug)
    return Listing(
        parts=tuple(builder.out),
        contributions=tuple(c.pk for c in contributions),
        **page,
    )


def render_comments(comments: list[Comment], viewer: Viewer) -> str:
    """Comments with their replies ("Show all N comments", "N replies"), for this viewer."""
    items: list = []
    for comment in comments:
        items.append(comment)
        items.extend(getattr(comment, "reply_list", ()))
    builder = _Parts(_by_item(items))
    for comment in comments:
        builder.comment(comment)
    return Listing(parts=tuple(builder.out)).html(viewer)


# --- the whole list, cached per study event ---------------------------------------------

LIST_PREFIX = "fragment-list:v3:"
LISTS_MAX = 64  # lists kept in each process's memory (about 40-80 KB each)
LISTS_BYTES = 2 * MiB  # so about 25-50 of them
LIST_TIMEOUT = 3600  # a list is for one event number: soon of no use
_lists = Memory("contributions.lists", LISTS_MAX, max_bytes=LISTS_BYTES)
_seen = Memory("contributions.lists_seen", LOCAL_MAX, max_bytes=MiB // 2)  # asked for once


def list_key(*, study, last_seq: int, **page) -> str:
    from contributions.selectors import COMMENTS_SHOWN, PAGE_SIZE

    parts = (
        templates_digest(),
        study.pk,
        study.slug,
        study.created_at,
        study.updated_at,  # sections renamed or moved (studies/structure.py)
        last_seq,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        PAGE_SIZE,
        COMMENTS_SHOWN,
        sorted(page.items()),
    )
    return LIST_PREFIX + hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


def contribution_listing(*, study, last_seq: int, load, **page) -> Listing:
    """The study's list for this event number, language and filter; ``load`` reads it anew.

    Every change that shows on the list records a study event and raises
    ``last_seq`` (docs/live.md), a changed name too (contributions/names.py),
    so the number is part of the key.
    ``load`` returns a ``selectors.ContributionPage``; it is called only when
    no cache has the list. A list is stored the second time it is asked for in
    a process: lists seen once (a rare filter, an old page, an event number
    that was soon passed) do not fill the shared cache.
    """
    key = list_key(study=study, last_seq=last_seq, **page)
    listing = _lists.get(key)
    if listing is not None:
        return listing
    listing = cache.get(key)
    if listing is not None:
        _remember_list(key, listing)  # weighed once per process, not on every read
        return listing
    loaded = load()
    listing = listing_of(
        loaded.contributions,
        study.slug,
        has_more=loaded.has_more,
        next_before=loaded.next_before,
    )
    if key in _seen:
        _remember_list(key, listing)
        cache.set(key, listing, LIST_TIMEOUT)
        _index_list(study.pk, key)
    else:
        _seen.set(key, True)
    return listing


LISTS_INDEXED = 256  # list keys remembered per study, to drop them (forget_items)


def _lists_index(study_id: int) -> str:
    return f"{LIST_PREFIX}index:{study_id}"


def _index_list(study_id: int, key: str) -> None:
    """Remember that a list of the study was kept, so forget_items can drop it.

    Read and written without a lock: a key lost to a race stays only under an
    event number that has passed (forget_items follows an event), where no
    request looks.
    """
    index = _lists_index(study_id)
    keys = [k for k in (cache.get(index) or []) if k != key][-(LISTS_INDEXED - 1) :]
    cache.set(index, [*keys, key], LIST_TIMEOUT)


_also_forget: list = []


def also_forget(forget) -> None:
    """Call ``forget()`` whenever forget_items runs (for stores that hold lists' text)."""
    if forget not in _also_forget:
        _also_forget.append(forget)


def _remember_list(key: str, listing: Listing) -> None:
    _lists.set(key, listing)


def forget_items(*, contribution_ids=(), comment_ids=(), study_ids=()) -> None:
    """Drop the kept fragments of these items, and the kept lists of these studies,
    from the shared cache and this process: for text or a name that must leave no
    copy (hidden as personal data, a deleted account).

    Other processes hold a list only under an event number that has passed,
    so no request reaches what they still hold. What else keeps lists in
    this process (the study page's shells) is emptied too (``also_forget``).
    """
    forget_fragments(contribution_ids=contribution_ids, comment_ids=comment_ids)
    for forget in _also_forget:
        forget()
    index_keys = [_lists_index(study_id) for study_id in study_ids]
    if not index_keys:
        return
    lists = []
    for keys in cache.get_many(index_keys).values():
        lists.extend(keys or ())
    cache.delete_many([*lists, *index_keys])
    _lists.clear()
    _seen.clear()
