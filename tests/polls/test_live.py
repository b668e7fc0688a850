"""Poll results on the study socket: live counts, nothing to count where results are hidden,
and catch-up after a reconnect."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from polls import services
from polls.models import PollKind, ResultsShown
from tests.contributions.factories import member
from tests.contributions.test_consumers import connect, messages_until, receive_type
from tests.factories import StudyFactory
from tests.polls.factories import coordinator, make_poll

pytestmark = pytest.mark.django_db(transaction=True)


def _setup(results_shown):
    study = StudyFactory()
    poll = make_poll(study, results_shown=results_shown, allow_other=True, kind=PollKind.MULTIPLE)
    voter, viewer = member(study), member(study)
    return study, poll, voter, viewer, [o.pk for o in poll.options.all()]


async def _event(communicator, kind: str) -> dict:
    while True:
        message = await receive_type(communicator, "event")
        if message["kind"] == kind:
            return message


async def test_a_vote_moves_the_results_on_every_open_page():
    study, poll, voter, viewer, options = await database_sync_to_async(_setup)(ResultsShown.LIVE)
    first, ok1, _ = await connect(study, viewer)
    second, ok2, _ = await connect(study)  # an anonymous visitor of the public study
    assert ok1 and ok2
    await database_sync_to_async(services.poll_vote)(
        poll=poll, user=voter, option_ids=[options[1]], other=True, other_text="Secret words"
    )
    for communicator in (first, second):
        message = await _event(communicator, "poll.results")
        assert message["key"] == f"poll-{poll.pk}"
        assert message["data"]["counts"] == {
            str(options[0]): 0,
            str(options[1]): 1,
            str(options[2]): 0,
        }
        assert message["data"]["voters"] == 1 and message["data"]["other"] == 1
        assert message["html"] == ""
        assert "Secret words" not in json.dumps(message)
    await first.disconnect()
    await second.disconnect()


async def test_results_hidden_until_voting_never_travel_on_the_socket():
    study, poll, voter, viewer, options = await database_sync_to_async(_setup)(
        ResultsShown.AFTER_VOTE
    )
    communicator, connected, _ = await connect(study, viewer)
    assert connected
    await database_sync_to_async(services.poll_vote)(poll=poll, user=voter, option_ids=[options[0]])
    message = await _event(communicator, "poll.results")
    assert message["data"]["item_id"] == poll.pk
    assert not {"counts", "voters", "other"} & set(message["data"])
    # The same on a resume from before the vote.
    await communicator.send_json_to({"type": "resume", "after": 0})
    replayed = await messages_until(communicator, "resumed")
    polls = [m for m in replayed if m.get("kind", "").startswith("poll.")]
    assert polls and all("counts" not in m["data"] for m in polls)
    await communicator.disconnect()


async def test_results_hidden_until_closing_arrive_with_the_closing():
    study, poll, voter, viewer, options = await database_sync_to_async(_setup)(
        ResultsShown.AFTER_CLOSE
    )
    boss = await database_sync_to_async(coordinator)(study)
    communicator, connected, _ = await connect(study, viewer)
    assert connected
    await database_sync_to_async(services.poll_vote)(poll=poll, user=voter, option_ids=[options[2]])
    message = await _event(communicator, "poll.results")
    assert "counts" not in message["data"]
    await database_sync_to_async(services.poll_close)(poll=poll, by=boss)
    message = await _event(communicator, "poll.state")
    assert message["data"]["state"] == "closed"
    assert message["data"]["counts"][str(options[2])] == 1
    await communicator.disconnect()


async def test_a_page_that_missed_votes_catches_up_after_reconnecting():
    study, poll, voter, viewer, options = await database_sync_to_async(_setup)(ResultsShown.LIVE)
    communicator, connected, _ = await connect(study, viewer)
    assert connected
    last_seq = await database_sync_to_async(
        lambda: type(study).objects.get(pk=study.pk).last_event_seq
    )()
    await communicator.disconnect()
    other = await database_sync_to_async(member)(study)
    await database_sync_to_async(services.poll_vote)(poll=poll, user=voter, option_ids=[options[0]])
    await database_sync_to_async(services.poll_vote)(poll=poll, user=other, option_ids=[options[0]])
    communicator, connected, _ = await connect(study, viewer)
    await communicator.send_json_to({"type": "resume", "after": last_seq})
    messages = await messages_until(communicator, "resumed")
    results = [m for m in messages if m.get("kind") == "poll.results"]
    assert [m["data"]["counts"][str(options[0])] for m in results] == [1, 2]
    assert results[-1]["data"]["revision"] > results[0]["data"]["revision"]
    assert messages[-1]["seq"] == last_seq + 2
    await communicator.disconnect()
