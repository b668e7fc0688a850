"""Load shedding: a few HTTP requests run at once, a bounded queue waits, the rest get 503.

Django runs each request's view in a worker thread. Under ASGI the same
process also runs the event loop that writes live events to its sockets, so
every view running at once takes CPU (and the GIL) from that loop: with
dozens of requests in progress, posts still committed but their live events
left seconds late. And past capacity, queued requests each held a thread and
waited for a pooled database connection, failing after the pool's timeout
with a 500.

This ASGI middleware lets ``limit`` HTTP requests run at once per process.
Up to ``queue`` more wait their turn without a thread (a coroutine each) for
at most ``wait`` seconds; beyond that, or after that, the answer is ``503
Service Unavailable`` with ``Retry-After``, before Django, the session or the
database is touched. Websockets are not counted: an open socket costs no
thread.

Settings: ``WEB_MAX_REQUESTS`` (running at once, default 4; 0 turns shedding
off), ``WEB_MAX_QUEUE`` (waiting, default 200) and ``WEB_QUEUE_SECONDS``
(longest wait, default 5).

The WSGI web process (gunicorn, platform/Procfile) runs one request at a time
per worker and holds no sockets; its queue is the proxy's and the kernel's.
``QueueTimeShedding`` gives it the same promise: a request that has waited
longer than ``WEB_QUEUE_SECONDS`` since the proxy received it (nginx's
``X-Request-Start: t=<seconds>``, platform/nginx.conf) gets the same 503
before Django, the session or the database is touched.
"""

from __future__ import annotations

import asyncio
import math
import time

BUSY_BODY = (
    "Dugnad er opptatt akkurat nå. Prøv igjen om et øyeblikk.\n"
    "Dugnad is busy right now. Please try again in a moment.\n"
).encode()


class LoadShedding:
    def __init__(
        self, app, *, limit: int, queue: int = 0, wait: float = 5.0, retry_after: int = 1
    ) -> None:
        self.app = app
        self.limit = limit
        self.queue = queue
        self.wait = wait
        self.retry_after = retry_after
        self.in_progress = 0
        self.waiting = 0
        self.shed = 0  # requests answered 503 since start (for tests and logs)
        self._turns: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _condition(self) -> asyncio.Condition:
        loop = asyncio.get_running_loop()
        if self._turns is None or self._loop is not loop:
            self._turns, self._loop = asyncio.Condition(), loop
        return self._turns

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.limit and not await self._wait_turn():
            self.shed += 1
            await self._busy(send)
            return
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1
            turns = self._condition()
            async with turns:
                turns.notify(1)

    async def _wait_turn(self) -> bool:
        """Wait in the queue for a free place; False when the queue is full or time is up."""
        if self.waiting >= self.queue:
            return False
        turns = self._condition()
        self.waiting += 1
        try:
            async with turns:
                await asyncio.wait_for(
                    turns.wait_for(lambda: self.in_progress < self.limit), self.wait
                )
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1

    async def _busy(self, send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"retry-after", str(self.retry_after).encode()),
                    (b"cache-control", b"no-store"),
                    (b"content-length", str(len(BUSY_BODY)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": BUSY_BODY})


class QueueTimeShedding:
    """WSGI: 503 for a request that waited longer than ``wait`` seconds behind the proxy."""

    def __init__(self, app, *, wait: float, retry_after: int = 1, clock=time.time) -> None:
        self.app = app
        self.wait = wait
        self.retry_after = retry_after
        self.clock = clock
        self.shed = 0

    def waited(self, environ) -> float | None:
        """Seconds since the proxy received the request, or None without a valid stamp."""
        stamp = environ.get("HTTP_X_REQUEST_START", "").strip()
        if stamp.startswith("t="):
            stamp = stamp[2:]
        try:
            started = float(stamp)
        except ValueError:
            return None
        if not math.isfinite(started) or started <= 0:  # nan, inf, or no time at all
            return None
        return self.clock() - started

    def __call__(self, environ, start_response):
        waited = self.waited(environ) if self.wait > 0 else None
        if waited is not None and waited > self.wait:
            self.shed += 1
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Retry-After", str(self.retry_after)),
                    ("Cache-Control", "no-store"),
                    ("Content-Length", str(len(BUSY_BODY))),
                ],
            )
            return [BUSY_BODY]
        return self.app(environ, start_response)
