"""The live stream of one study page: push-only, apart from "resume after event N".

Origin was checked by core/origins.py (exactly the site's origin) and the
session user loaded by AuthMiddlewareStack; on connect the consumer checks the
study's visibility and membership through the same permission helper as the
views. Each page holds one socket.

Client to server, the only message: {"type": "resume", "after": N}. The
answer is the events after N in order and then {"type": "resumed", "seq": M};
{"type": "reload", "seq": M} when too much was missed; {"type": "error",
"code": ...} for anything else. Server to client otherwise: {"type": "event",
"seq", "kind", "key", "html", "data"} and {"type": "presence", "data":
{"viewers": n}}; once per presence window each socket also gets {"type":
"presence", "data": {"viewers": n, "seq": M}}, M being the study's newest
event (at most a few seconds old), so a page that missed a broadcast resumes
without waiting for the next event. A bad message gets an error on that
socket only.

A resume sends references turned into the items' current look
(``live.replay_payloads``), never a stored copy. Access is re-checked on
every resume and whenever ``studies.events.access_changed`` says it may have
ended (the study became members-only; the person left, was blocked or
deactivated): a socket that may no longer see its study is closed at once
with CLOSE_ACCESS_ENDED, and the page says so and stops reconnecting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404

from contributions import live, presence
from studies import events
from studies.access import study_for_user

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 512
MAX_MESSAGES_PER_MINUTE = 30
CLOSE_NOT_ALLOWED = 4404  # on connect: no such study, or not for this person
CLOSE_ACCESS_ENDED = 4403  # was allowed, no longer is: the page says so, no reconnect
CLOSE_TOO_CHATTY = 4429


def _still_allowed(user, slug: str) -> bool:
    """Whether ``user`` (as stored now: deactivated accounts are refused) may see the study."""
    if user is not None and user.is_authenticated:
        user = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
        if user is None:
            return False
    try:
        study_for_user(user, slug)
    except (Http404, PermissionDenied):
        return False
    return True


def _replay(user, slug: str, study_id: int, after: int) -> events.Replay | None:
    """The missed events as the items look now, or None if access has ended."""
    if not _still_allowed(user, slug):
        return None
    replay = events.events_after(study_id=study_id, after=after)
    if not replay.reload:
        replay.events = live.replay_payloads(study_id=study_id, events=replay.events)
    return replay


async def forget_channel(layer, channel_name: str) -> None:
    """Take a gone socket's queue off the Redis pub/sub channel layer of this process.

    That layer drops a socket's queue only when the consumer's pending receive
    is cancelled. When a message arrives while a busy worker handles the
    disconnect, that receive has already returned: nothing cancels it, and the
    queue stays for good with every message still waiting in it
    (django/channels_redis#276). Called after the socket has left its groups;
    other layers keep no such queue.
    """
    loop_layer = layer._get_layer() if hasattr(layer, "_get_layer") else None
    channels = getattr(loop_layer, "channels", None)
    if channels is None or channels.pop(channel_name, None) is None:
        return
    try:
        await loop_layer._get_shard(channel_name).unsubscribe(channel_name)
    except Exception:  # the queue is gone already; Redis being away must not break a disconnect
        logger.exception("Unsubscribing a closed socket's channel failed")


class StudyConsumer(AsyncWebsocketConsumer):
    study_id: int | None = None
    slug: str = ""
    ended: bool = False
    access: str = ""
    _presence_task: asyncio.Task | None = None

    async def connect(self) -> None:
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.windows: set[int] = set()
        self.received: list[float] = []
        try:
            access = await database_sync_to_async(study_for_user)(self.scope.get("user"), self.slug)
        except (Http404, PermissionDenied):
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.study_id = access.study.pk
        self.group = events.study_group(self.study_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            self.access = events.access_group(user.pk)
            await self.channel_layer.group_add(self.access, self.channel_name)
        await self.accept()
        await self._presence_join()
        self._presence_task = asyncio.ensure_future(self._presence_loop())

    async def __call__(self, scope, receive, send) -> None:
        """The consumer's life, and after it, whatever ended it: out of the groups and
        off the channel layer.

        ``disconnect`` does not run when sending to a socket that has just gone
        raises (``ClientDisconnected`` while handling a group message): without
        this the socket stayed in its study's group, and its queue on the layer
        took every later message of the study for good (a soak grew a worker by
        some 4.8 messages a second per such socket, tens of them a minute).
        """
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self._presence_task is not None:
                self._presence_task.cancel()
            if self.study_id is not None:
                try:
                    await self._leave_groups()  # again after disconnect: does nothing
                    await forget_channel(self.channel_layer, self.channel_name)
                except Exception:  # Redis being away must not hide what ended the socket
                    logger.exception("Leaving the groups of a closed socket failed")

    async def disconnect(self, code: int) -> None:
        if self._presence_task is not None:
            self._presence_task.cancel()
        if self.study_id is None:
            return
        await self._leave_groups()
        try:
            await sync_to_async(presence.leave)(study_id=self.study_id, windows=self.windows)
            await self._presence_broadcast()
        except Exception:  # the cache being away must not break a disconnect
            logger.exception("Presence update failed on disconnect")

    # --- client messages -------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        now = time.monotonic()
        self.received = [t for t in self.received if now - t < 60] + [now]
        if len(self.received) > MAX_MESSAGES_PER_MINUTE:
            await self._error("too_many_messages")
            await self.close(code=CLOSE_TOO_CHATTY)
            return
        if bytes_data is not None or text_data is None:
            await self._error("binary_not_accepted")
            return
        if len(text_data) > MAX_MESSAGE_BYTES:
            await self._error("message_too_large")
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self._error("not_json")
            return
        if not isinstance(message, dict):
            await self._error("not_an_object")
            return
        if message.get("type") != "resume":
            await self._error("unknown_type")
            return
        after = message.get("after")
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            await self._error("after_must_be_a_whole_number")
            return
        await self._resume(after)

    async def _resume(self, after: int) -> None:
        # Access may have changed since connect (left a members-only study).
        try:
            replay = await database_sync_to_async(_replay)(
                self.scope.get("user"), self.slug, self.study_id, after
            )
        except events.UnknownEvent:
            await self._error("unknown_event")
            return
        if replay is None:
            await self._end_access()
            return
        if replay.reload:
            await self._send({"type": "reload", "seq": replay.last_seq})
            return
        for payload in replay.events:
            await self._send(payload)
        await self._send({"type": "resumed", "seq": replay.last_seq})

    async def _error(self, code: str) -> None:
        await self._send({"type": "error", "code": code})

    async def _send(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload))

    # --- group messages (studies.events) ------------------------------------------

    async def study_event(self, message: dict) -> None:
        if not self.ended:
            await self._send(message["event"])

    async def study_ephemeral(self, message: dict) -> None:
        if not self.ended:
            await self._send({"type": message["kind"], "data": message["data"]})

    async def access_changed(self, message: dict) -> None:
        """Someone's access may have ended: re-check this socket's own, close if gone.

        Messages are handled one at a time, so no event queued behind this
        one reaches a socket that has lost access.
        """
        if self.ended or self.study_id is None:
            return
        study_id = message.get("study_id")
        if study_id is not None and study_id != self.study_id:
            return
        allowed = await database_sync_to_async(_still_allowed)(self.scope.get("user"), self.slug)
        if not allowed:
            await self._end_access()

    async def _end_access(self) -> None:
        self.ended = True
        await self._leave_groups()
        await self.close(code=CLOSE_ACCESS_ENDED)

    async def _leave_groups(self) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.access:
            await self.channel_layer.group_discard(self.access, self.channel_name)

    # --- presence -------------------------------------------------------------------

    async def _presence_join(self) -> None:
        try:
            w = presence.window()
            await sync_to_async(presence.count_in)(study_id=self.study_id, w=w)
            self.windows.add(w)
            await self._presence_broadcast(force_self=True)
        except Exception:
            logger.exception("Presence update failed on connect")

    async def _presence_broadcast(self, force_self: bool = False) -> None:
        count = await sync_to_async(presence.viewers)(study_id=self.study_id)
        if await sync_to_async(presence.broadcast_due)(study_id=self.study_id):
            await sync_to_async(events.send_ephemeral)(
                study_id=self.study_id, kind="presence", data={"viewers": count}
            )
        elif force_self:
            await self._send({"type": "presence", "data": {"viewers": count}})

    async def _presence_loop(self) -> None:
        """Once per window: count this socket in, and tell this page the figure."""
        while True:
            length = presence.period()
            next_start = (presence.window() + 1) * length
            delay = next_start - time.time() + random.uniform(0, presence.GRACE - 1)  # noqa: S311
            await asyncio.sleep(max(delay, 0.05))
            try:
                w, count, seq = await database_sync_to_async(_presence_refresh)(self.study_id)
                self.windows = {x for x in self.windows if x >= w - 1} | {w}
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Presence refresh failed")
                continue
            try:
                await self._send({"type": "presence", "data": {"viewers": count, "seq": seq}})
            except asyncio.CancelledError:
                raise
            except Exception:
                # The socket is gone (its disconnect cancels this loop, but may
                # come later): nothing more to tell it.
                return


def _presence_refresh(study_id: int) -> tuple[int, int, int]:
    """Count a socket into the current window; (window, viewers, newest event number).

    One call, so one hop to a worker thread per socket per window.
    """
    w = presence.window()
    presence.count_in(study_id=study_id, w=w)
    return w, presence.viewers(study_id=study_id), events.current_seq(study_id=study_id)
