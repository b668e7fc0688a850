"""Every URL refuses a POST without a CSRF token from a signed-in browser.

The URL patterns are walked from the resolver, so a new view is covered the
day it is added. The middleware refuses before the view runs, so path
parameters get placeholder values. Only the read-only open data API under
/api/v1/ (and its schema) is exempt: read-only, by bearer token, never by cookie.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The token-only, read-only open data API, its schema and its 404 (GET only, no cookies).
EXEMPT_PREFIXES = ("api/v1/", "api/schema/", "api/^")
PLACEHOLDERS = {"int": "1", "slug": "x", "str": "x", "uuid": str(uuid.uuid4()), "path": "x"}


def _walk(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _path_for(route: str) -> str | None:
    if route.startswith("^") or "(?P" in route or "\\" in route:
        return None  # regular-expression routes (admin internals) are not filled in
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: PLACEHOLDERS[m.group(1) or "str"], route)
    return "/" + path


ROUTES = sorted(
    {r for r in _walk(get_resolver()) if not r.startswith(EXEMPT_PREFIXES) and _path_for(r)}
)


def test_the_walk_finds_the_platform_urls():
    assert "studies/<slug:slug>/contributions/" in ROUTES
    assert "i18n/setlang/" in ROUTES
    assert len(ROUTES) > 40


@pytest.mark.parametrize("route", ROUTES)
def test_post_without_csrf_token_is_refused(route):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    response = client.post(_path_for(route), {"body": "x"})
    assert response.status_code == 403, f"{route} answered {response.status_code}"
