"""The study event stream: numbering, broadcast after commit only, replay."""

from __future__ import annotations

import pytest
from django.db import transaction

from studies import events
from studies.models import StudyEvent
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    messages: list[tuple[str, dict]] = []
    monkeypatch.setattr(events, "_send", lambda group, message: messages.append((group, message)))
    return messages


def test_events_are_numbered_per_study_in_order(sent, django_capture_on_commit_callbacks):
    study, other = StudyFactory(), StudyFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = events.record_event(study_id=study.pk, kind="item.created", key="contribution-1")
        events.record_event(study_id=other.pk, kind="item.created", key="contribution-2")
        second = events.record_event(study_id=study.pk, kind="item.edited", key="contribution-1")
    assert (first.seq, second.seq) == (1, 2)
    study.refresh_from_db()
    assert study.last_event_seq == 2
    assert [m["event"]["seq"] for g, m in sent if g == events.study_group(study.pk)] == [1, 2]


def test_nothing_is_recorded_or_broadcast_when_the_transaction_rolls_back(
    sent, django_capture_on_commit_callbacks
):
    study = StudyFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                events.record_event(study_id=study.pk, kind="item.created", key="contribution-1")
                raise RuntimeError("the write failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert sent == []
    assert not StudyEvent.objects.filter(study=study).exists()
    study.refresh_from_db()
    assert study.last_event_seq == 0


def test_a_failed_broadcast_does_not_fail_the_write(
    monkeypatch, django_capture_on_commit_callbacks
):
    study = StudyFactory()

    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(events, "get_channel_layer", lambda: BrokenLayer())
    with django_capture_on_commit_callbacks(execute=True):
        event = events.record_event(study_id=study.pk, kind="item.created", key="contribution-1")
    assert StudyEvent.objects.filter(pk=event.pk).exists()


def test_replay_returns_the_missed_events_in_order(sent):
    study = StudyFactory()
    for n in range(5):
        events.record_event(study_id=study.pk, kind="item.created", key=f"contribution-{n}")
    replay = events.events_after(study_id=study.pk, after=2)
    assert [e["seq"] for e in replay.events] == [3, 4, 5]
    assert replay.last_seq == 5
    assert replay.reload is False


def test_replay_after_the_last_event_is_empty(sent):
    study = StudyFactory()
    events.record_event(study_id=study.pk, kind="item.created", key="contribution-1")
    replay = events.events_after(study_id=study.pk, after=1)
    assert replay.events == []
    assert replay.last_seq == 1


@pytest.mark.parametrize("after", [-1, 4])
def test_replay_of_an_event_number_the_study_never_had_is_refused(sent, after):
    study = StudyFactory()
    events.record_event(study_id=study.pk, kind="item.created", key="contribution-1")
    with pytest.raises(events.UnknownEvent):
        events.events_after(study_id=study.pk, after=after)


def test_replay_past_the_limit_asks_the_client_to_reload(sent):
    study = StudyFactory()
    for n in range(4):
        events.record_event(study_id=study.pk, kind="item.created", key=f"contribution-{n}")
    replay = events.events_after(study_id=study.pk, after=0, limit=3)
    assert replay.reload is True
    assert replay.events == []


def test_moderator_and_personal_messages_go_to_their_own_groups_after_commit(
    sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        events.send_to_moderators(study_id=7, kind="flag.created", data={"item": "comment-1"})
        events.send_to_user(user_id=3, kind="notifications", data={"unread": 2})
        assert sent == []
    assert [group for group, _ in sent] == [events.moderation_group(7), events.user_group(3)]
