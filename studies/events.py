"""The study event stream: record an event, send it to the study's group, replay.

This module owns every group name and the only call to ``group_send``. The app
that owns an item renders its viewer-neutral HTML once and hands it over here;
contributions, moderation and statistics all publish through this door.

What is *stored* is a reference: number, kind, key and ``data`` that names the
item and holds nothing a later hide, removal, withdrawal, edit or account
deletion takes away (ids, state, revision, counts; never text or names). The
HTML and any other text (``live``) go out with the broadcast only, rendered
once at send time. A resume renders the items its events touch as they are
now (``contributions.live.replay_payloads``), so nothing taken away can be
replayed.

An event is recorded inside the caller's transaction, numbered by one UPDATE …
RETURNING that locks the study row until commit, so event numbers commit in
order and a committed item always has its event. Record the event as the
transaction's last write: everything after it runs while other writers to
the same study wait. The broadcast is scheduled with ``on_commit``: a rolled-back
write sends nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from studies.models import Study, StudyEvent

logger = logging.getLogger(__name__)

EVENT_MESSAGE_TYPE = "study.event"
EPHEMERAL_MESSAGE_TYPE = "study.ephemeral"
USER_MESSAGE_TYPE = "user.message"
ACCESS_MESSAGE_TYPE = "access.changed"
SEQ_CACHE_SECONDS = 2  # current_seq
# Constant SQL text (the table name); the study id is a parameter. RETURNING
# needs PostgreSQL or SQLite 3.35+.
NEXT_SEQ_SQL = (
    f"UPDATE {Study._meta.db_table} SET last_event_seq = last_event_seq + 1 "  # noqa: S608
    "WHERE id = %s RETURNING last_event_seq"
)


def study_group(study_id: int) -> str:
    return f"study.{study_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def moderation_group(study_id: int) -> str:
    """Facilitators' pages of one study (the moderation queue)."""
    return f"moderation.{study_id}"


def access_group(user_id: int) -> str:
    """Every study socket one person holds: told when their access may have ended."""
    return f"access.{user_id}"


def event_payload(event: StudyEvent) -> dict:
    """A stored event as a reference (no HTML): what a resume starts from."""
    return {
        "type": "event",
        "seq": event.seq,
        "kind": event.kind,
        "key": event.key,
        "data": event.data,
    }


def record_event(
    *,
    study_id: int,
    kind: str,
    key: str = "",
    html: str = "",
    data: dict | None = None,
    live: dict | None = None,
) -> StudyEvent:
    """Record an event in the current transaction and broadcast it after commit.

    Only ``kind``, ``key`` and ``data`` are stored, and ``data`` must hold
    references and non-personal figures only. ``html`` and ``live`` (extra
    data such as other languages' HTML or an announcement) travel with the
    broadcast and are never stored.
    """
    # One statement numbers the event and locks the study row until commit
    # (no SELECT … FOR UPDATE, no savepoint inside the caller's transaction).
    # Callers record their event last, so the lock is held only for the
    # event's insert and the commit; posts to one study queue on it briefly.
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(NEXT_SEQ_SQL, [study_id])
            row = cursor.fetchone()
        if row is None:
            raise Study.DoesNotExist(f"No study {study_id}")
        seq = row[0]
        event = StudyEvent.objects.create(
            study_id=study_id, seq=seq, kind=kind, key=key, data=data or {}
        )
    payload = event_payload(event)
    payload["html"] = html
    payload["data"] = {**event.data, **(live or {})}
    message = {"type": EVENT_MESSAGE_TYPE, "event": payload}
    transaction.on_commit(lambda: _send(study_group(study_id), message))
    return event


def current_seq(*, study_id: int) -> int:
    """The study's newest event number, at most SEQ_CACHE_SECONDS old.

    Sent to every open page once per presence window, so a page that missed a
    broadcast (Redis restarted, say) notices it is behind without a new event.
    Read from the shared cache, so that figure costs at most one query per
    study per SEQ_CACHE_SECONDS whatever the number of sockets.
    """
    key = f"study-seq:{study_id}"
    seq = cache.get(key)
    if seq is None:
        seq = Study.objects.filter(pk=study_id).values_list("last_event_seq", flat=True).first()
        seq = seq or 0
        cache.set(key, seq, SEQ_CACHE_SECONDS)
    return seq


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


def access_changed(*, study_id: int | None = None, user_id: int | None = None) -> None:
    """After commit, make the sockets that may have lost access re-check it.

    With ``user_id``: that person's study sockets (they left, were blocked or
    deactivated), only those of ``study_id`` if given. With ``study_id``
    alone: every socket of the study (it became members-only, say). Each
    socket re-checks its own access and one that may no longer see its study
    closes at once (docs/live.md, close codes).
    """
    message = {"type": ACCESS_MESSAGE_TYPE, "study_id": study_id}
    if user_id is not None:
        group = access_group(user_id)
    elif study_id is not None:
        group = study_group(study_id)
    else:
        raise ValueError("access_changed needs a study, a person or both")
    transaction.on_commit(lambda: _send(group, message))


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
    events: list[dict]  # references (event_payload), in order: no HTML, no text
    last_seq: int
    reload: bool  # too much was missed: the client should reload the list


def events_after(*, study_id: int, after: int, limit: int | None = None) -> Replay:
    """References to the events a client missed after event number ``after``, in order.

    The app that owns the items turns them into their current look for the
    viewer (``contributions.live.replay_payloads``); nothing here holds text.
    """
    limit = limit if limit is not None else settings.EVENT_REPLAY_LIMIT
    last_seq = Study.objects.filter(pk=study_id).values_list("last_event_seq", flat=True).get()
    if after < 0 or after > last_seq:
        raise UnknownEvent(after)
    if last_seq - after > limit:
        return Replay(events=[], last_seq=last_seq, reload=True)
    events = StudyEvent.objects.filter(study_id=study_id, seq__gt=after).order_by("seq")
    events = events.only("seq", "kind", "key", "data")
    return Replay(events=[event_payload(e) for e in events], last_seq=last_seq, reload=False)
