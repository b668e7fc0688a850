"""Helpers for the account tests."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD


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
