"""No malformed request gets a 5xx: every URL pattern, as every role, with bad input.

The URL patterns, and how to fill in each one's parameters, come from the
authorisation matrix (test_authorisation.py), so a view added tomorrow is
walked too. For each URL and each role the walk sends:

- GETs and POSTs whose query string and form body carry every parameter name
  a view reads (found in the code: ``request.GET``/``POST`` and the forms), the
  common ones, and every field of the forms on the page itself, all set to one
  malformed value at a time: non-ASCII digits ("²", "١"), NUL, 10,000
  characters, words where numbers are expected, negative and huge numbers, and
  each name given twice (a list where a scalar is expected);
- for the open data API, each query parameter it accepts alone (an unknown name
  is refused before the others are read);
- the URL with each path value replaced by a malformed one.

Any status from 500 up, or an exception out of a view, is a finding. Run it on
PostgreSQL too: only PostgreSQL refuses NUL in text.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import resolve

from tests.factories import login_as
from tests.security.forms import page_forms
from tests.security.test_authorisation import PATTERNS, _kwargs, _url
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

WALK_ROLES = ("anonymous", "member", "facilitator", "coordinator", "administrator")
# A path value is looked up before anything a role changes: three roles reach every lookup.
PATH_ROLES = ("anonymous", "coordinator", "administrator")

# Every name a view reads from the query string or a form body outside its forms
# (grep request.GET / request.POST / query_params), and the usual suspects.
READ_BY_VIEWS = (
    "q", "page", "before", "parent", "official", "section", "kind", "archived", "blocked",
    "unverified", "study", "next", "status", "confirm", "form", "open", "verified",
    "language", "state", "contribution", "file_format", "page_size", "tier", "reason",
    "action", "role", "organisation", "body", "title", "idempotency_key", "email",
    "password", "login", "code", "token", "target", "emails", "include_named",
)  # fmt: skip
COMMON = ("page", "q", "before", "after", "parent", "sort", "filter", "section", "format",
          "next", "lang")  # fmt: skip

MALFORMED = {
    "superscript two": "²",
    "arabic-indic one": "١",
    "nul": "\x00",
    "ten thousand characters": "x" * 10_000,
    "ten thousand digits": "9" * 10_000,
    "negative": "-1",
    "huge": "99999999999999999999999",
    "a word": "abc",
    "a mapping": "{}",
}
# Path values: a converter takes some of these (str and slug take most, int the digits).
MALFORMED_PATH = {
    "nul": "%00",
    "superscript two": "%C2%B2",
    "huge": "99999999999999999999999",
    "ten thousand digits": "9" * 10_000,
    "ten thousand characters": "x" * 10_000,
}


def _client(world: World, role: str) -> Client:
    client = Client()
    user = world.users[role]
    if user is not None:
        # As allauth leaves a sign-in: staff with TOTP have used it, so the walk
        # reaches their pages instead of the second factor's redirect.
        login_as(client, user)
    return client


def _send(client: Client, method: str, url: str, data=None):
    """(status, None) or (None, the exception a view raised)."""
    try:
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(
                url, data or "", content_type="application/x-www-form-urlencoded"
            )
    except Exception as exc:  # noqa: BLE001 - each one is a finding
        return None, exc
    return response.status_code, None


def _form_fields(client: Client, url: str) -> set[str]:
    try:
        response = client.get(url)
    except Exception:  # noqa: BLE001 - reported by the walk itself
        return set()
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return set()
    return {name for form in page_forms(response.content.decode()) for name, _ in form["fields"]}


def _api_query_names(url: str) -> set[str]:
    try:
        view = resolve(url.split("?")[0]).func
    except Exception:  # noqa: BLE001 - not one of ours
        return set()
    cls = getattr(view, "cls", None)
    serializer = getattr(cls, "query_serializer_class", None)
    names = set(serializer().fields) if serializer else set()
    return names | ({"page", "page_size"} if getattr(cls, "pagination_class", None) else set())


def _path_variants(key: str, world: World) -> list[str]:
    """The URL with each of its path values replaced, one at a time, by a malformed one."""
    route = PATTERNS[key]
    if "(?P" in route or route.startswith("admin/") or "<" not in route:
        return []
    kwargs = _kwargs(key, world)
    variants = []
    for name in kwargs:
        for bad in MALFORMED_PATH.values():
            path = route
            for other, value in kwargs.items():
                path = _fill(path, other, bad if other == name else quote(str(value)))
            variants.append("/" + path)
    return variants


def _fill(route: str, name: str, value: str) -> str:
    start = route.find("<")
    while start != -1:
        end = route.index(">", start)
        if route[start + 1 : end].split(":")[-1] == name:
            return route[:start] + value + route[end + 1 :]
        start = route.find("<", end)
    return route


def _findings(key: str, world: World) -> list[str]:
    url = _url(key, world)
    found: list[str] = []

    clients = {role: _client(world, role) for role in WALK_ROLES}

    def check(role, method, target, data=None, what=""):
        status, exc = _send(clients[role], method, target, data)
        if exc is not None:
            found.append(f"{method.upper()} {target[:120]} {what} as {role}: {exc!r}"[:400])
        elif status >= 500:
            found.append(f"{method.upper()} {target[:120]} {what} as {role}: {status}")

    for role in WALK_ROLES:
        names = set(READ_BY_VIEWS) | set(COMMON) | _form_fields(clients[role], url)
        api_names = _api_query_names(url) if url.startswith("/api/") else set()
        for label, value in MALFORMED.items():
            body = urlencode([(n, value) for n in sorted(names)])
            query = f"{url}{'&' if '?' in url else '?'}{body}"
            check(role, "get", query, what=f"[{label}]")
            check(role, "post", url, body, what=f"[{label}]")
            for name in sorted(api_names):
                check(role, "get", f"{url}?{urlencode({name: value})}", what=f"[{name}: {label}]")
        twice = urlencode([(n, v) for n in sorted(names) for v in ("1", "²")])
        check(role, "get", f"{url}?{twice}", what="[each name twice]")
        check(role, "post", url, twice, what="[each name twice]")
        if role not in PATH_ROLES:
            continue
        for variant in _path_variants(key, world):
            check(role, "get", variant, what="[path]")
            check(role, "post", variant, what="[path]")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(PATTERNS))
def test_no_malformed_request_gets_a_server_error(key):
    world = build_world()
    found = _findings(key, world)
    assert not found, f"{len(found)} server errors:\n" + "\n".join(found)


def test_nul_in_a_form_field_is_a_form_error_and_nothing_is_saved(client):
    """Forms refuse NUL in every text field (Django's ProhibitNullCharactersValidator) with
    a message, before anything reaches PostgreSQL."""
    import uuid

    from django.urls import reverse

    from contributions.models import Contribution

    world = build_world()
    client.force_login(world.users["member"])
    before = Contribution.objects.count()
    response = client.post(
        reverse("contribution_list", args=[world.study.slug]),
        {
            "title": "A title\x00",
            "kind": "idea",
            "body": "A body\x00",
            "idempotency_key": str(uuid.uuid4()),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code in (400, 422)
    assert "Null characters are not allowed" in response.content.decode() or (
        "Null-tegn er ikke tillatt" in response.content.decode()
    )
    assert Contribution.objects.count() == before


@pytest.mark.parametrize(
    ("key", "query", "expected"),
    [
        ("contribution_list", "before=%C2%B2", 200),  # read as "from the start"
        ("contribution_list", "before=" + "9" * 10_000, 200),
        ("comment_form", "parent=%C2%B2", 404),  # no such comment
        ("comment_form", "parent=%D9%A1", 404),  # Arabic-Indic one is not comment 1
        ("home", "q=%00", 200),
        ("organisation_lookup", "q=%00", 200),
        ("moderation:members", "q=%00", 200),
    ],
)
def test_the_reported_malformed_requests_get_a_plain_answer(key, query, expected):
    """The cases found from outside (PostgreSQL raised on NUL; int() on "²"), as the member
    (the facilitator for the moderation page)."""
    world = build_world()
    role = "facilitator" if key.startswith("moderation:") else "member"
    response = _client(world, role).get(f"{_url(key, world)}?{query}")
    assert response.status_code == expected
