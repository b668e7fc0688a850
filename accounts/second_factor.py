"""The second factor: every staff power asks for one used in this session.

"Used in this session" is read from allauth's own authentication records
(``account_authentication_methods`` in the session): signing in with a TOTP
code or a recovery code, reauthenticating with one, or setting up TOTP by
entering a code from it each leave an ``mfa`` record there. Having an
authenticator is not enough: a password-only session (a stolen password, a
session opened before TOTP existed) holds no such record.

``require_second_factor`` raises ``SecondFactorRequired``, which
``accounts.middleware`` turns into the guided page: set up TOTP when the
person has none, otherwise confirm with it. ``DUGNAD_REQUIRE_MFA=0`` turns
the requirement off for development.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from urllib.parse import urlencode

from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse

MFA_METHOD = "mfa"


class SecondFactorRequired(PermissionDenied):
    """The person may do this, but must use a second factor in this session first.

    accounts.middleware turns it into a guided redirect: set up TOTP, or
    confirm with it.
    """


def has_totp(user) -> bool:
    """Whether the person has an authenticator app set up (not whether they used it)."""
    from allauth.mfa.models import Authenticator

    if user is None or not user.is_authenticated:
        return False
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def second_factor_in_session(request) -> bool:
    """Whether the signed-in person used TOTP or a recovery code in this session.

    ``request`` is anything with ``user`` and ``session`` (an HttpRequest, or
    ``scope_request`` for a socket). A request authenticated by a credential
    of its own (``request.auth``, the API's personal token) carries that
    credential's proof instead: a token is issued only with a second factor
    in the session, and honoured only while its owner keeps TOTP.
    """
    if not settings.DUGNAD_REQUIRE_MFA:
        return True
    if request is None:
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if getattr(request, "auth", None) is not None:
        return has_totp(user)
    session = getattr(request, "session", None)
    if session is None:
        return False
    ids = [
        record.get("id")
        for record in get_authentication_records(request, user)
        if record.get("method") == MFA_METHOD
    ]
    if not ids:
        return False
    # The authenticator used must still exist: removing TOTP ends the proof.
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, pk__in=ids).exists()


def require_second_factor(request) -> None:
    """Raise unless the person used a second factor in this session.

    Anonymous requests get a plain PermissionDenied: there is nobody to guide.
    """
    if second_factor_in_session(request):
        return
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise PermissionDenied("sign in first")
    raise SecondFactorRequired("second factor")


def current_request(user) -> HttpRequest | None:
    """The request being answered, if it is this person's (allauth keeps it in a context var).

    Lets checks that are handed only a user (``studies.access.study_for_user``)
    read the session of the page that asked, and fail closed elsewhere.
    """
    request = context.request
    if request is None or user is None or not user.is_authenticated:
        return None
    if getattr(request.user, "pk", None) != user.pk:
        return None
    return request


def second_factor_for(user) -> bool:
    """``second_factor_in_session`` for the request being answered, if it is this person's."""
    if not settings.DUGNAD_REQUIRE_MFA:
        return True
    return second_factor_in_session(current_request(user))


def scope_request(scope: dict) -> SimpleNamespace:
    """A socket's scope as a request for ``second_factor_in_session``: its user and session."""
    return SimpleNamespace(user=scope.get("user"), session=scope.get("session"))


def second_factor_url(user, next_url: str) -> str:
    """Where to go for the second factor: set up TOTP, or confirm with it, then ``next_url``."""
    if has_totp(user):
        return f"{reverse('mfa_reauthenticate')}?{urlencode({'next': next_url})}"
    return reverse("mfa_activate_totp")


def last_authenticated_at(request) -> float | None:
    """When the person last proved who they are in this session (sign-in or reauthentication)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    times = [
        record["at"]
        for record in get_authentication_records(request, user)
        if isinstance(record.get("at"), int | float)
    ]
    return max(times, default=None)


def require_recent_authentication(request, *, max_age_seconds: float) -> None:
    """Raise allauth's ReauthenticationRequired unless the person proved who they are lately.

    allauth's middleware answers it with its reauthentication page and brings
    the person back to this request afterwards.
    """
    at = last_authenticated_at(request)
    if at is None or time.time() - at > max_age_seconds:
        raise ReauthenticationRequired()
