"""The signed-in person's own socket: live unread count of notifications.

Push-only. The group name comes from the event stream module, which owns
every group name; config/routing.py hands its function in (``group_for``) so
that accounts, the lowest app, never imports studies.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from channels.generic.websocket import AsyncWebsocketConsumer


class PersonConsumer(AsyncWebsocketConsumer):
    group_for: Callable[[int], str] | None = None
    group: str | None = None

    def __init__(self, *args, group_for: Callable[[int], str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Set on the instance: a function stored on the class would bind as a method.
        self.group_for = group_for

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or self.group_for is None:
            await self.close(code=4401)
            return
        self.group = self.group_for(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Nothing to receive: every write goes over HTTP.
        await self.send(json.dumps({"type": "error", "code": "push_only"}))

    async def user_message(self, message: dict) -> None:
        await self.send(json.dumps({"type": message["kind"], "data": message["data"]}))
