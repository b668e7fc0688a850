"""The live stream of one study page: push-only, apart from "resume after event N".

On connect the consumer checks the study's visibility and membership through
the same permission helper as the views (the Origin was checked by
AllowedHostsOriginValidator). Each page holds one socket.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import Http404

from studies import events
from studies.access import study_for_user

MAX_MESSAGE_BYTES = 1024


class StudyConsumer(AsyncWebsocketConsumer):
    study_id: int | None = None

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            access = await database_sync_to_async(study_for_user)(self.scope.get("user"), slug)
        except Http404:
            await self.close(code=4404)
            return
        self.study_id = access.study.pk
        self.group = events.study_group(self.study_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.study_id is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if bytes_data is not None or text_data is None or len(text_data) > MAX_MESSAGE_BYTES:
            await self._error("message_too_large_or_binary")
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self._error("not_json")
            return
        if not isinstance(message, dict) or message.get("type") != "resume":
            await self._error("unknown_type")
            return
        after = message.get("after")
        if not isinstance(after, int) or isinstance(after, bool):
            await self._error("after_must_be_integer")
            return
        try:
            replay = await database_sync_to_async(events.events_after)(
                study_id=self.study_id, after=after
            )
        except events.UnknownEvent:
            await self._error("unknown_event")
            return
        if replay.reload:
            await self.send(json.dumps({"type": "reload", "seq": replay.last_seq}))
            return
        for payload in replay.events:
            await self.send(json.dumps(payload))
        await self.send(json.dumps({"type": "resumed", "seq": replay.last_seq}))

    async def _error(self, code: str) -> None:
        await self.send(json.dumps({"type": "error", "code": code}))

    async def study_event(self, message: dict) -> None:
        await self.send(json.dumps(message["event"]))

    async def study_ephemeral(self, message: dict) -> None:
        await self.send(json.dumps({"type": message["kind"], "data": message["data"]}))
