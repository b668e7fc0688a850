"""Item HTML, rendered once and reused by the study page and live events.

An item's viewer-neutral HTML (``_contribution.html``, ``_comment.html``) is
kept in one *place* per item, language and time zone (``slot_key``), together
with a digest of *everything the fragment shows* (``fragment_key``): type,
id, revision, state, reason, title and text, dates, reaction count, author's
public name, organisation name, section title, attachments, the versions
that took it up, the study's slug and the template sources. A kept fragment
is used only when its digest is the item's digest now, so it can never be
served stale, whoever made the change (an edit, a reaction, moderation, an
account deletion, an organisation rename); a new look overwrites the old one
in the same place, so an earlier text does not linger beside it. Hiding as
personal data and deleting an account also drop the places outright
(``forget_items``), with the study's kept lists. A small per-process memory
sits in front of the shared cache (Redis when ``REDIS_URL`` is set, local
memory otherwise), held to the same digest.

Fragments carry slots (``<!--dugnad:tools-->``, ``…:official``,
``…:comments``, ``…:more``, ``…:replies``). Live events empty them
(``live.item_payload``, ``item_html_in``); the page fills them with the item's children and
with the viewer's controls, built here in Python from ``Viewer``: the same
controls static/js/live.js and static/js/moderation.js add (with the same
``data-signature`` / ``data-for-state``, so the scripts leave them alone), as
plain forms so the page works without JavaScript.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext

from accounts.names import names_token
from contributions.models import Comment, Contribution, ItemState
from core.memory import Memory

CONTRIBUTION_TEMPLATE = "contributions/_contribution.html"
COMMENT_TEMPLATE = "contributions/_comment.html"
MARKER_TEMPLATE = "contributions/_item_marker.html"  # included by both
MODERATION_TOOLS_TEMPLATE = "contributions/_item_moderation_tools.html"
CACHE_PREFIX = "fragment:v2:"
CACHE_TIMEOUT = 7 * 24 * 3600
LOCAL_MAX = 4096  # fragments kept in each process's memory

_SLOT = re.compile(r"<!--dugnad:(\w+)-->")
# Per-request values in HTML kept across requests, filled just before sending.
CSRF_SLOT = "__dugnad_csrf__"
IDEMPOTENCY_SLOT = "__dugnad_idempotency__"

_local = Memory("contributions.fragments", LOCAL_MAX)  # place -> (digest, parts)
_template_digest: str | None = None
_moderation_tools = Memory("contributions.moderation_tools", 64)
_tools_memo = Memory("contributions.tools", LOCAL_MAX)


# --- keys -----------------------------------------------------------------------------


def _templates_digest() -> str:
    """A digest of the item templates: a changed template never meets an old fragment."""
    global _template_digest
    if _template_digest is None:
        digest = hashlib.blake2b(digest_size=8)
        for name in (CONTRIBUTION_TEMPLATE, COMMENT_TEMPLATE, MARKER_TEMPLATE):
            template = get_template(name)
            source = getattr(getattr(template, "template", template), "source", name)
            digest.update(source.encode())
        _template_digest = digest.hexdigest()
    return _template_digest


def _person(user) -> tuple:
    return (user.pk, user.public_name) if user is not None else (None, "")


def _organisation(organisation) -> tuple:
    return (organisation.pk, organisation.name) if organisation is not None else (None, "")


def _reaction_count(item) -> int:
    count = getattr(item, "reaction_count", None)
    if count is None:
        count = item.reactions.count()
        item.reaction_count = count
    return count or 0


def _when(value) -> float | None:
    """A moment as a number: the same whichever database driver or code made it."""
    return value.timestamp() if value is not None else None


def _common(item) -> tuple:
    # Choices as plain strings: a fresh item holds enum members, a loaded one strings.
    return (
        item.pk,
        item.revision,
        str(item.state),
        str(item.moderation_reason),
        item.body_html,
        item.author_id,
        _person(item.author),
        _organisation(item.acted_for),
        _when(item.created_at),
        _when(item.edited_at),
        _when(item.updated_at),
        _reaction_count(item),
    )


def _key_parts(item) -> tuple:
    if isinstance(item, Contribution):
        attachments = tuple((a.pk, a.download_name, a.size) for a in item.attachments.all())
        versions = tuple((v.pk, v.number) for v in item.taken_up_in.all())
        section = item.section
        return (
            "contribution",
            *_common(item),
            item.title,
            str(item.kind),
            (section.pk, section.title) if section is not None else None,
            attachments,
            versions,
            # Only links (attachments, versions) show the study's slug.
            item.study.slug if attachments or versions else "",
        )
    return (
        "comment",
        *_common(item),
        item.contribution_id,
        item.parent_id,
        bool(item.official),
    )


def fragment_key(item: Contribution | Comment) -> str:
    """The digest of what the item's fragment shows in the active language and time zone."""
    parts = (
        _templates_digest(),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        _key_parts(item),
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


def _place(type_: str, pk: int, language: str | None, zone: str) -> str:
    return f"{CACHE_PREFIX}{type_}:{pk}:{language}:{zone}"


def slot_key(item: Contribution | Comment) -> str:
    """Where the item's fragment is kept for the active language and time zone."""
    type_ = "contribution" if isinstance(item, Contribution) else "comment"
    return _place(type_, item.pk, translation.get_language(), timezone.get_current_timezone_name())


# --- rendering ------------------------------------------------------------------------


def _render(item: Contribution | Comment) -> str:
    if isinstance(item, Contribution):
        return render_to_string(CONTRIBUTION_TEMPLATE, {"contribution": item})
    return render_to_string(COMMENT_TEMPLATE, {"comment": item})


def _split(html: str) -> tuple[str, ...]:
    """Text and slot names, alternating: ("<div…", "tools", "</div>…", …)."""
    return tuple(_SLOT.split(html))


def _remember(place: str, digest: str, parts: tuple[str, ...]) -> None:
    _local.set(place, (digest, parts))


def fragments(items: list) -> list[tuple[str, ...]]:
    """The split fragments of ``items`` (same order), rendering only what no cache has."""
    return _resolve(
        [(slot_key(item), fragment_key(item), lambda item=item: _render(item)) for item in items]
    )


def _resolve(wanted: list[tuple[str, str, Callable[[], str]]]) -> list[tuple[str, ...]]:
    """Split fragments for (place, digest, render): from this process, else from the
    shared cache in one read, else rendered and stored in one write. A kept fragment
    counts only if its digest is the one wanted."""
    found: dict[str, tuple[str, ...]] = {}
    missing = []
    for place, digest, _render_one in wanted:
        kept = _local.get(place)
        if kept is not None and kept[0] == digest:
            found[place] = kept[1]
        else:
            missing.append(place)
    if missing:
        shared = cache.get_many(missing)
        digests = {place: digest for place, digest, _r in wanted}
        for place, value in shared.items():
            if isinstance(value, tuple) and len(value) == 2 and value[0] == digests[place]:
                parts = _split(value[1])
                found[place] = parts
                _remember(place, value[0], parts)
        new = {}
        for place, digest, render_one in wanted:
            if place not in found:
                html = render_one()
                parts = _split(html)
                found[place] = parts
                _remember(place, digest, parts)
                new[place] = (digest, html)
        if new:
            cache.set_many(new, CACHE_TIMEOUT)
    return [found[place] for place, _digest, _render_one in wanted]


def forget_items(*, contribution_ids=(), comment_ids=(), study_ids=()) -> None:
    """Drop the kept fragments of these items, and the kept lists of these studies,
    from the shared cache and this process: for text or a name that must leave no
    copy (hidden as personal data, a deleted account).

    Other processes hold a fragment only with its digest, which no longer
    matches the item, and a list only under an event number or names that
    have passed, so no request reaches what they still hold.
    """
    from django.conf import settings

    zones = {settings.TIME_ZONE, timezone.get_current_timezone_name()}
    languages = [code for code, _name in settings.LANGUAGES]
    places = [
        _place(type_, pk, language, zone)
        for type_, ids in (("contribution", contribution_ids), ("comment", comment_ids))
        for pk in ids
        for language in languages
        for zone in zones
    ]
    lists = []
    index_keys = [_lists_index(study_id) for study_id in study_ids]
    if index_keys:
        for keys in cache.get_many(index_keys).values():
            lists.extend(keys or ())
    if places or lists or index_keys:
        cache.delete_many([*places, *lists, *index_keys])
    for place in places:
        _local.pop(place)
    if study_ids:
        _lists.clear()
        _seen.clear()
        _names_checked.clear()


def _fill(parts: tuple[str, ...], slots: dict[str, str]) -> str:
    out = []
    for index, part in enumerate(parts):
        out.append(slots.get(part, "") if index % 2 else part)
    return "".join(out)


def item_html(item: Contribution | Comment) -> str:
    """The viewer-neutral HTML of one item with empty slots, as live events carry it."""
    return _fill(fragments([item])[0], {})


def item_html_in(item: Contribution | Comment, languages: list[str]) -> dict[str, str]:
    """``item_html`` in each of ``languages``: one cache read, at most one write."""

    def render_in(code: str) -> Callable[[], str]:
        def render() -> str:
            with translation.override(code):
                return _render(item)

        return render

    wanted = []
    for code in languages:
        with translation.override(code):  # the parts too: a deleted author's name is translated
            wanted.append((slot_key(item), fragment_key(item), render_in(code)))
    found = _resolve(wanted)
    return {code: _fill(parts, {}) for code, parts in zip(languages, found, strict=True)}


# --- the viewer's controls ---------------------------------------------------------------


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


def stub(item: Contribution | Comment) -> Stub:
    if isinstance(item, Contribution):
        return Stub(
            True,
            item.pk,
            str(item.state),
            item.author_id,
            bool(item.edited_at),
            _reaction_count(item),
        )
    return Stub(
        False,
        item.pk,
        str(item.state),
        item.author_id,
        bool(item.edited_at),
        _reaction_count(item),
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
            html = self._live_tools(item) + self._moderation_tools(item)
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
                out.append(_get_button(url, url, target, labels["comment"]))
            elif not item.parent_id and not item.official:
                url = f"{self.base}contributions/{item.contribution_id}/comments/form/"
                out.append(
                    _get_button(
                        url,
                        f"{url}?parent={item.pk}",
                        target,
                        labels["reply"],
                        hidden=f'<input type="hidden" name="parent" value="{item.pk}">',
                    )
                )
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
        ):
            out.append(_get_button(f"{item_url}edit/", f"{item_url}edit/", target, labels["edit"]))
            out.append(
                f'<form method="post" action="{item_url}withdraw/">{self._csrf()}'
                f'<button type="submit" class="ds-button button small secondary" '
                f'hx-post="{item_url}withdraw/" hx-target="{target}" '
                f'hx-confirm="{labels["confirm"]}">{labels["withdraw"]}</button></form>'
            )
        if self.can_moderate and item.edited:
            url = f"{item_url}history/"
            out.append(_get_button(url, url, target, labels["history"]))
        if not out:
            return ""
        signature = f"{state}|{count}|{1 if reacted else 0}|{edited}"
        return f'<span class="live-item-tools" data-signature="{signature}">{"".join(out)}</span>'

    def _csrf(self) -> str:
        return f'<input type="hidden" name="csrfmiddlewaretoken" value="{CSRF_SLOT}">'

    def _moderation_tools(self, item: Stub) -> str:
        type_ = "contribution" if item.is_contribution else "comment"
        # Flagging stays on the client (static/js/moderation.js): a form per item
        # for every member would double the page; facilitators are few.
        if not self.can_moderate:
            return ""
        mode = "moderate"
        html = moderation_tools_template(mode, item.state)
        if not html:
            return ""
        item_url = reverse("moderation:item", args=[self.slug, type_, item.pk])
        url = (
            item_url
            if mode == "moderate"
            else reverse("moderation:flag", args=[self.slug, type_, item.pk])
        )
        return (
            html.replace("__ITEM_URL__", item_url)
            .replace("__URL__", url)
            .replace("__NEXT__", escape(f"{self.next_url}#{type_}-{item.pk}"))
            .replace("__UID__", f"{type_}-{item.pk}")
            .replace("__CSRF__", CSRF_SLOT)
        )


def _get_button(action: str, hx_url: str, target: str, label: str, hidden: str = "") -> str:
    return (
        f'<form method="get" action="{action}">{hidden}'
        f'<button type="submit" class="ds-button button small secondary" hx-get="{escape(hx_url)}" '
        f'hx-target="{target}">{label}</button></form>'
    )


def moderation_tools_template(mode: str, state: str) -> str:
    """Flag or moderation controls with placeholders, rendered once per language and state."""
    key = (translation.get_language(), mode, str(state))
    html = _moderation_tools.get(key)
    if html is None:
        from moderation.models import FlagReason
        from moderation.services import HIDE_REASON_CHOICES

        html = render_to_string(
            MODERATION_TOOLS_TEMPLATE,
            {
                "mode": mode,
                "state": str(state),
                "flag_reasons": FlagReason.choices,
                "hide_reasons": HIDE_REASON_CHOICES,
            },
        ).strip()
        _moderation_tools.set(key, html)
    return html


# --- the page ------------------------------------------------------------------------


def _more_comments(contribution: Contribution, slug: str) -> str:
    count = getattr(contribution, "more_comments", 0)
    if not count:
        return ""
    dom_id = contribution.dom_id
    url = reverse("contribution_comments", kwargs={"slug": slug, "pk": contribution.pk})
    label = ngettext("Show %(counter)s more comment", "Show %(counter)s more comments", count) % {
        "counter": count
    }
    return (
        f'<div class="more-comments" id="{dom_id}-more">'
        f'<button type="button" class="ds-button button small secondary" hx-get="{url}" '
        f'hx-target="#{dom_id}-comments" hx-swap="innerHTML" '
        f'data-hide-after-load="#{dom_id}-more">{escape(label)}</button></div>'
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

    def comment(self, comment: Comment) -> None:
        replies = getattr(comment, "reply_list", None) or ()
        self.item(comment, {"replies": lambda: [self.comment(r) for r in replies]})

    def contribution(self, contribution: Contribution, slug: str) -> None:
        official = getattr(contribution, "official_list", ())
        comments = getattr(contribution, "comment_list", ())
        self.item(
            contribution,
            {
                "official": lambda: [self.comment(c) for c in official],
                "comments": lambda: [self.comment(c) for c in comments],
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
    check: tuple = ()  # (people, organisations, digest): see _names_digest

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


def render_contributions(contributions: list[Contribution], viewer: Viewer) -> str:
    """Contributions with their comments as arranged by the selectors, for this viewer."""
    return listing_of(contributions, viewer.slug).html(viewer)


def render_comments(comments: list[Comment], viewer: Viewer) -> str:
    """Top-level comments with their replies (after "show more"), for this viewer."""
    items: list = []
    for comment in comments:
        items.append(comment)
        items.extend(getattr(comment, "reply_list", ()))
    builder = _Parts(_by_item(items))
    for comment in comments:
        builder.comment(comment)
    return Listing(parts=tuple(builder.out)).html(viewer)


# --- the whole list, cached per study event ---------------------------------------------

LIST_PREFIX = "fragment-list:v2:"
LISTS_MAX = 64  # lists kept in each process's memory (about 150-250 KB each)
LIST_TIMEOUT = 3600  # a list is for one event number: soon of no use
_lists = Memory("contributions.lists", LISTS_MAX)
_seen = Memory("contributions.lists_seen", LOCAL_MAX)  # keys asked for once


def _digest(rows: list) -> str:
    return hashlib.blake2b(repr(rows).encode(), digest_size=16).hexdigest()


def _names_digest(people: tuple, organisations: tuple) -> str:
    """The names a list shows that change without a study event, as stored now.

    Account deletion and display-name changes (accounts) and organisation
    renames record no study event, so a cached list is checked against them
    on every use, in one query. Section titles need no check: a renamed
    section moves the study's ``updated_at``, which is part of the list's key.
    """
    from accounts.models import Organisation, User

    q = connection.ops.quote_name

    def rows_of(kind: int, model, columns: str, ids: tuple) -> None:
        pk = q(model._meta.pk.column)
        selects.append(
            f"SELECT {kind}, {pk}, {columns} FROM {q(model._meta.db_table)} "  # noqa: S608
            f"WHERE {pk} IN ({', '.join(['%s'] * len(ids))})"
        )
        params.extend(ids)

    selects, params = [], []
    if people:
        person = f"{q('display_name')}, {q('email')}, {q('deleted_at')} IS NOT NULL"
        rows_of(0, User, person, people)
    if organisations:
        rows_of(1, Organisation, f"{q('name')}, '', 0 = 1", organisations)
    if not selects:
        return _digest([])
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects) + " ORDER BY 1, 2", params)
        rows = [(kind, pk, name, email, bool(deleted)) for kind, pk, name, email, deleted in cursor]
    return _digest(rows)


def _names_of(contributions: list[Contribution]) -> tuple[tuple, tuple, str]:
    """The ids behind the names a list shows, and their digest as ``_names_digest`` makes it."""
    people, organisations = {}, {}
    for contribution in contributions:
        for item in (contribution, *_comments_of(contribution)):
            author = item.author
            people[author.pk] = (
                0,
                author.pk,
                author.display_name,
                author.email,
                author.deleted_at is not None,
            )
            if item.acted_for_id:
                name = item.acted_for.name
                organisations[item.acted_for_id] = (1, item.acted_for_id, name, "", False)
    rows = [found[k] for found in (people, organisations) for k in sorted(found)]
    return tuple(sorted(people)), tuple(sorted(organisations)), _digest(rows)


def list_key(*, study, last_seq: int, **page) -> str:
    from contributions.selectors import COMMENTS_SHOWN, PAGE_SIZE

    parts = (
        _templates_digest(),
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
    ``last_seq`` (docs/live.md), so the number is part of the key; names that
    change without an event are checked against the database
    (``_names_current``).
    ``load`` returns a ``selectors.ContributionPage``; it is called only when
    no cache has the list. A list is stored the second time it is asked for in
    a process: lists seen once (a rare filter, an old page, an event number
    that was soon passed) do not fill the shared cache.
    """
    key = list_key(study=study, last_seq=last_seq, **page)
    listing = _lists.get(key)
    if listing is None:
        listing = cache.get(key)
    if listing is not None:
        if _names_current(key, listing):
            _remember_list(key, listing)
            return listing
        listing = None
    loaded = load()
    listing = listing_of(
        loaded.contributions,
        study.slug,
        has_more=loaded.has_more,
        next_before=loaded.next_before,
    )
    listing.check = _names_of(loaded.contributions)
    if key in _seen:
        _remember_list(key, listing)
        cache.set(key, listing, LIST_TIMEOUT)
        _index_list(study.pk, key)
    else:
        _seen.set(key, True)
    return listing


# List key -> (names token, the list's names digest, when checked): lists whose
# names this process checked against the database while the token stood.
_names_checked = Memory("contributions.names_checked", LOCAL_MAX)
NAMES_TRUST_SECONDS = 60


def _names_current(key: str, listing: Listing) -> bool:
    """Whether the names the list shows are still the stored ones.

    Checked in the database (``_names_digest``) once per names token
    (accounts/names.py) and list, and at least every NAMES_TRUST_SECONDS.
    The token is read before the check: a change committed after it brings
    a new token, so the next use checks again.
    """
    token = names_token()
    digest = listing.check[2]
    now = time.monotonic()
    seen = _names_checked.get(key)
    if (
        token is not None
        and seen is not None
        and seen[:2] == (token, digest)
        and now - seen[2] < NAMES_TRUST_SECONDS
    ):
        return True
    if _names_digest(*listing.check[:2]) != digest:
        return False
    if token is not None:
        _names_checked.set(key, (token, digest, now))
    return True


LISTS_INDEXED = 256  # list keys remembered per study, to drop them (forget_items)


def _lists_index(study_id: int) -> str:
    return f"{LIST_PREFIX}index:{study_id}"


def _index_list(study_id: int, key: str) -> None:
    """Remember that a list of the study was kept, so forget_items can drop it.

    Read and written without a lock: a key lost to a race stays only under an
    event number that has passed (forget_items follows an event or a names
    change), where no request looks.
    """
    index = _lists_index(study_id)
    keys = [k for k in (cache.get(index) or []) if k != key][-(LISTS_INDEXED - 1) :]
    cache.set(index, [*keys, key], LIST_TIMEOUT)


def _remember_list(key: str, listing: Listing) -> None:
    _lists.set(key, listing)


# --- the page's forms --------------------------------------------------------------------

_forms = Memory("contributions.forms", LOCAL_MAX // 16)


def form_html(key: tuple, render) -> str:
    """An empty form rendered once per process for ``key`` (language and choices included).

    Kept in this process only: a new deployment starts with new templates.
    Per-request values (the CSRF token, an idempotency key) are left as
    ``CSRF_SLOT`` / ``IDEMPOTENCY_SLOT`` for the caller to fill.
    """
    return _forms.get_or_set((translation.get_language(), *key), render)


_memo = Memory("contributions.memo", LOCAL_MAX)


def remembered(key: tuple, compute):
    """``compute()`` once per process for ``key``; for keys that name a state that never
    changes (e.g. a study's event number), so the value can never be stale."""
    return _memo.get_or_set(key, compute)
