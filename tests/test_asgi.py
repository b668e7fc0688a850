"""A websocket connects through the real ASGI application, on each channel layer."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from studies import events
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_layers():
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


async def connect_and_receive(study) -> dict:
    from config.asgi import application

    communicator = WebsocketCommunicator(
        application, f"/ws/studies/{study.slug}/", headers=[(b"origin", b"http://127.0.0.1:8000")]
    )
    connected, _ = await communicator.connect()
    assert connected
    await sync_to_async(events.send_ephemeral)(study_id=study.pk, kind="viewers", data={"count": 1})
    message = json.loads(await communicator.receive_from(timeout=5))
    await communicator.disconnect()
    return message


async def test_websocket_connects_through_the_asgi_application_on_the_in_memory_layer(
    settings, fresh_layers
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    study = await sync_to_async(StudyFactory)()
    message = await connect_and_receive(study)
    assert message["type"] == "viewers"
    assert message["data"]["count"] == 1


async def test_websocket_connects_through_the_asgi_application_on_redis(
    settings, fresh_layers, requires_redis
):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": requires_redis, "max_connections": 200}]},
        }
    }
    study = await sync_to_async(StudyFactory)()
    message = await connect_and_receive(study)
    assert message["type"] == "viewers"
