"""The signed-in person's own socket: live unread count of notifications.

Push-only. The group names come from the event stream module, which owns
every group name; config/routing.py hands its functions in (``group_for``,
``access_group_for``) so that accounts, the lowest app, never imports studies.
A deactivated or deleted account's socket closes at once with 4403, as its
study sockets do.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import get_user_model

# The same close code as a study socket whose access ended (docs/live.md).
CLOSE_ACCESS_ENDED = 4403


def _still_active(user_id: int) -> bool:
    return get_user_model().objects.filter(pk=user_id, is_active=True).exists()


class PersonConsumer(AsyncWebsocketConsumer):
    group_for: Callable[[int], str] | None = None
    access_group_for: Callable[[int], str] | None = None
    group: str | None = None
    access: str | None = None
    ended = False

    def __init__(
        self,
        *args,
        group_for: Callable[[int], str] | None = None,
        access_group_for: Callable[[int], str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Set on the instance: a function stored on the class would bind as a method.
        self.group_for = group_for
        self.access_group_for = access_group_for

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or self.group_for is None:
            await self.close(code=4401)
            return
        self.group = self.group_for(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        if self.access_group_for is not None:
            self.access = self.access_group_for(user.pk)
            await self.channel_layer.group_add(self.access, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._leave_groups()

    async def _leave_groups(self) -> None:
        for group in (self.group, self.access):
            if group is not None:
                await self.channel_layer.group_discard(group, self.channel_name)
        self.group = self.access = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Nothing to receive: every write goes over HTTP.
        await self.send(json.dumps({"type": "error", "code": "push_only"}))

    async def user_message(self, message: dict) -> None:
        if not self.ended:
            await self.send(json.dumps({"type": message["kind"], "data": message["data"]}))

    async def access_changed(self, message: dict) -> None:
        """The account may have been deactivated or deleted: close if it was."""
        if self.ended:
            return
        if not await database_sync_to_async(_still_active)(self.scope["user"].pk):
            self.ended = True
            await self._leave_groups()
            await self.close(code=CLOSE_ACCESS_ENDED)
