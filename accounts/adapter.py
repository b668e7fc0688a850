from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.emailkit import valid_email_or_none
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest
from django.shortcuts import render

from accounts import sign_in_limits, single_sign_on
from accounts.oidc import ProviderUnavailable

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is open to everyone; studies decide who may join them."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True

    # Failed sign-ins: per account and address together (accounts.sign_in_limits).
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        self._login_failed_rl_usage = sign_in_limits.consume(request, credentials)
        if not self._login_failed_rl_usage:
            raise self.validation_error("too_many_login_attempts")

    def _delete_login_attempts_cached_email(self, request: HttpRequest, **credentials: Any) -> None:
        sign_in_limits.clear(request, credentials)

    def post_login(self, request: HttpRequest, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        # Runs only once every login stage (the second factor included) is passed.
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None:
            single_sign_on.finish_login(request, user=user, sociallogin=sociallogin)
        return response


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on without silent account takeover (docs/accounts.md, "Single sign-on")."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:
        return True

    def can_authenticate_by_email(self, login, email: str) -> bool:
        # allauth's own e-mail authentication connects before the second factor;
        # trusted providers are handled in pre_social_login instead.
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin) -> None:
        response = single_sign_on.check_existing_account(request, sociallogin)
        if response is not None:
            raise ImmediateHttpResponse(response)

    def populate_user(self, request: HttpRequest, sociallogin, data):
        """A new account gets the provider's name, never a name made from the e-mail address.

        Without a name from the provider, ``display_name`` stays empty: that marks
        an account whose public name is not known yet.
        """
        user = sociallogin.user
        user.email = valid_email_or_none(data.get("email")) or None
        name = (data.get("name") or "").strip()
        if not name:
            parts = (data.get("first_name") or "", data.get("last_name") or "")
            name = " ".join(part.strip() for part in parts if part and part.strip())
        user.display_name = " ".join(name.split())[:80]
        return user

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        provider_id = getattr(provider, "sub_id", provider)
        logger.warning(
            "single sign-on with %s failed: %s %s",
            provider_id,
            error,
            exception.__class__.__name__ if exception else "",
        )
        if isinstance(exception, ProviderUnavailable):
            raise ImmediateHttpResponse(
                render(
                    request,
                    "socialaccount/provider_unavailable.html",
                    {"provider": provider},
                    status=503,
                )
            )

    def send_notification_mail(self, template_prefix: str, user, context=None, email=None):
        # A new way into the account is always told to its owner, whatever
        # ACCOUNT_EMAIL_NOTIFICATIONS says about allauth's other notices.
        if template_prefix.startswith("socialaccount/email/"):
            single_sign_on.send_connection_mail(
                self.request, template_prefix=template_prefix, user=user, context=context or {}
            )
            return
        super().send_notification_mail(template_prefix, user, context=context, email=email)
