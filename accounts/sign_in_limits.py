"""Failed sign-ins are limited per account and address together, not per address alone.

allauth counts failed sign-ins under its ``login_failed`` rate limit, keyed
on the address (``ip``) and on a ``key`` it builds from the e-mail address.
Here the key is the account *and* the address together, and a second action,
``login_failed_account``, counts an account's failures from every address:

* ``LOGIN_FAILED_PER_ACCOUNT_AND_ADDRESS`` (5 in 5 minutes): one person's
  typos lock only that person, at that address;
* ``LOGIN_FAILED_PER_ADDRESS`` (60 in 15 minutes): an office behind one
  address is not locked out by a few colleagues' typos, yet one address
  cannot spray passwords over many accounts;
* ``LOGIN_FAILED_PER_ACCOUNT`` (20 in 2 minutes): guessing one account's
  password from many addresses is slowed, and the lock an attacker can put on
  a known account ends within two minutes of the last attempt.

A successful sign-in gives back what its own attempt used (allauth's
rollback), so periodic successes do not open a brute-force window.
"""

from __future__ import annotations

from typing import Any

from allauth.core.internal import ratelimit
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest

APP = "allauth.account"


def _login(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email", credentials.get("username", "")) or "").lower()


def account_key(request: HttpRequest, credentials: dict[str, Any]) -> str:
    return f"{get_current_site(request).domain}:{_login(credentials)}"


def account_and_address_key(request: HttpRequest, credentials: dict[str, Any]) -> str:
    return f"{account_key(request, credentials)}@{ratelimit.get_ip(request)}"


def consume(request: HttpRequest, credentials: dict[str, Any]) -> ratelimit.RateLimitUsage | None:
    """Count one sign-in attempt; None when a limit is reached (the attempt is refused)."""
    usage = ratelimit.consume(
        request,
        app=APP,
        action="login_failed",
        key=account_and_address_key(request, credentials),
    )
    if usage is None:
        return None
    per_account = ratelimit.consume(
        request, app=APP, action="login_failed_account", key=account_key(request, credentials)
    )
    if per_account is None:
        return None
    return ratelimit.RateLimitUsage(usage=usage.usage + per_account.usage)


def clear(request: HttpRequest, credentials: dict[str, Any]) -> None:
    """Forget an account's failures, as allauth does after a password reset."""
    ratelimit.clear(
        request, app=APP, action="login_failed", key=account_and_address_key(request, credentials)
    )
    ratelimit.clear(
        request, app=APP, action="login_failed_account", key=account_key(request, credentials)
    )
