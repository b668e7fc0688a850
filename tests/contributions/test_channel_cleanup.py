"""A closed socket's queue leaves the channel layer (contributions.consumers.forget_channel).

The Redis pub/sub layer drops a socket's queue only when the consumer's
pending receive is cancelled; a receive that returned just before the
socket closed leaves the queue in the process, with what waits in it.
"""

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from contributions import consumers
from tests.contributions.test_consumers import connect
from tests.factories import StudyFactory


@pytest.fixture
async def pubsub_layer(requires_redis):
    layer = RedisPubSubChannelLayer(
        hosts=[{"address": requires_redis}], prefix=f"dugnad-forget-{uuid.uuid4().hex[:8]}"
    )
    yield layer
    await layer.flush()


@pytest.mark.redis
async def test_a_queue_whose_receive_returned_is_forgotten_after_the_groups(pubsub_layer):
    layer = pubsub_layer
    name = await layer.new_channel()
    await layer.group_add("study-1", name)
    await layer.group_send("study-1", {"type": "study.event", "n": 1})
    await layer.group_send("study-1", {"type": "study.event", "n": 2})
    # The consumer's last receive returned with a message: no cancel will reach it.
    assert (await asyncio.wait_for(layer.receive(name), 5))["n"] == 1
    await layer.group_discard("study-1", name)
    channels = layer._get_layer().channels
    assert name in channels  # what the layer itself leaves behind

    await consumers.forget_channel(layer, name)
    assert name not in channels
    await consumers.forget_channel(layer, name)  # twice is harmless
    assert name not in layer._get_layer().channels


async def test_forgetting_on_a_layer_without_such_queues_does_nothing():
    layer = InMemoryChannelLayer()
    name = await layer.new_channel()
    await consumers.forget_channel(layer, name)
    await consumers.forget_channel(None, "no-layer")
    await layer.send(name, {"type": "still.there"})
    assert (await layer.receive(name))["type"] == "still.there"


@pytest.mark.django_db(transaction=True)
async def test_a_socket_that_closes_forgets_its_channel(monkeypatch):
    forgotten = []

    async def record(layer, channel_name):
        forgotten.append(channel_name)

    monkeypatch.setattr(consumers, "forget_channel", record)
    study = await database_sync_to_async(StudyFactory)()
    communicator, connected, _code = await connect(study)
    assert connected
    await communicator.disconnect()
    assert len(forgotten) == 1 and "specific." in forgotten[0]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_a_socket_gone_while_a_group_message_is_sent_leaves_its_group_and_the_layer(
    monkeypatch, requires_redis
):
    from channels.layers import get_channel_layer
    from uvicorn.protocols.utils import ClientDisconnected

    from studies import events

    layer = get_channel_layer()
    if not hasattr(layer, "_get_layer"):
        pytest.skip("needs the Redis pub/sub channel layer (REDIS_URL)")
    study = await database_sync_to_async(StudyFactory)()
    communicator, connected, _code = await connect(study)
    assert connected
    loop_layer = layer._get_layer()
    group = loop_layer._get_group_channel_name(events.study_group(study.pk))
    (name,) = loop_layer.groups[group]
    assert name in loop_layer.channels

    async def gone(self, *args, **kwargs):
        raise ClientDisconnected  # what uvicorn raises on a send to a closed socket

    monkeypatch.setattr(consumers.StudyConsumer, "send", gone)
    await layer.group_send(
        events.study_group(study.pk), {"type": "study.ephemeral", "kind": "x", "data": {}}
    )
    with pytest.raises(ClientDisconnected):  # disconnect() never ran
        await communicator.wait(timeout=5)
    assert name not in loop_layer.groups.get(group, set())
    assert name not in loop_layer.channels
