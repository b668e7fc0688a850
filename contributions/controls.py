"""The viewer's controls on each item, filled into the fragments' tools slot.

Built here in Python from ``Viewer``: the same controls static/js/live.js
adds (with the same ``data-signature``, so the script leaves them alone), as
plain links and forms so the page works without JavaScript: a link for what
only fetches (comment, reply, edit, earlier versions), a form for what posts.
Apps above contributions add their own controls through
``item_tools_register`` (moderation's hide and restore forms, filled in its
AppConfig.ready()), so contributions imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from contributions.fragments import CSRF_SLOT, LOCAL_MAX, reaction_count
from contributions.models import Comment, Contribution, ContributionKind, ItemState
from core.memory import Memory, MiB

TOOLS_BYTES = MiB  # about 1,000 items' controls (1 KB each with the key)
_tools_memo = Memory("contributions.tools", LOCAL_MAX, max_bytes=TOOLS_BYTES)
# Controls that higher apps add after the item's own: (viewer, stub) -> HTML,
# the same for every viewer with the same rights (kept with the item's own).
ItemTools = Callable[["Viewer", "Stub"], str]
_item_tools: list[ItemTools] = []


def item_tools_register(tools: ItemTools) -> None:
    """Add ``tools(viewer, item)`` to every item's controls (once per function)."""
    if tools not in _item_tools:
        _item_tools.append(tools)


@dataclass(frozen=True, slots=True)
class Stub:
    """What the viewer's controls need to know about an item (kept with a cached list)."""

    is_contribution: bool
    pk: int
    state: str
    author_id: int
    edited: bool
    reaction_count: int
    parent_id: int | None = None
    official: bool = False
    contribution_id: int | None = None
    # An amendment takes no support from its author, and once accepted or
    # declined no support, edit or withdrawal from anyone (the services refuse them).
    amendment: bool = False
    decided: bool = False


def stub(item: Contribution | Comment) -> Stub:
    if isinstance(item, Contribution):
        amendment = item.kind == ContributionKind.AMENDMENT
        return Stub(
            True,
            item.pk,
            str(item.state),
            item.author_id,
            bool(item.edited_at),
            reaction_count(item),
            amendment=amendment,
            decided=amendment and item.amendment.decided,
        )
    return Stub(
        False,
        item.pk,
        str(item.state),
        item.author_id,
        bool(item.edited_at),
        reaction_count(item),
        item.parent_id,
        item.official,
        item.contribution_id,
    )


@dataclass
class Viewer:
    """Who looks at the page, and what their controls need."""

    slug: str
    user_id: int | None = None
    can_contribute: bool = False
    can_moderate: bool = False
    can_flag: bool = False
    reacted: frozenset[str] = frozenset()
    csrf_token: str = ""
    next_url: str = ""
    _labels: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.base = reverse("study_detail", args=[self.slug])
        self.anonymous = not (self.can_contribute or self.can_moderate or self.can_flag)
        self._kind = (
            translation.get_language(),
            self.slug,
            self.next_url,
            self.can_contribute,
            self.can_moderate,
        )

    def labels(self) -> dict:
        language = translation.get_language()
        labels = self._labels.get(language)
        if labels is None:
            labels = {
                name: escape(gettext(text))
                for name, text in (
                    ("comment", "Comment"),
                    ("reply", "Reply"),
                    ("edit", "Edit"),
                    ("withdraw", "Withdraw"),
                    ("confirm", "Withdraw this? Others will see that you withdrew it."),
                    ("react", "Support"),
                    ("unreact", "Remove support"),
                    ("history", "Earlier versions"),
                )
            }
            self._labels[language] = labels
        return labels

    def tools(self, item: Stub) -> str:
        """The controls this viewer gets on this item (empty for anonymous visitors).

        The same for every viewer with the same rights and the same relation to
        the item (author or not, reacted or not): kept per process, with the
        CSRF token left as ``CSRF_SLOT`` and filled here, in the controls only.
        """
        if self.anonymous:
            return ""
        type_ = "contribution" if item.is_contribution else "comment"
        memo_key = (
            item,
            item.author_id == self.user_id,
            f"{type_}-{item.pk}" in self.reacted,
            self._kind,
        )
        html = _tools_memo.get(memo_key)
        if html is None:
            html = self._live_tools(item) + "".join(tools(self, item) for tools in _item_tools)
            _tools_memo.set(memo_key, html)
        # Filled here, in the controls only: never in text people wrote.
        return html.replace(CSRF_SLOT, self.csrf_token) if html else html

    def _live_tools(self, item: Stub) -> str:
        labels = self.labels()
        is_contribution = item.is_contribution
        type_ = "contribution" if is_contribution else "comment"
        key = f"{type_}-{item.pk}"
        state = item.state
        count = item.reaction_count
        reacted = key in self.reacted
        edited = "true" if item.edited else "false"
        item_url = f"{self.base}{type_}s/{item.pk}/"
        target = escape(f"#{key} > .item-form-slot")
        out = []
        if self.can_contribute and state == ItemState.PUBLISHED:
            if is_contribution:
                url = f"{self.base}contributions/{item.pk}/comments/form/"
                out.append(_get_link(url, target, labels["comment"]))
            elif not item.parent_id and not item.official:
                url = f"{self.base}contributions/{item.contribution_id}/comments/form/"
                out.append(_get_link(f"{url}?parent={item.pk}", target, labels["reply"]))
        own_amendment = item.amendment and item.author_id == self.user_id
        if (
            self.can_contribute
            and state == ItemState.PUBLISHED
            and not item.decided
            and not own_amendment
        ):
            label = labels["unreact"] if reacted else labels["react"]
            out.append(
                f'<form method="post" action="{item_url}react/">{self._csrf()}'
                f'<button type="submit" class="ds-button button small secondary react-button" '
                f'hx-post="{item_url}react/" hx-swap="outerHTML" '
                f'aria-pressed="{"true" if reacted else "false"}">{label} ({count})</button></form>'
            )
        if (
            self.can_contribute
            and self.user_id is not None
            and item.author_id == self.user_id
            and state in (ItemState.PUBLISHED, ItemState.PENDING)
            and not item.decided
        ):
            out.append(_get_link(f"{item_url}edit/", target, labels["edit"]))
            out.append(
                f'<form method="post" action="{item_url}withdraw/">{self._csrf()}'
                f'<button type="submit" class="ds-button button small secondary" '
                f'hx-post="{item_url}withdraw/" hx-target="{target}" '
                f'hx-confirm="{labels["confirm"]}">{labels["withdraw"]}</button></form>'
            )
        if self.can_moderate and item.edited:
            out.append(_get_link(f"{item_url}history/", target, labels["history"]))
        if not out:
            return ""
        signature = f"{state}|{count}|{1 if reacted else 0}|{edited}|{1 if item.decided else 0}"
        return f'<span class="live-item-tools" data-signature="{signature}">{"".join(out)}</span>'

    def _csrf(self) -> str:
        return f'<input type="hidden" name="csrfmiddlewaretoken" value="{CSRF_SLOT}">'


def _get_link(url: str, target: str, label: str) -> str:
    """A control that only fetches (a form to fill in, earlier versions): a link, which
    htmx loads into the item's form slot and which opens as a page without JavaScript."""
    url = escape(url)
    return (
        f'<a class="ds-button button small secondary" href="{url}" hx-get="{url}" '
        f'hx-target="{target}">{label}</a>'
    )
