"""Live updates across ASGI application instances that share only Redis."""

import asyncio
import secrets
import uuid
from urllib.parse import urlencode

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.core.asgi import get_asgi_application
from django.urls import path, reverse

from contributions import presence
from contributions.consumers import StudyConsumer
from contributions.models import Contribution
from tests.contributions.factories import member
from tests.contributions.test_consumers import cookie_for, receive_type
from tests.factories import StudyFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]
ORIGIN = (b"origin", b"http://testserver")


def build_application(alias: str):
    """A complete ASGI application whose sockets use the channel layer ``alias``."""
    return ProtocolTypeRouter(
        {
            "http": get_asgi_application(),
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(
                    URLRouter(
                        [
                            path(
                                "ws/studies/<slug:slug>/",
                                StudyConsumer.as_asgi(channel_layer_alias=alias),
                            )
                        ]
                    )
                )
            ),
        }
    )


@pytest.fixture
def two_instances(requires_redis, settings):
    prefix = f"dugnad-contrib-test-{uuid.uuid4().hex[:8]}"
    layer = {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": requires_redis}], "prefix": prefix},
    }
    settings.CHANNEL_LAYERS = {"default": dict(layer), "second": dict(layer)}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": requires_redis,
            "KEY_PREFIX": prefix,
        }
    }
    return build_application("default"), build_application("second")


async def http_post(application, url: str, data: dict, user) -> tuple[int, bytes]:
    token = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret
    _, session = await database_sync_to_async(cookie_for)(user)
    headers = [
        (b"cookie", session + f"; csrftoken={token}".encode()),
        (b"x-csrftoken", token.encode()),
        (b"hx-request", b"true"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"host", b"testserver"),
    ]
    communicator = HttpCommunicator(
        application, "POST", url, body=urlencode(data).encode(), headers=headers
    )
    response = await communicator.get_response(timeout=10)
    return response["status"], response["body"]


async def socket(application, study):
    communicator = WebsocketCommunicator(
        application, f"/ws/studies/{study.slug}/", headers=[ORIGIN]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to({"type": "resume", "after": 0})
    await receive_type(communicator, "resumed", timeout=5)
    return communicator


def form(**kwargs):
    data = {"title": "Across", "kind": "idea", "body": "b", "idempotency_key": str(uuid.uuid4())}
    data.update(kwargs)
    return data


async def test_item_posted_through_one_instance_arrives_on_a_socket_of_the_other(two_instances):
    first, second = two_instances
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)
    on_second = await socket(second, study)
    on_first = await socket(first, study)
    url = reverse("contribution_list", args=[study.slug])
    status, _ = await http_post(first, url, form(title="From the first"), author)
    assert status == 200
    event = await receive_type(on_second, "event", timeout=5)
    assert "From the first" in event["html"]
    assert event["seq"] == 1
    assert (await receive_type(on_first, "event", timeout=5))["seq"] == 1
    await on_second.disconnect()
    await on_first.disconnect()


async def test_double_submit_through_both_instances_creates_one_item(two_instances):
    first, second = two_instances
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)
    url = reverse("contribution_list", args=[study.slug])
    data = form()
    results = await asyncio.gather(
        http_post(first, url, data, author), http_post(second, url, data, author)
    )
    assert [status for status, _ in results] == [200, 200]
    assert await database_sync_to_async(Contribution.objects.count)() == 1


async def test_rate_limit_is_shared_between_instances(two_instances, settings):
    settings.POSTING_RATE_LIMIT = "2/m"
    first, second = two_instances
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)
    url = reverse("contribution_list", args=[study.slug])
    assert (await http_post(first, url, form(), author))[0] == 200
    assert (await http_post(second, url, form(), author))[0] == 200
    status, body = await http_post(first, url, form(), author)
    assert status == 429
    assert b'role="alert"' in body
    assert await database_sync_to_async(Contribution.objects.count)() == 2


async def test_presence_is_counted_across_instances(two_instances):
    first, second = two_instances
    study = await database_sync_to_async(StudyFactory)()
    a = await socket(first, study)
    b = await socket(second, study)
    assert await database_sync_to_async(presence.viewers)(study_id=study.pk) == 2
    # disconnect() returns once the consumer has finished, its leave counted.
    await b.disconnect()
    assert await database_sync_to_async(presence.viewers)(study_id=study.pk) == 1
    await a.disconnect()
