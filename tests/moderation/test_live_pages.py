"""Moderation as open pages see it: approvals and restores appear live, rejections leave
no trace on the public page, the queue hears of waiting items, and a blocked member's
socket reads but has no way to write."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from config.routing import websocket_urlpatterns
from contributions import services as contribution_services
from contributions.models import Contribution, ItemState
from moderation import services
from moderation.models import Flag
from studies.models import ModerationMode, Role
from tests.factories import ContributionFactory, MembershipFactory, StudyFactory, UserFactory

application = URLRouter(websocket_urlpatterns)
pytestmark = pytest.mark.django_db(transaction=True)


def _world(**study_kwargs):
    study = StudyFactory(**study_kwargs)
    facilitator = UserFactory()
    MembershipFactory(study=study, user=facilitator, role=Role.FACILITATOR)
    author = UserFactory()
    MembershipFactory(study=study, user=author)
    return study, facilitator, author


async def _page_socket(study, user=None):
    communicator = WebsocketCommunicator(application, f"/ws/studies/{study.slug}/")
    communicator.scope["user"] = user or AnonymousUser()
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _next(communicator, wanted: str = "event"):
    while True:
        message = json.loads(await communicator.receive_from(timeout=3))
        if message["type"] == wanted:
            return message


async def _post(study, author, title: str):
    return await sync_to_async(contribution_services.contribution_create)(
        study=study, author=author, title=title, body="b"
    )


async def test_an_approved_item_appears_on_open_pages_as_new(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study, facilitator, author = await sync_to_async(_world)(moderation_mode=ModerationMode.PRE)
    page = await _page_socket(study)
    item = await _post(study, author, "Waiting for approval")
    assert item.state == ItemState.PENDING
    # The control: an item approved after this one was posted does arrive, and
    # first, so the pending item itself was not on the public page.
    control = await _post(study, author, "Approved first")
    await sync_to_async(services.item_approve)(study=study, actor=facilitator, item=control)
    event = await _next(page)
    assert event["key"] == control.dom_id
    assert "Waiting for approval" not in json.dumps(event)
    await sync_to_async(services.item_approve)(study=study, actor=facilitator, item=item)
    event = await _next(page)
    assert event["key"] == item.dom_id
    assert event["kind"] == "contribution.published"
    assert "Waiting for approval" in event["html"]
    assert event["data"]["announce"]  # announced to screen readers like any new item
    await page.disconnect()


async def test_a_rejected_item_never_reaches_the_public_page(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study, facilitator, author = await sync_to_async(_world)(moderation_mode=ModerationMode.PRE)
    page = await _page_socket(study)
    item = await _post(study, author, "Never shown")
    control = await _post(study, author, "Approved after")
    await sync_to_async(services.item_reject)(
        study=study, actor=facilitator, item=item, reason="off_topic"
    )
    # The control: an item approved after the rejection does arrive, and events
    # arrive in order, so anything of the rejected item would have come first.
    await sync_to_async(services.item_approve)(study=study, actor=facilitator, item=control)
    event = await _next(page)
    assert event["key"] == control.dom_id
    assert "Approved after" in event["html"]
    assert "Never shown" not in json.dumps(event)
    await page.disconnect()


async def test_a_restored_item_comes_back_on_open_pages(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study, facilitator, author = await sync_to_async(_world)()
    item = await sync_to_async(ContributionFactory)(study=study, author=author, title="Back again")
    await sync_to_async(services.item_hide)(
        study=study, actor=facilitator, item=item, reason="off_topic"
    )
    page = await _page_socket(study)
    await sync_to_async(services.item_restore)(
        study=study, actor=facilitator, item=item, reason="Was on topic after all"
    )
    event = await _next(page)
    assert event["key"] == item.dom_id
    assert event["data"]["state"] == ItemState.PUBLISHED
    assert "Back again" in event["html"]
    await page.disconnect()


async def test_the_queue_hears_of_items_waiting_for_approval(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study, facilitator, author = await sync_to_async(_world)(moderation_mode=ModerationMode.PRE)
    queue = WebsocketCommunicator(application, f"/ws/moderation/{study.slug}/")
    queue.scope["user"] = facilitator
    connected, _ = await queue.connect()
    assert connected
    item = await _post(study, author, "Please approve")
    message = await _next(queue, "item.pending")
    assert message["data"] == {
        "item_type": "contribution",
        "item_id": item.pk,
        "key": item.dom_id,
    }
    await queue.disconnect()


def _blocked_world():
    study, facilitator, author = _world()
    blocked = UserFactory()
    membership = MembershipFactory(study=study, user=blocked)
    services.member_block(
        study=study, actor=facilitator, membership=membership, reason="Personal attacks"
    )
    item = ContributionFactory(study=study, author=author)
    return study, blocked, item


@pytest.mark.parametrize(
    "message",
    [
        {"type": "post", "title": "Sneaky", "body": "b"},
        {"type": "comment", "contribution": 1, "body": "b"},
        {"type": "react", "item": "contribution-1"},
        {"type": "flag", "item": "contribution-1", "reason": "spam"},
    ],
)
async def test_a_blocked_member_reads_over_the_socket_but_cannot_write_through_it(
    settings, message
):
    settings.DUGNAD_REQUIRE_MFA = False
    study, blocked, item = await sync_to_async(_blocked_world)()
    page = await _page_socket(study, blocked)  # blocked members still read
    await page.send_to(text_data=json.dumps(message))
    assert (await _next(page, "error"))["code"] == "unknown_type"
    assert await sync_to_async(Contribution.objects.filter(author=blocked).count)() == 0
    assert await sync_to_async(Flag.objects.filter(user=blocked).count)() == 0
    assert await sync_to_async(item.reactions.count)() == 0
    # The socket stays up for reading.
    await page.send_to(text_data=json.dumps({"type": "resume", "after": 0}))
    assert (await _next(page, "resumed"))["type"] == "resumed"
    await page.disconnect()
