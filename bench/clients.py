"""Load-generating clients: study-page sockets (as static/js/live.js), raw Redis subscribers.

A viewer process is started by a benchmark as

    python -m bench.clients --mode ws --base http://127.0.0.1:PORT --slug bench \
        --sessions FILE --start-seq N --out FILE

It opens one socket per session key (cookie ``sessionid``, Origin of the
site), paced at ``--connect-rate`` per second, prints ``READY n`` once every
socket has its "resumed" answer, and records the arrival time of every event.
Each client follows the page's protocol: events are buffered until the
server's "resumed", applied once by number, a gap (or a presence message
with a newer event number) makes it ask again after 2-4 s, doubling while
gaps persist, never twice at once (as static/js/live.js), a dropped socket
reconnects with the page's back-off and resumes after the last event it holds.
``--churn S`` closes each socket on average every S seconds and reconnects it
(the soak's reconnects).

On ``STOP`` (a line on standard input) every client asks once more for what
it missed, waits for the answer, and the process writes its records to
``--out`` as JSON and prints ``DONE``.

``--mode redis`` subscribes each client to a plain Redis channel instead:
the baseline for the same fan-out without Django, Channels or websockets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time

import websockets
from websockets.asyncio.client import connect

CLOSE_NOT_ALLOWED = 4404


class LiveClient:
    """One open study page."""

    def __init__(
        self, index: int, url: str, origin: str, session: str, start_seq: int, compression=None
    ) -> None:
        self.index = index
        self.compression = compression
        self.url = url
        self.origin = origin
        self.session = session
        self.last_seq = start_seq
        self.seen: set[int] = set()
        self.resumed = False
        self.buffer: list[dict] = []
        self.records: list[tuple[int, float, str]] = []  # seq, arrival, live|catchup|reload
        self.catching_up = False  # a resume is outstanding: what comes now is catch-up
        self.awaiting: set[int] = set()  # after a gap: the numbers a replay may bring
        self.ws = None
        self.attempt = 0
        self.gone = False
        self.stopping = False
        self.counts = {
            "connects": 0,
            "connect_failures": 0,
            "drops": 0,
            "churn_closes": 0,
            "duplicates": 0,
            "gap_resumes": 0,
            "reloads": 0,
            "errors": 0,
        }
        self.close_codes: dict[str, int] = {}
        self.ready = asyncio.Event()
        self.resumed_event = asyncio.Event()
        self.down_since: float | None = None
        self.outages: list[tuple[float, float]] = []  # (down at, resumed at)
        self._gap_task: asyncio.Task | None = None
        self.gap_attempts = 0
        self.resume_pending = False
        self.known_seq = 0  # the newest event number a presence message told of

    # --- the stream (take/handle as in live.js) ----------------------------------------

    def take(self, message: dict, arrived: float, via: str) -> None:
        seq = message.get("seq")
        if not isinstance(seq, int):
            return
        if seq <= self.last_seq or seq in self.seen:
            self.counts["duplicates"] += 1
            return
        self.records.append((seq, arrived, via))
        self.seen.add(seq)
        while self.last_seq + 1 in self.seen:
            self.seen.discard(self.last_seq + 1)
            self.last_seq += 1
        if self.behind():
            self.schedule_gap_check()
        else:
            self.gap_attempts = 0

    def behind(self) -> bool:
        return bool(self.seen) or self.known_seq > self.last_seq

    def schedule_gap_check(self) -> None:
        if self.resume_pending:
            return
        if self._gap_task is None or self._gap_task.done():
            self._gap_task = asyncio.ensure_future(self._gap_check())

    async def _gap_check(self) -> None:
        # As live.js: 2-4 s at random, doubling while gaps keep needing a resume,
        # never a second resume while one is unanswered.
        delay = min(30.0, random.uniform(2.0, 4.0) * 2**self.gap_attempts)  # noqa: S311
        await asyncio.sleep(delay)
        if self.behind() and self.ws is not None and self.resumed and not self.resume_pending:
            self.counts["gap_resumes"] += 1
            self.gap_attempts += 1
            self.resume_pending = True
            # Only the missing numbers can come back as replay; the rest still arrive live.
            top = max(self.seen) if self.seen else self.known_seq + 1
            missing = set(range(self.last_seq + 1, top)) - self.seen
            await self.send_resume(missing)

    async def send_resume(self, missing: set[int] | None = None) -> None:
        """Ask for what came after last_seq; ``missing``: the only numbers that can be replay."""
        self.catching_up = missing is None
        self.awaiting = missing or set()
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.ws.send(json.dumps({"type": "resume", "after": self.last_seq}))

    def handle(self, raw: str, arrived: float) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        kind = message.get("type")
        if kind == "event":
            via = "catchup" if self.catching_up or message.get("seq") in self.awaiting else "live"
            if not self.resumed:
                self.buffer.append((message, arrived, via))
            else:
                self.take(message, arrived, via)
        elif kind == "resumed":
            self.resume_pending = False
            pending, self.buffer = self.buffer, []
            self.resumed = True
            self.catching_up = False
            self.awaiting = set()
            for message_, arrived_, via_ in sorted(pending, key=lambda m: m[0]["seq"]):
                self.take(message_, arrived_, via_)
            seq = message.get("seq")
            if isinstance(seq, int) and seq > self.last_seq:
                # Numbers up to seq that were never received were skipped by the server
                # (none should be): they are recorded as missing by the checks.
                self.last_seq = seq
                self.seen = {s for s in self.seen if s > seq}
            if self.down_since is not None:
                self.outages.append((self.down_since, arrived))
                self.down_since = None
            self.resumed_event.set()
            self.ready.set()
        elif kind == "reload":
            # The page would fetch the list again; it then holds everything up to seq.
            self.counts["reloads"] += 1
            seq = message.get("seq", self.last_seq)
            for s in range(self.last_seq + 1, seq + 1):
                if s not in self.seen:
                    self.records.append((s, arrived, "reload"))
            self.last_seq = max(self.last_seq, seq)
            self.seen = {s for s in self.seen if s > self.last_seq}
            self.resumed = False
            asyncio.ensure_future(self.send_resume())
        elif kind == "presence":
            seq = (message.get("data") or {}).get("seq")
            if isinstance(seq, int) and seq > self.known_seq:
                self.known_seq = seq
                if self.resumed and self.behind():
                    self.schedule_gap_check()
        elif kind == "error":
            self.resume_pending = False
            self.counts["errors"] += 1

    # --- the socket ----------------------------------------------------------------------

    async def run(self, churn: float | None) -> None:
        while not self.gone and not self.stopping:
            self.resumed = False
            self.buffer = []
            try:
                async with connect(
                    self.url,
                    origin=self.origin,
                    additional_headers={"Cookie": f"sessionid={self.session}"},
                    open_timeout=20,
                    ping_interval=None,
                    max_queue=None,
                    compression=self.compression,
                ) as ws:
                    self.ws = ws
                    self.attempt = 0
                    self.counts["connects"] += 1
                    await self.send_resume()
                    closer = None
                    if churn:
                        closer = asyncio.ensure_future(self._churn(ws, churn))
                    try:
                        async for raw in ws:
                            self.handle(raw, time.time())
                    finally:
                        if closer is not None:
                            closer.cancel()
                    code = ws.close_code
            except (TimeoutError, OSError, websockets.WebSocketException) as exc:
                # A socket that was open and dropped without a close frame has no code (1006).
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                if self.ws is None:
                    self.counts["connect_failures"] += 1
            finally:
                self.ws = None
            self.resumed = False
            self.resume_pending = False
            self.resumed_event.clear()
            self.close_codes[str(code)] = self.close_codes.get(str(code), 0) + 1
            if self.stopping:
                return
            if code == CLOSE_NOT_ALLOWED:
                self.gone = True
                return
            if self.down_since is None:
                self.down_since = time.time()
            self.counts["drops"] += 1
            delay = min(30.0, 0.5 * 2**self.attempt) * (0.5 + random.random() / 2)  # noqa: S311
            self.attempt += 1
            await asyncio.sleep(delay)

    async def _churn(self, ws, mean: float) -> None:
        await asyncio.sleep(random.expovariate(1 / mean))  # noqa: S311
        self.counts["churn_closes"] += 1
        self.attempt = -1  # reconnect at once (0.25-0.5 s), as after a page reload
        await ws.close()

    async def finish(self, timeout: float) -> None:
        """Ask once more for anything missed, then close."""
        deadline = time.monotonic() + timeout
        while self.ws is None or not self.resumed:
            if self.gone or time.monotonic() > deadline:
                self.stopping = True
                return
            await asyncio.sleep(0.05)
        self.resumed_event.clear()
        self.resumed = False  # as on a fresh resume: what comes now is catch-up
        await self.send_resume()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.resumed_event.wait(), max(0.1, deadline - time.monotonic()))
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()

    def result(self) -> dict:
        return {
            "records": self.records,
            "last_seq": self.last_seq,
            "counts": self.counts,
            "close_codes": self.close_codes,
            "outages": self.outages,
            "gone": self.gone,
        }


class RedisClient:
    """One plain Redis subscriber: the baseline fan-out."""

    def __init__(self, index: int, redis_url: str, channel: str) -> None:
        self.index = index
        self.redis_url = redis_url
        self.channel = channel
        self.records: list[tuple[int, float, str]] = []
        self.ready = asyncio.Event()
        self.stopping = False
        self.counts = {"connects": 0}

    async def run(self, churn: float | None) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.redis_url)
        pubsub = client.pubsub()
        await pubsub.subscribe(self.channel)
        self.counts["connects"] += 1
        self.ready.set()
        try:
            while not self.stopping:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if message is None:
                    continue
                arrived = time.time()
                payload = json.loads(message["data"])
                self.records.append((payload["seq"], arrived, "live"))
        finally:
            await pubsub.aclose()
            await client.aclose()

    async def finish(self, timeout: float) -> None:
        self.stopping = True

    def result(self) -> dict:
        return {"records": self.records, "counts": self.counts}


async def main_async(args) -> None:
    with open(args.sessions) as f:
        sessions = json.load(f)[args.first : args.first + args.count]
    clients = []
    tasks = []
    bases = (args.base or "").split(",")
    for i, session in enumerate(sessions):
        if args.mode == "ws":
            base = bases[(args.first + i) % len(bases)]
            url = base.replace("http://", "ws://") + f"/ws/studies/{args.slug}/"
            client = LiveClient(
                args.first + i,
                url,
                base,
                session,
                args.start_seq,
                compression=None if args.compression == "none" else "deflate",
            )
        else:
            client = RedisClient(args.first + i, args.redis_url, args.channel)
        clients.append(client)
    started = time.time()
    for client in clients:
        tasks.append(asyncio.ensure_future(client.run(args.churn)))
        await asyncio.sleep(1 / args.connect_rate)
    with contextlib.suppress(TimeoutError):
        everyone = asyncio.gather(*(c.ready.wait() for c in clients))
        await asyncio.wait_for(everyone, args.ready_timeout)
    ready = sum(c.ready.is_set() for c in clients)
    print(f"READY {ready} {time.time() - started:.1f}", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "STOP":
            break
    await asyncio.gather(*(c.finish(args.finish_timeout) for c in clients))
    await asyncio.wait(tasks, timeout=10)
    for task in tasks:
        task.cancel()
    with open(args.out, "w") as f:
        json.dump({"clients": [c.result() for c in clients], "ready": ready}, f)
    print("DONE", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["ws", "redis"], default="ws")
    parser.add_argument("--base", help="http://127.0.0.1:PORT[,http://127.0.0.1:PORT2]")
    parser.add_argument("--slug", default="bench")
    parser.add_argument("--sessions", help="JSON file with a list of session keys")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--start-seq", type=int, default=0)
    parser.add_argument("--redis-url")
    parser.add_argument("--channel", default="bench.raw")
    parser.add_argument("--connect-rate", type=float, default=100.0)
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    parser.add_argument("--finish-timeout", type=float, default=60.0)
    parser.add_argument("--churn", type=float, default=None)
    parser.add_argument(
        "--compression",
        choices=["deflate", "none"],
        default="deflate",
        help="offer permessage-deflate as browsers do (default), or not",
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
