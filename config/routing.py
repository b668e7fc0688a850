"""Websocket routes of every app, gathered in one list."""

from contributions.routing import websocket_urlpatterns as contribution_routes

websocket_urlpatterns = [*contribution_routes]
