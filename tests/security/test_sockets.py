"""The study socket refuses foreign origins, and outsiders of members-only studies."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from studies.models import Visibility
from tests.factories import MembershipFactory, StudyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SITE = b"http://127.0.0.1:8000"


def _session_cookie(user) -> bytes:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"sessionid={session.session_key}".encode()


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
