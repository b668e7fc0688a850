from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is open to everyone; studies decide who may join them."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True
