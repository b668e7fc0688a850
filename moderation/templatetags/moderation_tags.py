"""What the study page needs to add flag and moderation controls for this viewer."""

from django import template
from django.middleware.csrf import get_token
from django.utils.html import escape
from django.utils.safestring import mark_safe

from moderation.item_tools import tools_template
from studies.access import Action

register = template.Library()


@register.simple_tag(takes_context=True)
def moderation_tools(context, access) -> dict:
    """Which controls the viewer gets; the server re-checks every action anyway."""
    if access is None:
        return {}
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return {}
    can_moderate = access.can(Action.MODERATE, user)
    return {
        "can_moderate": can_moderate,
        "can_flag": access.can(Action.CONTRIBUTE, user) and not can_moderate,
        "blocked": access.is_blocked,
        "membership": access.membership,
        "user_id": user.pk,
    }


@register.simple_tag(takes_context=True)
def item_moderation_template(context, mode: str) -> str:
    """The item controls the server renders (moderation/_item_tools.html),
    with every form, for static/js/moderation.js to copy onto items that arrive live.

    Only the CSRF token is filled here; the script fills __URL__, __NEXT__, __UID__
    and __ITEM_URL__ per item, and keeps the forms for the item's state.
    """
    request = context.get("request")
    # The context's token: on the study page's kept shell, the slot the request fills.
    token = context.get("csrf_token") or (get_token(request) if request is not None else "")
    html = tools_template(mode, "any")
    return mark_safe(html.replace("__CSRF__", escape(token)))  # noqa: S308 - our own template
