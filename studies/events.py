"""The study event stream: record an event, send it to the study's group, replay.

This module owns every group name and the only call to ``group_send``. The app
that owns an item renders its viewer-neutral HTML once and hands it over here;
contributions, moderation and statistics all publish through this door.

An event is recorded inside the caller's transaction, numbered under a lock on
the study row, so event numbers commit in order and a committed item always
has its event. The broadcast is scheduled with ``on_commit``: a rolled-back
write sends nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from studies.models import Study, StudyEvent

logger = logging.getLogger(__name__)

EVENT_MESSAGE_TYPE = "study.event"
EPHEMERAL_MESSAGE_TYPE = "study.ephemeral"
USER_MESSAGE_TYPE = "user.message"


def study_group(study_id: int) -> str:
    return f"study.{study_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def moderation_group(study_id: int) -> str:
    """Facilitators' pages of one study (the moderation queue)."""
    return f"moderation.{study_id}"


def event_payload(event: StudyEvent) -> dict:
    """What a client receives for one event (live and on replay alike)."""
    return {
        "type": "event",
        "seq": event.seq,
        "kind": event.kind,
        "key": event.key,
        "html": event.html,
        "data": event.data,
    }


def record_event(
    *, study_id: int, kind: str, key: str = "", html: str = "", data: dict | None = None
) -> StudyEvent:
    """Record an event in the current transaction and broadcast it after commit."""
    with transaction.atomic():
        seq = (
            Study.objects.select_for_update()
            .filter(pk=study_id)
            .values_list("last_event_seq", flat=True)
            .get()
            + 1
        )
        Study.objects.filter(pk=study_id).update(last_event_seq=seq)
        event = StudyEvent.objects.create(
            study_id=study_id, seq=seq, kind=kind, key=key, html=html, data=data or {}
        )
    message = {"type": EVENT_MESSAGE_TYPE, "event": event_payload(event)}
    transaction.on_commit(lambda: _send(study_group(study_id), message))
    return event


def send_ephemeral(*, study_id: int, kind: str, data: dict) -> None:
    """Send something not worth recording (viewer counts, statistics pings) at once."""
    _send(study_group(study_id), {"type": EPHEMERAL_MESSAGE_TYPE, "kind": kind, "data": data})


def send_to_moderators(*, study_id: int, kind: str, data: dict) -> None:
    """Tell the study's open moderation pages, after the current transaction commits."""
    message = {"type": EPHEMERAL_MESSAGE_TYPE, "kind": kind, "data": data}
    transaction.on_commit(lambda: _send(moderation_group(study_id), message))


def send_to_user(*, user_id: int, kind: str, data: dict) -> None:
    """Send to every open page of one person, after the current transaction commits."""
    message = {"type": USER_MESSAGE_TYPE, "kind": kind, "data": data}
    transaction.on_commit(lambda: _send(user_group(user_id), message))


def _send(group: str, message: dict) -> None:
    # A failed broadcast must never fail the write that caused it: clients
    # catch up from the recorded events when they reconnect.
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        logger.exception("Broadcast to %s failed; clients will catch up on reconnect", group)


class UnknownEvent(Exception):
    """A client asked to resume after an event number the study never had."""


@dataclass
class Replay:
    events: list[dict]
    last_seq: int
    reload: bool  # too much was missed: the client should reload the list


def events_after(*, study_id: int, after: int, limit: int | None = None) -> Replay:
    """The events a client missed after event number ``after``, in order."""
    limit = limit if limit is not None else settings.EVENT_REPLAY_LIMIT
    last_seq = Study.objects.filter(pk=study_id).values_list("last_event_seq", flat=True).get()
    if after < 0 or after > last_seq:
        raise UnknownEvent(after)
    if last_seq - after > limit:
        return Replay(events=[], last_seq=last_seq, reload=True)
    events = StudyEvent.objects.filter(study_id=study_id, seq__gt=after).order_by("seq")
    return Replay(events=[event_payload(e) for e in events], last_seq=last_seq, reload=False)
