"""Every live behaviour of the study page, proved on the server side.

A socket (WebsocketCommunicator through the whole ASGI stack) sees new,
edited, withdrawn items, replies and reaction counts; events carry what a
client needs to apply them idempotently (key, revision) and to announce new
items politely; the viewer count never writes to the database; a client
resumes from the last event it saw, and one that fell past the replay limit
reloads the list and carries on from the number the list gives it.
Hidden items: tests/moderation/test_live.py.
"""

from __future__ import annotations

import re

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contributions import presence, services
from contributions.models import ItemState
from studies.models import Study, StudyEvent
from tests.contributions.factories import member
from tests.contributions.test_consumers import (
    connect,
    messages_until,
    receive_type,
    study_with_posts,
)
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HTTP_HX_REQUEST": "true"}


async def live_socket(study):
    communicator, connected, _ = await connect(study)
    assert connected
    await communicator.send_json_to({"type": "resume", "after": 0})
    await receive_type(communicator, "resumed")
    return communicator


async def post_and_watch(title: str, body: str = "b", *, also: dict | None = None):
    """A study, a member's contribution to it, another member made with ``also`` (if
    given), and a socket that has caught up with the study."""
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)
    other = await database_sync_to_async(member)(study, **also) if also is not None else None
    contribution = await database_sync_to_async(services.contribution_create)(
        study=study, author=author, title=title, body=body
    )
    return study, author, other, contribution, await live_socket(study)


async def watch_and_post(title: str):
    """A socket that has caught up with a new study, which then gets a contribution."""
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)
    socket = await live_socket(study)
    await database_sync_to_async(services.contribution_create)(
        study=study, author=author, title=title, body="b"
    )
    return socket


async def test_an_edit_arrives_with_a_higher_revision_and_the_new_text():
    study, author, _, contribution, socket = await post_and_watch("First title", "First text")
    await database_sync_to_async(services.contribution_edit)(
        contribution=contribution, editor=author, title="Second title", body="Second text"
    )
    event = await receive_type(socket, "event")
    assert event["kind"] == "contribution.edited"
    assert event["key"] == contribution.dom_id
    assert event["data"]["revision"] == 2  # clients replace only with a newer revision
    assert "Second title" in event["html"] and "First title" not in event["html"]
    assert 'data-edited="true"' in event["html"]
    assert "announce" not in event["data"]  # edits are not announced as new
    await socket.disconnect()


async def test_a_withdrawal_arrives_as_a_marker_without_the_text():
    study, author, _, contribution, socket = await post_and_watch("Withdrawn soon", "Words to go")
    await database_sync_to_async(services.contribution_withdraw)(
        contribution=contribution, user=author
    )
    event = await receive_type(socket, "event")
    assert event["kind"] == "contribution.withdrawn"
    assert event["data"]["state"] == ItemState.WITHDRAWN
    assert event["data"]["revision"] == 2
    assert "Words to go" not in event["html"]
    assert 'class="item-marker"' in event["html"]
    # The marker keeps the item's comment container, so its replies stay readable.
    assert f'id="{contribution.dom_id}-comments"' in event["html"]
    await socket.disconnect()


async def test_comments_and_replies_arrive_in_their_containers():
    study, author, other, contribution, socket = await post_and_watch("Thread", also={})
    comment = await database_sync_to_async(services.comment_create)(
        contribution=contribution, author=other, body="A comment"
    )
    reply = await database_sync_to_async(services.comment_create)(
        contribution=contribution, author=author, body="A reply", parent=comment
    )
    first = await receive_type(socket, "event")
    second = await receive_type(socket, "event")
    assert (first["kind"], second["kind"]) == ("comment.created", "comment.created")
    assert first["key"] == comment.dom_id
    assert first["data"]["container"] == f"{contribution.dom_id}-comments"
    assert second["key"] == reply.dom_id
    assert second["data"]["container"] == f"{comment.dom_id}-replies"
    assert second["data"]["position"] == "append"
    assert second["data"]["parent_id"] == comment.pk
    assert "A reply" in second["html"]
    assert second["seq"] == first["seq"] + 1
    await socket.disconnect()


async def test_reaction_counts_arrive_up_and_down():
    study, author, fan, contribution, socket = await post_and_watch("Liked", also={})
    await database_sync_to_async(services.reaction_toggle)(item=contribution, user=fan)
    up = await receive_type(socket, "event")
    assert up["kind"] == "contribution.reaction"
    assert 'data-reactions="1"' in up["html"]
    await database_sync_to_async(services.reaction_toggle)(item=contribution, user=fan)
    down = await receive_type(socket, "event")
    assert 'data-reactions="0"' in down["html"]
    assert down["data"]["revision"] > up["data"]["revision"]
    # Viewer-neutral: nothing in the fragment says who reacted.
    assert f'data-viewer-id="{fan.pk}"' not in up["html"]
    assert "aria-pressed" not in up["html"]
    await socket.disconnect()


async def test_new_items_carry_a_polite_announcement_in_every_language():
    socket = await watch_and_post("<img src=x onerror=alert(1)>")
    event = await receive_type(socket, "event")
    announce = event["data"]["announce"]
    assert set(announce) == {"nb", "en"}
    assert announce["en"].startswith("New contribution:")
    # Announcements are put into the region with textContent: plain text, never parsed.
    assert "<img" in announce["en"]
    await socket.disconnect()


def test_the_page_has_one_polite_live_region_for_announcements(client):
    study = StudyFactory()
    html = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    regions = re.findall(r'<div id="live-announcer"[^>]*>', html)
    assert len(regions) == 1
    assert 'aria-live="polite"' in regions[0] and 'role="status"' in regions[0]


async def test_the_same_event_live_and_on_replay_so_clients_can_apply_it_twice():
    socket = await watch_and_post("Once")
    live = await receive_type(socket, "event")
    await socket.send_json_to({"type": "resume", "after": 0})
    replayed = await messages_until(socket, "resumed")
    # Rendered anew from the item as it is now, marked as a replay: the same
    # seq, key, revision and html.
    assert replayed[0].pop("replay") is True
    assert replayed[0] == live
    assert replayed[-1] == {"type": "resumed", "seq": live["seq"]}
    await socket.disconnect()


def test_the_posters_own_response_carries_the_event_body_with_the_same_key_and_revision():
    study = StudyFactory()
    client = Client()
    client.force_login(member(study))
    response = client.post(
        reverse("contribution_list", args=[study.slug]),
        {
            "title": "Mine",
            "kind": "idea",
            "body": "b",
            "idempotency_key": "8d3f3b0e-2a7c-4a53-9b1e-0f7a7a3b6f11",
        },
        **HTMX,
    )
    assert response.status_code == 200
    event = StudyEvent.objects.get(study=study)
    html = response.content.decode()
    assert 'class="live-apply"' in html
    assert f"&quot;key&quot;: &quot;{event.key}&quot;" in html
    assert f"&quot;revision&quot;: {event.data['revision']}" in html


async def test_an_item_committed_between_page_render_and_connect_is_replayed():
    """The page's data-last-seq is read before its items: nothing falls in between."""
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)
    await database_sync_to_async(services.contribution_create)(
        study=study, author=author, title="Before the page", body="b"
    )

    def render_page():
        html = Client().get(reverse("study_detail", args=[study.slug])).content.decode()
        return int(re.search(r'data-last-seq="(\d+)"', html).group(1))

    last_seq = await database_sync_to_async(render_page)()
    assert last_seq == 1
    await database_sync_to_async(services.contribution_create)(
        study=study, author=author, title="While connecting", body="b"
    )
    socket, connected, _ = await connect(study)
    assert connected
    await socket.send_json_to({"type": "resume", "after": last_seq})
    messages = await messages_until(socket, "resumed")
    assert [m["type"] for m in messages] == ["event", "resumed"]
    assert "While connecting" in messages[0]["html"]
    await socket.disconnect()


async def test_past_the_replay_limit_the_client_reloads_the_list_and_resumes_from_it(settings):
    settings.EVENT_REPLAY_LIMIT = 3
    study = await study_with_posts(5, "Missed")
    socket, _, _ = await connect(study)
    await socket.send_json_to({"type": "resume", "after": 1})
    assert await receive_type(socket, "reload") == {"type": "reload", "seq": 5}

    def reload_list():
        return Client().get(reverse("contribution_list", args=[study.slug]), **HTMX)

    response = await database_sync_to_async(reload_list)()
    html = response.content.decode()
    assert all(f"Missed {n}" in html for n in range(5))
    seq = int(response["X-Dugnad-Last-Seq"])
    assert seq == 5
    await socket.send_json_to({"type": "resume", "after": seq})
    assert await messages_until(socket, "resumed") == [{"type": "resumed", "seq": 5}]
    await socket.disconnect()


def test_counting_viewers_never_touches_the_database(settings):
    study = StudyFactory()
    with CaptureQueriesContext(connection) as queries:
        w = presence.window()
        presence.count_in(study_id=study.pk, w=w)
        presence.count_in(study_id=study.pk, w=w)
        assert presence.viewers(study_id=study.pk) == 2
        presence.broadcast_due(study_id=study.pk)
        presence.leave(study_id=study.pk, windows={w})
        assert presence.viewers(study_id=study.pk) == 1
    assert len(queries) == 0


async def test_viewers_coming_and_going_record_no_event_and_change_no_row():
    study = await database_sync_to_async(StudyFactory)()
    before = await database_sync_to_async(Study.objects.values("updated_at", "last_event_seq").get)(
        pk=study.pk
    )
    first, _, _ = await connect(study)
    second, _, _ = await connect(study)
    assert (await receive_type(second, "presence"))["data"]["viewers"] == 2
    await second.disconnect()
    await first.disconnect()
    after = await database_sync_to_async(Study.objects.values("updated_at", "last_event_seq").get)(
        pk=study.pk
    )
    assert after == before
    assert await database_sync_to_async(StudyEvent.objects.filter(study=study).count)() == 0


async def test_a_contribution_taken_up_in_a_version_says_so_on_open_pages_at_once():
    from studies.models import Role
    from studies.services import document_version_publish

    study, author, coordinator, contribution, socket = await post_and_watch(
        "Use the national ID", also={"role": Role.COORDINATOR}
    )
    version = await database_sync_to_async(document_version_publish)(
        study=study,
        number="0.9",
        body="# Concept",
        change_summary="Took up the ID idea.",
        by=coordinator,
        taken_up_ids=[contribution.pk],
    )
    event = await receive_type(socket, "event")
    assert event["kind"] == "contribution.taken_up"
    assert event["key"] == contribution.dom_id
    assert event["data"]["revision"] == 2
    english = event["data"]["html_alt"].get("en", event["html"])
    assert "Taken up in version" in english
    assert f"/studies/{study.slug}/versions/{version.pk}/" in english
    assert "announce" not in event["data"]
    await socket.disconnect()
