"""The study socket refuses foreign origins, and outsiders of members-only studies."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from studies.models import Visibility
from tests.factories import MembershipFactory, StudyFactory, UserFactory
from tests.live_browser import cookie_header

pytestmark = pytest.mark.django_db(transaction=True)

SITE = b"http://127.0.0.1:8000"


def _session_cookie(user) -> bytes:
    """A signed-in session as allauth leaves it (with TOTP used, where the person has it)."""
    return cookie_header(user)


async def _connects(slug: str, *, origin: bytes = SITE, user=None) -> bool:
    from config.asgi import application

    headers = [(b"origin", origin)]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(_session_cookie)(user)))
    communicator = WebsocketCommunicator(application, f"/ws/studies/{slug}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    await communicator.disconnect()
    return connected


async def test_public_study_socket_accepts_the_site_origin():
    study = await sync_to_async(StudyFactory)()
    assert await _connects(study.slug)


async def test_socket_from_a_foreign_origin_is_refused():
    study = await sync_to_async(StudyFactory)()
    assert not await _connects(study.slug, origin=b"https://evil.example.com")


async def test_anonymous_socket_on_a_members_only_study_is_refused():
    study = await sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)
    assert not await _connects(study.slug)


async def test_non_member_socket_on_a_members_only_study_is_refused():
    study = await sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)
    outsider = await sync_to_async(UserFactory)()
    assert not await _connects(study.slug, user=outsider)


async def test_member_socket_on_a_members_only_study_is_accepted():
    membership = await sync_to_async(MembershipFactory)(study__visibility=Visibility.MEMBERS)
    user = await sync_to_async(lambda: membership.user)()
    slug = await sync_to_async(lambda: membership.study.slug)()
    assert await _connects(slug, user=user)


# --- the Origin must be the site's own: scheme, host and port exactly --------------------
# (core/origins.py). Every route is tried with a signed-in session whose cookies would
# open it: a facilitator (with two-factor) of a members-only study.

SOCKET_PATHS = {
    "study": "/ws/studies/{slug}/",
    "moderation": "/ws/moderation/{slug}/",
    "person": "/ws/me/",
}
SITE_HOST = b"127.0.0.1:8000"


@pytest.fixture
def signed_in():
    """(slug, user): a facilitator of a members-only study, whose session opens every socket."""

    def build():
        from studies.models import Role
        from tests.factories import give_mfa

        membership = MembershipFactory(
            study__visibility=Visibility.MEMBERS,
            role=Role.FACILITATOR,
            user=give_mfa(UserFactory()),
        )
        return membership.study.slug, membership.user

    return build


async def _opens(path: str, *, origin: bytes | None, host: bytes = SITE_HOST, user=None):
    """(connected, close code) of a handshake with these headers."""
    from config.asgi import application

    headers = [(b"host", host)]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        headers.append((b"cookie", await sync_to_async(_session_cookie)(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    await communicator.disconnect()
    return connected, code


@pytest.mark.parametrize("route", sorted(SOCKET_PATHS))
async def test_every_socket_opens_from_the_sites_own_origin_with_a_session(signed_in, route):
    slug, user = await sync_to_async(signed_in)()
    path = SOCKET_PATHS[route].format(slug=slug)
    assert (await _opens(path, origin=SITE, user=user))[0]


FOREIGN_ORIGINS = [
    b"http://127.0.0.1:8001",  # another service on the same host
    b"http://localhost:1234",
    b"https://127.0.0.1:8000",  # another scheme
    b"http://127.0.0.1",  # another port (80)
    b"http://127.0.0.1:8000.evil.example",
    b"http://evil.example",
    b"null",  # a sandboxed frame or a file
    b"http://user@127.0.0.1:8000",
    b"http://127.0.0.1:8000/studies/",
    b"",
]


@pytest.mark.parametrize("route", sorted(SOCKET_PATHS))
@pytest.mark.parametrize("origin", FOREIGN_ORIGINS, ids=lambda o: o.decode() or "empty")
async def test_every_socket_refuses_another_origin_even_with_a_session(signed_in, route, origin):
    slug, user = await sync_to_async(signed_in)()
    path = SOCKET_PATHS[route].format(slug=slug)
    assert not (await _opens(path, origin=origin, user=user))[0]


@pytest.mark.parametrize("route", sorted(SOCKET_PATHS))
async def test_a_socket_without_an_origin_header_is_refused(signed_in, route):
    """Browsers always send one; a client that does not is not a page of this site."""
    slug, user = await sync_to_async(signed_in)()
    path = SOCKET_PATHS[route].format(slug=slug)
    assert not (await _opens(path, origin=None, user=user))[0]


async def test_in_the_embedded_default_a_page_reaches_the_socket_of_the_port_it_came_from(
    signed_in,
):
    """make run on another port, or the browser tests' live server on a random one."""
    slug, user = await sync_to_async(signed_in)()
    path = f"/ws/studies/{slug}/"
    assert (await _opens(path, origin=b"http://localhost:8123", host=b"localhost:8123", user=user))[
        0
    ]
    # ...and from nowhere else: not the next port, not another scheme.
    for origin in (b"http://localhost:8124", b"https://localhost:8123", b"http://127.0.0.1:8123"):
        assert not (await _opens(path, origin=origin, host=b"localhost:8123", user=user))[0]


async def test_a_host_this_site_does_not_answer_to_is_not_an_origin_of_its_own(signed_in):
    """A name that resolves to this machine (DNS rebinding) is not in ALLOWED_HOSTS."""
    slug, user = await sync_to_async(signed_in)()
    path = f"/ws/studies/{slug}/"
    origin, host = b"http://evil.example:8000", b"evil.example:8000"
    assert not (await _opens(path, origin=origin, host=host, user=user))[0]


PRODUCTION = {
    "WEBSOCKET_SAME_ORIGIN": False,
    "SITE_URL": "https://dugnad.example.org",
    "CSRF_TRUSTED_ORIGINS": ["https://www.dugnad.example.org", "https://*.example.org"],
    "ALLOWED_HOSTS": ["dugnad.example.org", "www.dugnad.example.org"],
}


@pytest.mark.parametrize(
    ("origin", "opens"),
    [
        (b"https://dugnad.example.org", True),
        (b"https://DUGNAD.example.org:443", True),
        (b"https://www.dugnad.example.org", True),
        (b"http://dugnad.example.org", False),  # a page on plain HTTP (or injected there)
        (b"https://dugnad.example.org:8443", False),
        (b"https://other.example.org", False),  # a wildcard origin is never trusted
        (b"http://127.0.0.1:8000", False),  # the embedded default's SITE_URL
    ],
    ids=lambda v: v.decode() if isinstance(v, bytes) else str(v),
)
async def test_with_debug_off_only_site_url_and_trusted_origins_open_a_socket(
    signed_in, origin, opens
):
    from django.test import override_settings

    slug, user = await sync_to_async(signed_in)()
    with override_settings(**PRODUCTION):
        connected, _ = await _opens(
            f"/ws/studies/{slug}/", origin=origin, host=b"dugnad.example.org", user=user
        )
    assert connected is opens


async def test_with_debug_off_the_request_host_does_not_stand_in_for_site_url(signed_in):
    """Behind a proxy, the Host and scheme a worker sees are not the public origin."""
    from django.test import override_settings

    slug, user = await sync_to_async(signed_in)()
    with override_settings(**PRODUCTION):
        connected, _ = await _opens(
            f"/ws/studies/{slug}/",
            origin=b"http://dugnad.example.org",
            host=b"dugnad.example.org",
            user=user,
        )
    assert not connected


@pytest.mark.parametrize(
    "path", ["/ws/nowhere/", "/", "/ws/studies/", "/ws/studies/a/b/", "/ws/studies/%C2%B2/"]
)
async def test_a_socket_path_with_no_route_is_closed_not_an_error(path):
    connected, code = await _opens(path, origin=SITE)
    assert not connected
    assert code == 4404
