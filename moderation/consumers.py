"""Live moderation queue: tells a study's open moderation pages that something arrived.

Push-only. On connect the study is fetched through the permission helper with
Action.MODERATE (facilitators and coordinators with a second factor used in
the session the socket carries); anyone else is
refused. The messages carry only item types and ids: the page fetches the
queue again over HTTP, where every read is permission-checked.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.second_factor import scope_request
from studies import events
from studies.access import Action, study_for_user


class ModerationQueueConsumer(AsyncWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            access = await database_sync_to_async(study_for_user)(
                self.scope.get("user"), slug, Action.MODERATE, request=scope_request(self.scope)
            )
        except Http404:
            await self.close(code=4404)
            return
        except PermissionDenied:
            await self.close(code=4403)
            return
        self.group = events.moderation_group(access.study.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(json.dumps({"type": "error", "code": "push_only"}))

    async def study_ephemeral(self, message: dict) -> None:
        await self.send(json.dumps({"type": message["kind"], "data": message["data"]}))
