"""Helpers for the account tests."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for a TOTP ``secret``."""
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def totp_code_for(user) -> str:
    """The code a person's own authenticator (set up with ``give_mfa``) shows now."""
    authenticator = Authenticator.objects.get(user=user, type="totp")
    return totp_code(decrypt(authenticator.data["secret"]))


def sign_in(client, user, password: str = PASSWORD):
    """Sign in through allauth's form, as a person does (recent authentication included)."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302, response.content[:500]
    return response


def reauthenticate(client, password: str = PASSWORD):
    """Confirm the password again, as allauth asks before sensitive changes."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content[:500]
    return response


def last_link(pattern: str) -> str:
    """The first URL matching ``pattern`` in the newest e-mail."""
    body = mail.outbox[-1].body
    match = re.search(pattern, body)
    assert match, body
    return match.group(0)


@pytest.fixture
def english(client):
    """Pages in English (the default is bokmål)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture(autouse=True)
def _eager_celery(eager_celery):
    """Celery tasks run in the test (tests/conftest.py)."""
