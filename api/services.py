"""Writes of the API app: creating and revoking personal tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from api.selectors import may_hold_api_tokens

TOKEN_PREFIX = "dgn_"


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


MAX_ACTIVE_TOKENS = 20


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for a coordinator; returns it with its secret, which is never stored."""
    if not may_hold_api_tokens(user=user):
        raise PermissionDenied("Only coordinators with two-factor authentication hold API tokens.")
    if ApiToken.objects.active().filter(user=user).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            _("You have %(n)d active tokens. Revoke one before you create another.")
            % {"n": MAX_ACTIVE_TOKENS}
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(secret),
    )
    return token, secret


def api_token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke one of the person's own tokens; revoking twice changes nothing."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise ApiToken.DoesNotExist
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Note when a token was last used, at most once a minute (no write per request)."""
    now = timezone.now()
    if token.last_used_at and (now - token.last_used_at).total_seconds() < 60:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
