"""Load shedding (core/shedding.py): past the limit, 503 at once; sockets untouched."""

import asyncio

import pytest

from config.asgi import application
from core.shedding import BUSY_BODY, LoadShedding


class SlowApp:
    """Answers 200 once released; counts the requests it saw."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.seen = 0

    async def __call__(self, scope, receive, send) -> None:
        self.seen += 1
        if scope["type"] == "http":
            await self.release.wait()
            if scope.get("path") == "/fail":
                raise RuntimeError("view failed")
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})


async def call(app, scope_type="http", path="/"):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app({"type": scope_type, "path": path}, receive, send)
    return sent


async def test_requests_past_the_limit_get_503_with_retry_after_at_once():
    inner = SlowApp()
    app = LoadShedding(inner, limit=2)
    running = [asyncio.ensure_future(call(app)) for _ in range(2)]
    await asyncio.sleep(0.01)
    assert app.in_progress == 2
    busy = await asyncio.wait_for(call(app), timeout=1)  # does not wait for the others
    start, body = busy
    assert start["status"] == 503
    assert (b"retry-after", b"1") in start["headers"]
    assert body["body"] == BUSY_BODY
    assert inner.seen == 2 and app.shed == 1
    inner.release.set()
    answers = await asyncio.gather(*running)
    assert [a[0]["status"] for a in answers] == [200, 200]
    assert app.in_progress == 0
    assert (await call(app))[0]["status"] == 200  # room again


async def test_a_failing_request_frees_its_place():
    inner = SlowApp()
    inner.release.set()
    app = LoadShedding(inner, limit=1)
    with pytest.raises(RuntimeError):
        await call(app, path="/fail")
    assert app.in_progress == 0
    assert (await call(app))[0]["status"] == 200


async def test_websockets_and_lifespan_are_not_counted_and_zero_turns_it_off():
    inner = SlowApp()
    app = LoadShedding(inner, limit=1)
    await call(app, scope_type="websocket")
    assert app.in_progress == 0 and inner.seen == 1
    off = LoadShedding(inner, limit=0)
    inner.release.set()
    results = await asyncio.gather(*(call(off) for _ in range(5)))
    assert all(r[0]["status"] == 200 for r in results)
    assert off.shed == 0


def test_the_application_sheds_http_at_the_configured_limit(settings):
    http = application.application_mapping["http"]
    assert isinstance(http, LoadShedding)
    assert http.limit == settings.WEB_MAX_REQUESTS > 0
    assert (http.queue, http.wait) == (settings.WEB_MAX_QUEUE, settings.WEB_QUEUE_SECONDS)


async def test_a_bounded_queue_waits_its_turn_without_running():
    inner = SlowApp()
    app = LoadShedding(inner, limit=1, queue=1, wait=5)
    first = asyncio.ensure_future(call(app))
    await asyncio.sleep(0.01)
    queued = asyncio.ensure_future(call(app))
    await asyncio.sleep(0.01)
    assert (app.in_progress, app.waiting, inner.seen) == (1, 1, 1)  # waiting, not running
    refused = await asyncio.wait_for(call(app), timeout=1)  # the queue is full
    assert refused[0]["status"] == 503
    inner.release.set()
    assert (await first)[0]["status"] == 200
    assert (await queued)[0]["status"] == 200
    assert (app.in_progress, app.waiting, inner.seen, app.shed) == (0, 0, 2, 1)


async def test_a_request_that_waits_too_long_gets_503():
    inner = SlowApp()
    app = LoadShedding(inner, limit=1, queue=5, wait=0.05)
    running = asyncio.ensure_future(call(app))
    await asyncio.sleep(0.01)
    late = await asyncio.wait_for(call(app), timeout=1)
    assert late[0]["status"] == 503
    assert app.waiting == 0 and inner.seen == 1
    inner.release.set()
    await running
