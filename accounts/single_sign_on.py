"""Single sign-on: connecting an identity from a provider to a Dugnad account.

An identity is connected to an existing account only when the person has
proved that the account is theirs:

- they sign in to it (password or a code sent to its address, and its second
  factor) and then confirm, on ``sso_connect``; or
- the provider is trusted (``SSO_TRUSTED_PROVIDERS``), says the address is
  verified, and the account's own address is verified too; the connection is
  then saved only after the account's second factor (``finish_login``).

Every connection is e-mailed to the account's owner with the way to remove it.
"""

from __future__ import annotations

import time

from allauth.account.internal.userkit import filter_users_by_email
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation

PENDING_KEY = "sso_pending_connection"
# How long a person has to sign in to their account and confirm the connection.
PENDING_SECONDS = 30 * 60
CONNECT_AFTER_LOGIN = "dugnad_connect_after_login"


def _matching_account(sociallogin: SocialLogin):
    """The local account holding an address the provider says is verified, with that address."""
    for address in sociallogin.email_addresses:
        if not address.verified:
            continue
        users = filter_users_by_email(address.email, prefer_verified=True)
        if users:
            return users[0], address.email
    return None, None


def _local_address_verified(user, email: str) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def check_existing_account(request: HttpRequest, sociallogin: SocialLogin) -> HttpResponse | None:
    """Called before a social login is processed: stop it if it would take over an account.

    Returns the response that replaces the login (the page where the person
    proves they own the account), or None to let allauth go on.
    """
    if sociallogin.is_existing:
        return None  # this identity is already connected to an account
    if sociallogin.state.get("process") == AuthProcess.CONNECT:
        return None  # a signed-in person connecting from their own settings
    user, email = _matching_account(sociallogin)
    if user is None:
        return None
    provider_id = sociallogin.account.provider
    if provider_id in settings.SSO_TRUSTED_PROVIDERS and _local_address_verified(user, email):
        sociallogin.user = user
        sociallogin.state[CONNECT_AFTER_LOGIN] = True
        return None
    sociallogin.token = None  # nothing of the provider's tokens is kept
    request.session[PENDING_KEY] = {
        "login": sociallogin.serialize(),
        "user": user.pk,
        "email": email,
        "address_verified": _local_address_verified(user, email),
        "at": time.time(),
    }
    return redirect("sso_connect")


def pending_connection(request: HttpRequest) -> dict | None:
    """The identity waiting to be connected in this session, or None (also when it expired)."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if time.time() - float(data.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    try:
        data["sociallogin"] = SocialLogin.deserialize(data["login"])
    except Exception:  # noqa: BLE001 - a provider removed from settings, or stale data
        request.session.pop(PENDING_KEY, None)
        return None
    return data


def pending_connection_discard(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def pending_connection_confirm(request: HttpRequest, *, pending: dict) -> SocialAccount | None:
    """Connect the waiting identity to the signed-in person, who must own the matched account.

    Returns the connected account, or None when the identity is already
    connected (to anyone). If the account's own address had never been
    verified, its password is removed: whoever set it never proved the address.
    """
    user = request.user
    assert user.is_authenticated and user.pk == pending["user"]  # noqa: S101 - the view checks
    sociallogin: SocialLogin = pending["sociallogin"]
    request.session.pop(PENDING_KEY, None)
    with transaction.atomic():
        if SocialAccount.objects.filter(
            provider=sociallogin.account.provider, uid=sociallogin.account.uid
        ).exists():
            return None
        if not pending["address_verified"] and user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        sociallogin.user = user
        sociallogin.account.user = user
        sociallogin.account.save()
    _notify_connected(request, user=user, sociallogin=sociallogin)
    return sociallogin.account


def finish_login(request: HttpRequest, *, user, sociallogin: SocialLogin) -> None:
    """After every login stage (the second factor included): the writes a social login defers."""
    account = sociallogin.account
    if sociallogin.state.get(CONNECT_AFTER_LOGIN):
        with transaction.atomic():
            if SocialAccount.objects.filter(provider=account.provider, uid=account.uid).exists():
                return
            account.user = user
            account.save()
        _notify_connected(request, user=user, sociallogin=sociallogin)
    elif account.pk:
        # The claims of this sign-in (accounts.oidc.DeferredSocialLogin kept them unsaved).
        SocialAccount.objects.filter(pk=account.pk, user=user).update(
            extra_data=account.extra_data, last_login=timezone.now()
        )


def _notify_connected(request: HttpRequest, *, user, sociallogin: SocialLogin) -> None:
    from allauth.socialaccount.adapter import get_adapter

    get_adapter(request).send_notification_mail(
        "socialaccount/email/account_connected",
        user,
        context={"account": sociallogin.account, "provider": sociallogin.account.get_provider()},
    )


def send_connection_mail(
    request: HttpRequest | None, *, template_prefix: str, user, context: dict
) -> None:
    """E-mail the account's owner about an identity connected or removed, in their language."""
    from allauth.account.adapter import get_adapter as get_account_adapter

    email = EmailAddress.objects.get_primary_email(user) or user.email
    if not email:
        return
    adapter = get_account_adapter(request)
    site = get_current_site(request)
    connections = reverse("socialaccount_connections")
    connections_url = (
        request.build_absolute_uri(connections) if request else settings.SITE_URL + connections
    )
    with translation.override(user.preferred_language):
        adapter.send_mail(
            template_prefix,
            email,
            {
                "timestamp": timezone.now(),
                "ip": adapter.get_client_ip(request) if request else "",
                "user_agent": (request.headers.get("user-agent", "") if request else "")[:200],
                "connections_url": connections_url,
                "current_site": site,
                **context,
            },
        )
