from django.urls import path

from contributions import consumers

websocket_urlpatterns = [
    path("ws/studies/<slug:slug>/", consumers.StudyConsumer.as_asgi()),
]
