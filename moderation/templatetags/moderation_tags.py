"""What the study page needs to add flag and moderation controls for this viewer."""

from django import template

from moderation.models import FlagReason
from moderation.services import HIDE_REASON_CHOICES
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
        "flag_reasons": FlagReason.choices,
        "hide_reasons": HIDE_REASON_CHOICES,
    }
