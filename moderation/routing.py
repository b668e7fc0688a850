from django.urls import path

from moderation import consumers

websocket_urlpatterns = [
    path("ws/moderation/<slug:slug>/", consumers.ModerationQueueConsumer.as_asgi()),
]
