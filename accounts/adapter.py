from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from accounts import sign_in_limits


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
