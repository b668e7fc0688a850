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
(``listing.forget_items``), with the study's kept lists. A small per-process memory
sits in front of the shared cache (Redis when ``REDIS_URL`` is set, local
memory otherwise), held to the same digest.

Fragments carry slots (``<!--dugnad:tools-->``, ``…:official``,
``…:comments``, ``…:more``, ``…:replies``). Live events empty them
(``live.item_payload``, ``item_html_in``); the page fills them with the
item's children (contributions/listing.py) and with the viewer's controls
(contributions/controls.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from django.core.cache import cache
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

from contributions.models import Comment, Contribution
from core.memory import Memory, MiB

CONTRIBUTION_TEMPLATE = "contributions/_contribution.html"
COMMENT_TEMPLATE = "contributions/_comment.html"
MARKER_TEMPLATE = "contributions/_item_marker.html"  # included by both
PASSAGE_TEMPLATE = "contributions/_passage_ref.html"  # included for passages and amendments
CACHE_PREFIX = "fragment:v2:"
CACHE_TIMEOUT = 7 * 24 * 3600
LOCAL_MAX = 4096  # fragments kept in each process's memory
LOCAL_BYTES = 2 * MiB  # about 1,400 items' fragments (1.4 KB each)

_SLOT = re.compile(r"<!--dugnad:(\w+)-->")
# Per-request values in HTML kept across requests, filled just before sending.
CSRF_SLOT = "__dugnad_csrf__"
IDEMPOTENCY_SLOT = "__dugnad_idempotency__"

# place -> (digest, parts)
_local = Memory("contributions.fragments", LOCAL_MAX, max_bytes=LOCAL_BYTES)
_template_digest: str | None = None


# --- keys -----------------------------------------------------------------------------


def templates_digest() -> str:
    """A digest of the item templates: a changed template never meets an old fragment."""
    global _template_digest
    if _template_digest is None:
        digest = hashlib.blake2b(digest_size=8)
        for name in (CONTRIBUTION_TEMPLATE, COMMENT_TEMPLATE, MARKER_TEMPLATE, PASSAGE_TEMPLATE):
            template = get_template(name)
            source = getattr(getattr(template, "template", template), "source", name)
            digest.update(source.encode())
        _template_digest = digest.hexdigest()
    return _template_digest


def _person(user) -> tuple:
    return (user.pk, user.public_name) if user is not None else (None, "")


def _organisation(organisation) -> tuple:
    return (organisation.pk, organisation.name) if organisation is not None else (None, "")


def reaction_count(item) -> int:
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
        str(item.acted_for_claim),
        _when(item.created_at),
        _when(item.edited_at),
        # Not ``updated_at``: no fragment shows it, and a comment's event is
        # rendered before its row is saved (services.comment_create), when it is
        # not yet set; the page that follows reuses that render.
        reaction_count(item),
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
        templates_digest(),
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


def _resolve(
    wanted: list[tuple[str, str, Callable[[], str]]], *, shared_read: bool = True
) -> list[tuple[str, ...]]:
    """Split fragments for (place, digest, render): from this process, else from the
    shared cache in one read, else rendered and stored in one write. A kept fragment
    counts only if its digest is the one wanted. ``shared_read=False``: the shared
    cache is not asked (it cannot hold them yet)."""
    found: dict[str, tuple[str, ...]] = {}
    missing = []
    for place, digest, _render_one in wanted:
        kept = _local.get(place)
        if kept is not None and kept[0] == digest:
            found[place] = kept[1]
        else:
            missing.append(place)
    if missing:
        shared = cache.get_many(missing) if shared_read else {}
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


def forget_fragments(*, contribution_ids=(), comment_ids=()) -> None:
    """Drop the kept fragments of these items from the shared cache and this process:
    for text or a name that must leave no copy (hidden as personal data, a deleted
    account). Other processes hold a fragment only with its digest, which no longer
    matches the item, so no request reaches what they still hold."""
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
    if places:
        cache.delete_many(places)
    for place in places:
        _local.pop(place)


def _fill(parts: tuple[str, ...], slots: dict[str, str]) -> str:
    out = []
    for index, part in enumerate(parts):
        out.append(slots.get(part, "") if index % 2 else part)
    return "".join(out)


def item_html(item: Contribution | Comment) -> str:
    """The viewer-neutral HTML of one item with empty slots, as live events carry it."""
    return _fill(fragments([item])[0], {})


def item_html_in(
    item: Contribution | Comment, languages: list[str], *, new: bool = False
) -> dict[str, str]:
    """``item_html`` in each of ``languages``: one cache read, at most one write.

    ``new``: the item's row is written in this transaction, with an id never
    used before, so no cache holds its look: the read is left out (a round trip
    to Redis, about 1 % of a posted comment's CPU; docs/benchmarks.md).
    """

    def render_in(code: str) -> Callable[[], str]:
        def render() -> str:
            with translation.override(code):
                return _render(item)

        return render

    wanted = []
    for code in languages:
        with translation.override(code):  # the parts too: a deleted author's name is translated
            wanted.append((slot_key(item), fragment_key(item), render_in(code)))
    found = _resolve(wanted, shared_read=not new)
    return {code: _fill(parts, {}) for code, parts in zip(languages, found, strict=True)}
