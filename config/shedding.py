"""Load shedding: past a number of HTTP requests in progress, answer 503 at once.

Django runs each request's view in a worker thread and takes a pooled
database connection for it. Past capacity, queued requests would each wait
for a connection and fail after the pool's timeout with a 500, having held a
thread and memory all the while. This ASGI middleware counts the process's
HTTP requests in progress and answers ``503 Service Unavailable`` with
``Retry-After`` straight away when ``limit`` are already running, before
Django, the session or the database is touched. Websockets are not counted:
an open socket costs no thread.

``WEB_MAX_REQUESTS`` (settings.WEB_MAX_REQUESTS) sets the limit per process;
0 turns shedding off.
"""

from __future__ import annotations

BUSY_BODY = (
    "Dugnad er opptatt akkurat nå. Prøv igjen om et øyeblikk.\n"
    "Dugnad is busy right now. Please try again in a moment.\n"
).encode()


class LoadShedding:
    def __init__(self, app, *, limit: int, retry_after: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = retry_after
        self.in_progress = 0
        self.shed = 0  # requests answered 503 since start (for tests and logs)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.limit:
            self.shed += 1
            await self._busy(send)
            return
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1

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
