"""Item HTML, rendered once and reused by the study page and live events.

An item's viewer-neutral HTML (``_contribution.html``, ``_comment.html``) is
cached under a key made from *everything the fragment shows*: type, id,
revision, state, reason, title and text, dates, reaction count, author's
public name, organisation name, section title, attachments, the versions
that took it up, the study's slug, the language, the time zone and the
template sources. Any change to any of them is a new key, so a cached
fragment can never be served stale, whoever made the change (an edit, a
reaction, moderation, an account deletion, an organisation rename) and
without any invalidation hook. Keys are content addresses, so a small
per-process memory sits in front of the shared cache (Redis when
``REDIS_URL`` is set, local memory otherwise).

Fragments carry slots (``<!--dugnad:tools-->``, ``…:official``,
``…:comments``, ``…:more``, ``…:replies``). Live events empty them
(``live.render_item``); the page fills them with the item's children and
with the viewer's controls, built here in Python from ``Viewer``: the same
controls static/js/live.js and static/js/moderation.js add (with the same
``data-signature`` / ``data-for-state``, so the scripts leave them alone), as
plain forms so the page works without JavaScript.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field

from django.core.cache import cache
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext

from contributions.models import Comment, Contribution, ItemState

CONTRIBUTION_TEMPLATE = "contributions/_contribution.html"
COMMENT_TEMPLATE = "contributions/_comment.html"
MODERATION_TOOLS_TEMPLATE = "contributions/_item_moderation_tools.html"
CACHE_PREFIX = "fragment:v1:"
CACHE_TIMEOUT = 7 * 24 * 3600
LOCAL_MAX = 4096  # fragments kept in each process's memory

_SLOT = re.compile(r"<!--dugnad:(\w+)-->")

# Fragments rendered in this process (counted by tests: "rendered at most once").
renders = {"count": 0}

_local: dict[str, tuple[str, ...]] = {}
_local_lock = threading.Lock()
_template_digest: str | None = None
_moderation_tools: dict[tuple, str] = {}


# --- keys -----------------------------------------------------------------------------


def _templates_digest() -> str:
    """A digest of the item templates: a changed template never meets an old fragment."""
    global _template_digest
    if _template_digest is None:
        digest = hashlib.blake2b(digest_size=8)
        for name in (CONTRIBUTION_TEMPLATE, COMMENT_TEMPLATE):
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


def _common(item) -> tuple:
    return (
        item.pk,
        item.revision,
        item.state,
        item.moderation_reason,
        item.body_html,
        item.author_id,
        _person(item.author),
        _organisation(item.acted_for),
        item.created_at,
        item.edited_at,
        item.updated_at,
        _reaction_count(item),
    )


def _key_parts(item) -> tuple:
    if isinstance(item, Contribution):
        attachments = tuple((a.pk, a.original_name, a.size) for a in item.attachments.all())
        versions = tuple((v.pk, v.number) for v in item.taken_up_in.all())
        section = item.section
        return (
            "contribution",
            *_common(item),
            item.title,
            item.kind,
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
        item.official,
    )


def fragment_key(item: Contribution | Comment) -> str:
    """The cache key of the item's fragment in the active language and time zone."""
    parts = (
        _templates_digest(),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        _key_parts(item),
    )
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()
    return f"{CACHE_PREFIX}{digest}"


# --- rendering ------------------------------------------------------------------------


def _render(item: Contribution | Comment) -> str:
    renders["count"] += 1
    if isinstance(item, Contribution):
        return render_to_string(CONTRIBUTION_TEMPLATE, {"contribution": item})
    return render_to_string(COMMENT_TEMPLATE, {"comment": item})


def _split(html: str) -> tuple[str, ...]:
    """Text and slot names, alternating: ("<div…", "tools", "</div>…", …)."""
    return tuple(_SLOT.split(html))


def _remember(key: str, parts: tuple[str, ...]) -> None:
    with _local_lock:
        if len(_local) >= LOCAL_MAX:
            for old in list(_local)[: LOCAL_MAX // 4]:
                _local.pop(old, None)
        _local[key] = parts


def fragments(items: list) -> list[tuple[str, ...]]:
    """The split fragments of ``items`` (same order), rendering only what no cache has."""
    keys = [fragment_key(item) for item in items]
    found: dict[str, tuple[str, ...]] = {}
    missing = []
    for key in keys:
        parts = _local.get(key)
        if parts is None:
            missing.append(key)
        else:
            found[key] = parts
    if missing:
        shared = cache.get_many(missing)
        for key, html in shared.items():
            parts = _split(html)
            found[key] = parts
            _remember(key, parts)
        new = {}
        for key, item in zip(keys, items, strict=True):
            if key not in found:
                html = _render(item)
                parts = _split(html)
                found[key] = parts
                _remember(key, parts)
                new[key] = html
        if new:
            cache.set_many(new, CACHE_TIMEOUT)
    return [found[key] for key in keys]


def _fill(parts: tuple[str, ...], slots: dict[str, str]) -> str:
    out = []
    for index, part in enumerate(parts):
        out.append(slots.get(part, "") if index % 2 else part)
    return "".join(out)


def item_html(item: Contribution | Comment) -> str:
    """The viewer-neutral HTML of one item with empty slots, as live events carry it."""
    return _fill(fragments([item])[0], {})


# --- the viewer's controls ---------------------------------------------------------------


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

    def tools(self, item: Contribution | Comment) -> str:
        """The controls this viewer gets on this item (empty for anonymous visitors)."""
        if self.anonymous:
            return ""
        return self._live_tools(item) + self._moderation_tools(item)

    def _live_tools(self, item) -> str:
        labels = self.labels()
        is_contribution = isinstance(item, Contribution)
        type_ = "contribution" if is_contribution else "comment"
        key = f"{type_}-{item.pk}"
        state = item.state
        count = getattr(item, "reaction_count", None) or 0
        reacted = key in self.reacted
        edited = "true" if item.edited_at else "false"
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
                f'<button type="submit" class="button small secondary react-button" '
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
                f'<button type="submit" class="button small secondary" '
                f'hx-post="{item_url}withdraw/" hx-target="{target}" '
                f'hx-confirm="{labels["confirm"]}">{labels["withdraw"]}</button></form>'
            )
        if self.can_moderate and item.edited_at:
            url = f"{item_url}history/"
            out.append(_get_button(url, url, target, labels["history"]))
        if not out:
            return ""
        signature = f"{state}|{count}|{1 if reacted else 0}|{edited}"
        return f'<span class="live-item-tools" data-signature="{signature}">{"".join(out)}</span>'

    def _csrf(self) -> str:
        return f'<input type="hidden" name="csrfmiddlewaretoken" value="{self.csrf_token}">'

    def _moderation_tools(self, item) -> str:
        type_ = "contribution" if isinstance(item, Contribution) else "comment"
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
            .replace("__CSRF__", self.csrf_token)
        )


def _get_button(action: str, hx_url: str, target: str, label: str, hidden: str = "") -> str:
    return (
        f'<form method="get" action="{action}">{hidden}'
        f'<button type="submit" class="button small secondary" hx-get="{escape(hx_url)}" '
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
        _moderation_tools[key] = html
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
        f'<button type="button" class="button small secondary" hx-get="{url}" '
        f'hx-target="#{dom_id}-comments" hx-swap="innerHTML" '
        f'data-hide-after-load="#{dom_id}-more">{escape(label)}</button></div>'
    )


def _comments_of(contribution: Contribution) -> list[Comment]:
    out = []
    for comment in getattr(contribution, "official_list", []):
        out.append(comment)
    for comment in getattr(contribution, "comment_list", []):
        out.append(comment)
        out.extend(getattr(comment, "reply_list", []))
    return out


def render_contributions(contributions: list[Contribution], viewer: Viewer) -> str:
    """Contributions with their comments as arranged by the selectors, for this viewer."""
    items: list = []
    for contribution in contributions:
        items.append(contribution)
        items.extend(_comments_of(contribution))
    parts = dict(zip((id(i) for i in items), fragments(items), strict=True))
    out = []
    for contribution in contributions:
        out.append(
            _fill(
                parts[id(contribution)],
                {
                    "tools": viewer.tools(contribution),
                    "official": "".join(
                        _comment(c, parts, viewer) for c in contribution.official_list
                    )
                    if hasattr(contribution, "official_list")
                    else "",
                    "comments": "".join(
                        _comment(c, parts, viewer) for c in contribution.comment_list
                    )
                    if hasattr(contribution, "comment_list")
                    else "",
                    "more": _more_comments(contribution, viewer.slug),
                },
            )
        )
    return "".join(out)


def _comment(comment: Comment, parts: dict, viewer: Viewer) -> str:
    replies = getattr(comment, "reply_list", None)
    return _fill(
        parts[id(comment)],
        {
            "tools": viewer.tools(comment),
            "replies": "".join(_comment(r, parts, viewer) for r in replies) if replies else "",
        },
    )


def render_comments(comments: list[Comment], viewer: Viewer) -> str:
    """Top-level comments with their replies (after "show more"), for this viewer."""
    items: list = []
    for comment in comments:
        items.append(comment)
        items.extend(getattr(comment, "reply_list", []))
    parts = dict(zip((id(i) for i in items), fragments(items), strict=True))
    return "".join(_comment(c, parts, viewer) for c in comments)


def clear_local() -> None:
    """Forget this process's copies (tests)."""
    with _local_lock:
        _local.clear()
    _moderation_tools.clear()
