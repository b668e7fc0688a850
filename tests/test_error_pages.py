"""The 403 page: the site's layout, in bokmål and English, without the exception's text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import UserFactory, login_as

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "heading", "text"),
    [
        ("nb", "Ingen tilgang", "Du har ikke tilgang til denne siden."),
        ("en", "Access denied", "You do not have access to this page."),
    ],
)
def test_a_refused_page_is_the_sites_403_page_in_the_visitors_language(
    client, language, heading, text
):
    login_as(client, UserFactory())
    client.cookies["django_language"] = language
    # Only representatives and administrators decide claims.
    response = client.get(reverse("claims"))
    assert response.status_code == 403
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert '<main id="main"' in page and 'class="site-footer"' in page
    assert f"<h1>{heading}</h1>" in page and text in page
    assert f"<title>{heading}" in page
    assert "representatives and administrators only" not in page  # the log's text, not shown
