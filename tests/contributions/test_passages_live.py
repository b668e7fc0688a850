"""Passage comments and amendments arrive live on every open page, and catch up exactly."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from contributions import passages
from studies.blocks import version_blocks
from studies.models import Role, Study
from studies.services import document_version_publish
from tests.contributions.factories import member
from tests.contributions.test_consumers import connect, receive_type
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db(transaction=True)

DOC = "# Assistant\n\nCitizens should find help in one place.\n\n- It works on a phone.\n"


def _last_seq(study) -> int:
    return Study.objects.values_list("last_event_seq", flat=True).get(pk=study.pk)


def _setup():
    study = StudyFactory(body=DOC)
    coordinator = member(study, role=Role.COORDINATOR)
    version = document_version_publish(
        study=study, number="0.8", body=DOC, change_summary="First.", by=coordinator
    )
    return study, coordinator, version_blocks(version), member(study), member(study)


async def _socket(study, after=0):
    communicator, connected, _ = await connect(study)
    assert connected
    await communicator.send_json_to({"type": "resume", "after": after})
    return communicator


async def test_a_passage_comment_and_an_amendment_arrive_on_two_open_pages_with_their_passage():
    study, _c, blocks, author, _o = await database_sync_to_async(_setup)()
    first, second = await _socket(study), await _socket(study)
    for socket in (first, second):
        await receive_type(socket, "resumed")
    await database_sync_to_async(passages.passage_comment_create)(
        study=study, author=author, anchor=blocks[1].anchor, body="Which agencies?"
    )
    for socket in (first, second):
        event = await receive_type(socket, "event")
        assert event["kind"] == "contribution.created"
        assert event["data"]["kind"] == "passage"
        assert "Which agencies?" in event["html"]
        assert f"#{blocks[1].anchor}" in event["html"]
    await database_sync_to_async(passages.amendment_create)(
        study=study,
        author=author,
        anchor=blocks[1].anchor,
        wording="Citizens find help in one place.",
        reason="Shorter.",
    )
    for socket in (first, second):
        event = await receive_type(socket, "event")
        assert event["data"]["kind"] == "amendment"
        assert "<del>" in event["html"] and "should" in event["html"]
    await first.disconnect()
    await second.disconnect()


async def test_support_and_a_decision_arrive_as_newer_revisions_of_the_amendment():
    study, coordinator, blocks, author, other = await database_sync_to_async(_setup)()
    amendment = await database_sync_to_async(passages.amendment_create)(
        study=study,
        author=author,
        anchor=blocks[2].anchor,
        wording="- It works offline.",
        reason="r",
    )
    socket = await _socket(
        study,
        after=await database_sync_to_async(_last_seq)(study),
    )
    await receive_type(socket, "resumed")
    await database_sync_to_async(passages.amendment_support)(contribution=amendment, user=other)
    event = await receive_type(socket, "event")
    assert event["kind"] == "contribution.reaction" and event["data"]["revision"] == 2
    await database_sync_to_async(passages.amendment_decide)(
        contribution=amendment, by=coordinator, status="declined", reason="Out of scope."
    )
    event = await receive_type(socket, "event")
    assert event["kind"] == "contribution.amendment" and event["data"]["revision"] == 3
    assert "Out of scope." in event["data"]["html_alt"].get("en", event["html"])
    await socket.disconnect()


async def test_a_page_that_reconnects_gets_exactly_the_passage_items_it_missed():
    study, _c, blocks, author, _o = await database_sync_to_async(_setup)()
    seen = await database_sync_to_async(_last_seq)(study)
    made = []
    for text in ("One", "Two"):
        made.append(
            await database_sync_to_async(passages.passage_comment_create)(
                study=study, author=author, anchor=blocks[0].anchor, body=text
            )
        )
    socket = await _socket(study, after=seen)
    replayed = []
    while True:
        message = await socket.receive_json_from(timeout=5)
        if message["type"] == "resumed":
            break
        if message["type"] == "event":
            replayed.append(message)
    assert [m["key"] for m in replayed] == [c.dom_id for c in made]
    assert [m["seq"] for m in replayed] == [seen + 1, seen + 2]
    assert all(m["data"]["kind"] == "passage" for m in replayed)
    await socket.disconnect()


async def test_a_reply_in_a_passages_panel_arrives_live_naming_its_comment_and_replays():
    """passages.js refetches the open panel on a comment event whose item is in it."""
    study, _c, blocks, author, other = await database_sync_to_async(_setup)()
    item = await database_sync_to_async(passages.passage_comment_create)(
        study=study, author=author, anchor=blocks[1].anchor, body="Which agencies?"
    )
    seen = await database_sync_to_async(_last_seq)(study)
    socket = await _socket(study, after=seen)
    await receive_type(socket, "resumed")
    reply = await database_sync_to_async(passages.passage_reply_create)(
        contribution=item, author=other, body="All of them."
    )
    event = await receive_type(socket, "event")
    assert event["kind"] == "comment.created"
    assert event["data"]["contribution_id"] == item.pk and event["data"]["parent_id"] is None
    assert "All of them." in event["html"] and event["data"]["announce"]
    await socket.disconnect()
    # A page that was away gets it on resume, as it is now.
    late = await _socket(study, after=seen)
    replayed = await receive_type(late, "event")
    assert replayed["key"] == reply.dom_id and replayed["data"]["contribution_id"] == item.pk
    await late.disconnect()
