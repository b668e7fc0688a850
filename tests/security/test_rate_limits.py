"""Sign-in attempts are rate limited on the shared cache."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _limit(action: str) -> int:
    return int(settings.ACCOUNT_RATE_LIMITS[action].split("/")[0])


def test_sign_in_attempts_beyond_the_limit_are_answered_with_429(client):
    user = UserFactory()
    allowed = _limit("login")
    statuses = [
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"}).status_code
        for _ in range(allowed + 1)
    ]
    assert 429 not in statuses[:allowed]
    assert statuses[-1] == 429


def test_after_too_many_failures_even_the_right_password_is_refused_for_a_while(client):
    user = UserFactory()
    for _ in range(_limit("login_failed")):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code != 302
    assert "_auth_user_id" not in client.session
