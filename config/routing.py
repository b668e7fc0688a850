"""Websocket routes of every app, gathered in one list."""

from django.urls import path

from accounts.consumers import PersonConsumer
from contributions.routing import websocket_urlpatterns as contribution_routes
from moderation.routing import websocket_urlpatterns as moderation_routes
from studies.events import user_group

websocket_urlpatterns = [
    *contribution_routes,
    *moderation_routes,
    # The person's own pages (unread notifications); group names stay in studies.events.
    path("ws/me/", PersonConsumer.as_asgi(group_for=user_group)),
]
