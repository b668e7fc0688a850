from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict:
    """What every page needs: unread notifications and the available languages."""
    unread = 0
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        unread = user.notifications.filter(read_at__isnull=True).count()
    return {"unread_notifications": unread, "DUGNAD_DEBUG": settings.DEBUG}
