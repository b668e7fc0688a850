"""Redirects named by a next= parameter never leave the site."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = [
    "https://evil.example.com/",
    "//evil.example.com/",
    "/\\evil.example.com/",
    "https:evil.example.com",
    "javascript:alert(1)",
]


def _stays_on_site(location: str) -> bool:
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_does_not_redirect_off_site(client, target):
    response = client.post("/i18n/setlang/", {"language": "en", "next": target})
    assert response.status_code == 302
    assert _stays_on_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_does_not_redirect_off_site(client, target):
    user = UserFactory()
    response = client.post(
        "/accounts/login/?next=" + target, {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert _stays_on_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_out_does_not_redirect_off_site(client, target):
    client.force_login(UserFactory())
    response = client.post("/accounts/logout/", {"next": target})
    assert response.status_code == 302
    assert _stays_on_site(response["Location"]), response["Location"]
