"""Moderation's controls on each item of the study page, from one template.

``templates/moderation/_item_tools.html`` is the only copy of the hide and
restore forms (and of the flag form): rendered once per language, mode and
state with placeholders, filled per item here for the server-rendered page
and by static/js/moderation.js for items that arrive live (it copies the
"any" state from a <template> that moderation_tags puts on the page).
``item_tools`` is registered with contributions' controls in ready().
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from contributions.controls import Stub, Viewer
from contributions.fragments import CSRF_SLOT
from core.memory import Memory
from moderation.models import FlagReason
from moderation.services import HIDE_REASON_CHOICES

TEMPLATE = "moderation/_item_tools.html"
_templates = Memory("moderation.item_tools", 64)


def item_tools(viewer: Viewer, item: Stub) -> str:
    """Hide, restore and more for facilitators; nothing for anyone else.

    Flagging stays on the client (static/js/moderation.js): a form per item
    for every member would double the page; facilitators are few.
    """
    if not viewer.can_moderate:
        return ""
    html = tools_template("moderate", item.state)
    if not html:
        return ""
    type_ = "contribution" if item.is_contribution else "comment"
    item_url = reverse("moderation:item", args=[viewer.slug, type_, item.pk])
    return (
        html.replace("__ITEM_URL__", item_url)
        .replace("__URL__", item_url)
        .replace("__NEXT__", escape(f"{viewer.next_url}#{type_}-{item.pk}"))
        .replace("__UID__", f"{type_}-{item.pk}")
        .replace("__CSRF__", CSRF_SLOT)
    )


def tools_template(mode: str, state: str) -> str:
    """Flag or moderation controls with placeholders, rendered once per language and state."""
    key = (translation.get_language(), mode, str(state))
    html = _templates.get(key)
    if html is None:
        html = render_to_string(
            TEMPLATE,
            {
                "mode": mode,
                "state": str(state),
                "flag_reasons": FlagReason.choices,
                "hide_reasons": HIDE_REASON_CHOICES,
            },
        ).strip()
        _templates.set(key, html)
    return html
