"""Websocket routes of every app, gathered in one list."""

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from accounts.consumers import PersonConsumer
from contributions.routing import websocket_urlpatterns as contribution_routes
from moderation.routing import websocket_urlpatterns as moderation_routes
from studies.events import access_group, user_group

CLOSE_NO_SUCH_SOCKET = 4404


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any other path: refused at the handshake, as an unknown page is a 404
    (Channels' router would raise instead, once per request, into the server's log)."""

    async def connect(self) -> None:
        await self.close(code=CLOSE_NO_SUCH_SOCKET)


websocket_urlpatterns = [
    *contribution_routes,
    *moderation_routes,
    # The person's own pages (unread notifications); group names stay in studies.events.
    path("ws/me/", PersonConsumer.as_asgi(group_for=user_group, access_group_for=access_group)),
    # Last: whatever no route above took.
    re_path(r"", NoSuchSocket.as_asgi()),
]
