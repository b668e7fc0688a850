"""Live updates: a hidden item leaves every open page at once; the queue hears of new flags."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from config.routing import websocket_urlpatterns
from moderation import services
from studies import events
from studies.models import Role, StudyEvent
from tests.conftest import broadcast_html
from tests.factories import (
    ContributionFactory,
    MembershipFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
)

application = URLRouter(websocket_urlpatterns)
SITE_ORIGIN = (b"origin", b"http://127.0.0.1:8000")  # SITE_URL: core/origins.py


@pytest.mark.django_db
def test_hiding_records_a_state_event_with_the_marker_not_the_text(
    study, contribution, facilitator, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()

    def hide():
        with django_capture_on_commit_callbacks(execute=True):
            services.item_hide(
                study=study, actor=facilitator, item=contribution, reason="off_topic"
            )

    async def open_page_then_hide():
        # One event loop for the whole exchange, as a page's socket would have.
        channel = await layer.new_channel()
        await layer.group_add(events.study_group(study.pk), channel)
        await sync_to_async(hide)()
        return await asyncio.wait_for(layer.receive(channel), timeout=3)

    message = async_to_sync(open_page_then_hide)()
    event = StudyEvent.objects.filter(study=study).latest("seq")
    assert event.key == contribution.dom_id
    assert event.kind == "contribution.state"
    assert "Buy cheap watches" not in broadcast_html(event)
    assert message["event"]["seq"] == event.seq
    assert message["event"]["data"]["state"] == "hidden"
    assert "Buy cheap watches" not in message["event"]["html"]


@pytest.mark.django_db
def test_nothing_is_broadcast_when_the_action_is_refused(
    study, contribution, facilitator, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(services.ModerationError),
    ):
        services.item_hide(study=study, actor=facilitator, item=contribution, reason="")
    assert callbacks == []


def _setup_public_item():
    study = StudyFactory()
    facilitator = UserFactory()
    MembershipFactory(study=study, user=facilitator, role=Role.FACILITATOR)
    contribution = ContributionFactory(study=study, body="Secret phone number 12345678")
    return study, facilitator, contribution


@pytest.mark.django_db(transaction=True)
async def test_hidden_item_disappears_from_an_open_page_at_once():
    study, facilitator, contribution = await sync_to_async(_setup_public_item)()
    communicator = WebsocketCommunicator(application, f"/ws/studies/{study.slug}/")
    communicator.scope["user"] = AnonymousUser()
    connected, _ = await communicator.connect()
    assert connected
    await sync_to_async(services.item_hide)(
        study=study, actor=facilitator, item=contribution, reason="personal_data"
    )
    message = json.loads(await communicator.receive_from(timeout=3))
    assert message["type"] == "event" and message["key"] == contribution.dom_id
    assert message["data"]["state"] == "hidden"
    assert "12345678" not in message["html"]
    assert "Hidden by a facilitator" in message["html"] or "Skjult" in message["html"]
    await communicator.disconnect()


def _setup_queue():
    study = StudyFactory(flag_threshold=5)
    facilitator = UserFactory()
    MembershipFactory(study=study, user=facilitator, role=Role.FACILITATOR)
    contributor = UserFactory()
    MembershipFactory(study=study, user=contributor)
    flagger = UserFactory()
    MembershipFactory(study=study, user=flagger)
    contribution = ContributionFactory(study=study, author=contributor)
    return study, facilitator, contributor, flagger, contribution


async def _queue_socket(study, user):
    """The study's moderation queue socket for ``user``: the communicator, and whether
    it connected (with the close code if not)."""
    communicator = WebsocketCommunicator(application, f"/ws/moderation/{study.slug}/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.django_db(transaction=True)
async def test_moderation_queue_socket_hears_new_flags(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study, facilitator, _contributor, flagger, contribution = await sync_to_async(_setup_queue)()
    communicator, connected, _ = await _queue_socket(study, facilitator)
    assert connected
    await sync_to_async(services.flag_create)(
        study=study, user=flagger, item=contribution, reason="spam"
    )
    message = json.loads(await communicator.receive_from(timeout=3))
    assert message == {
        "type": "flag",
        "data": {
            "item_type": "contribution",
            "item_id": contribution.pk,
            "flaggers": 1,
            "hidden": False,
        },
    }
    await communicator.send_to(text_data="{}")
    assert json.loads(await communicator.receive_from())["type"] == "error"
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_moderation_queue_socket_refuses_contributors_and_anonymous(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study, _facilitator, contributor, _flagger, _c = await sync_to_async(_setup_queue)()
    for user in (contributor, AnonymousUser()):
        _, connected, code = await _queue_socket(study, user)
        assert not connected and code == 4403


@pytest.mark.django_db(transaction=True)
async def test_moderation_queue_socket_refuses_a_facilitator_without_mfa():
    study, facilitator, *_ = await sync_to_async(_setup_queue)()
    communicator, connected, code = await _queue_socket(study, facilitator)
    assert not connected and code == 4403


@pytest.mark.django_db(transaction=True)
async def test_moderation_queue_socket_of_another_study_is_refused(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study, facilitator, *_ = await sync_to_async(_setup_queue)()
    other, *_ = await sync_to_async(_setup_queue)()
    communicator, connected, code = await _queue_socket(other, facilitator)
    assert not connected and code == 4403


@pytest.mark.django_db(transaction=True)
async def test_moderation_queue_socket_closes_when_the_facilitator_loses_the_role(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    from studies import services as study_services
    from studies.models import Membership

    study, facilitator, _contributor, _flagger, _c = await sync_to_async(_setup_queue)()
    coordinator = await sync_to_async(UserFactory)()
    await sync_to_async(MembershipFactory)(study=study, user=coordinator, role=Role.COORDINATOR)
    communicator, connected, _ = await _queue_socket(study, facilitator)
    assert connected
    membership = await sync_to_async(Membership.objects.get)(study=study, user=facilitator)
    await sync_to_async(study_services.membership_set_role)(
        membership=membership, role=Role.CONTRIBUTOR, by=coordinator
    )
    message = await communicator.receive_output(timeout=3)
    assert message == {"type": "websocket.close", "code": 4403}


def _session_cookie(user, *, second_factor: bool) -> tuple[bytes, bytes]:
    """A signed-in session for ``user``, with or without allauth's record of TOTP used."""
    from django.test import Client

    from tests.factories import use_second_factor

    client = Client()
    client.force_login(user)
    if second_factor:
        use_second_factor(client, user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def _socket_through_the_site(*, second_factor: bool):
    """A facilitator with TOTP opens the queue socket through the whole ASGI application,
    with a session that did or did not use the second factor."""
    from config.asgi import application as site

    study, facilitator, *_ = await sync_to_async(_setup_queue)()
    await sync_to_async(give_mfa)(facilitator)
    cookie = await sync_to_async(_session_cookie)(facilitator, second_factor=second_factor)
    communicator = WebsocketCommunicator(
        site, f"/ws/moderation/{study.slug}/", headers=[SITE_ORIGIN, cookie]
    )
    connected, code = await communicator.connect()
    return study, facilitator, communicator, connected, code


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("second_factor", "accepted"), [(True, True), (False, False)])
async def test_moderation_queue_socket_needs_the_second_factor_in_the_sockets_session(
    second_factor, accepted
):
    _study, _facilitator, communicator, connected, code = await _socket_through_the_site(
        second_factor=second_factor
    )
    assert connected is accepted
    if accepted:
        await communicator.disconnect()
    else:
        assert code == 4403


@pytest.mark.django_db(transaction=True)
async def test_moderation_queue_socket_with_the_second_factor_stays_open_when_access_is_rechecked():
    from studies import events

    study, facilitator, communicator, connected, _ = await _socket_through_the_site(
        second_factor=True
    )
    assert connected
    # The facilitator's membership changed (made coordinator, say): the socket re-checks
    # and still moderates, from a session that used the second factor.
    await sync_to_async(events.access_changed)(study_id=study.pk, user_id=facilitator.pk)
    await sync_to_async(events.send_to_moderators)(
        study_id=study.pk, kind="queue.changed", data={"n": 1}
    )
    message = await communicator.receive_json_from(timeout=3)
    assert message == {"type": "queue.changed", "data": {"n": 1}}
    await communicator.disconnect()
