"""Bearer-token authentication for the API: `Authorization: Bearer dgn_…`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from api.models import ApiToken
from api.services import api_token_touch, token_digest


class ApiTokenAuthentication(BaseAuthentication):
    """A personal token identifies its owner; no token means an anonymous visitor.

    A token that is malformed, unknown or revoked is refused with 401 on every
    endpoint, public ones included, so a harvester learns at once that its
    token no longer works instead of silently reading less.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() not in (b"bearer", b"token"):
            raise exceptions.AuthenticationFailed(
                _("Send the token as 'Authorization: Bearer <token>'."), code="bad_scheme"
            )
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as 'Authorization: Bearer <token>'."), code="malformed_token"
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                _("The token is not valid."), code="invalid_token"
            ) from None
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(secret)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("The token is not valid."), code="invalid_token"
            )
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                _("The token has been revoked."), code="revoked_token"
            )
        user = token.user
        if not user.is_active or user.deleted_at is not None:
            raise exceptions.AuthenticationFailed(
                _("The token's owner can no longer use the API."), code="inactive_user"
            )
        api_token_touch(token=token)
        return user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token of a coordinator (`dgn_…`), from /api/tokens/.",
        }
