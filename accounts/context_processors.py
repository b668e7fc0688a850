from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.administrators import is_administrator
from accounts.selectors import unread_count


def platform(request: HttpRequest) -> dict:
    """What every page needs: unread notifications, and where MFA set-up should lead back to.

    The unread count is counted only when a template shows it (the page's
    header), not for the fragments htmx and live updates fetch.
    """
    unread = 0
    mfa_next = ""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        unread = SimpleLazyObject(lambda: unread_count(user=user))
        mfa_next = request.session.get("mfa_next", "")
    return {
        "unread_notifications": unread,
        "mfa_next": mfa_next,
        "DUGNAD_DEBUG": settings.DEBUG,
        "is_administrator": is_administrator(user),
    }
