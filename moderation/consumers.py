"""Live moderation queue: tells a study's open moderation pages that something arrived.

Push-only. On connect the study is fetched through the permission helper with
Action.MODERATE (facilitators and coordinators with a second factor used in
the session the socket carries); anyone else is
refused. The messages carry only item types and ids: the page fetches the
queue again over HTTP, where every read is permission-checked. When the
person's access may have ended (``studies.events.access_changed``: role lost,
left, blocked, account deactivated) the socket re-checks it and closes with
4403 if they may no longer moderate the study.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.second_factor import scope_request
from studies import events
from studies.access import Action, study_for_user


def _may_moderate(user, slug: str, request) -> bool:
    """Whether ``user``, as stored now, may still moderate the study from this session."""
    if user is None or not user.is_authenticated:
        return False
    user = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    if user is None:
        return False
    try:
        study_for_user(user, slug, Action.MODERATE, request=request)
    except (Http404, PermissionDenied):
        return False
    return True


class ModerationQueueConsumer(AsyncWebsocketConsumer):
    group: str | None = None
    access: str | None = None
    study_id: int | None = None

    async def connect(self) -> None:
        slug = self.slug = self.scope["url_route"]["kwargs"]["slug"]
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
        self.study_id = access.study.pk
        self.group = events.moderation_group(access.study.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.access = events.access_group(self.scope["user"].pk)
        await self.channel_layer.group_add(self.access, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._leave_groups()

    async def _leave_groups(self) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.access is not None:
            await self.channel_layer.group_discard(self.access, self.channel_name)
        self.group = self.access = None

    async def access_changed(self, message: dict) -> None:
        study_id = message.get("study_id")
        if self.group is None or (study_id is not None and study_id != self.study_id):
            return
        if not await database_sync_to_async(_may_moderate)(
            self.scope.get("user"), self.slug, scope_request(self.scope)
        ):
            await self._leave_groups()
            await self.close(code=4403)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(json.dumps({"type": "error", "code": "push_only"}))

    async def study_ephemeral(self, message: dict) -> None:
        if self.group is None:
            return
        await self.send(json.dumps({"type": message["kind"], "data": message["data"]}))
