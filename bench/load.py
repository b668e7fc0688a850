"""Open-loop HTTP load: requests leave on a fixed schedule, whatever the answers do.

Latency is measured from each request's scheduled start, so a slow server
cannot slow the generator down and hide its own queueing (no coordinated
omission). Shared by the fan-out, page, posting, soak and fault benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
import uuid
from dataclasses import dataclass, field

import httpx

from bench.harness import PYTHON, ROOT, psql

COMMENT_BODY = "Agreed: the assistant should **say** which register it looked in, and when."


@dataclass
class Request:
    scheduled: float
    sent: float = 0.0
    done: float = 0.0
    status: int = 0
    error: str = ""

    @property
    def latency(self) -> float:
        return self.done - self.scheduled


@dataclass
class LoadResult:
    requests: list[Request] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    def ok(self) -> list[Request]:
        return [r for r in self.requests if 200 <= r.status < 300]

    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.requests:
            if not 200 <= r.status < 300:
                key = str(r.status) if r.status else (r.error or "no answer")
                out[key] = out.get(key, 0) + 1
        return out

    def achieved_rate(self) -> float:
        done = [r.done for r in self.ok()]
        if len(done) < 2:
            return 0.0
        return len(done) / (max(done) - self.started)


def client(connections: int = 256, timeout: float = 30.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=timeout,
    )


async def open_loop(rate: float, duration: float, make, *, stop: asyncio.Event | None = None):
    """Call ``make(i, request)`` at ``rate`` per second for ``duration`` seconds."""
    result = LoadResult(started=time.time())
    tasks = []
    total = int(rate * duration)
    start = time.monotonic()
    wall = time.time() - start
    for i in range(total):
        if stop is not None and stop.is_set():
            break
        at = start + i / rate
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        request = Request(scheduled=wall + at)
        result.requests.append(request)
        tasks.append(asyncio.ensure_future(_timed(make, i, request)))
    if tasks:
        await asyncio.wait(tasks)
    result.ended = time.time()
    return result


async def _timed(make, i: int, request: Request) -> None:
    request.sent = time.time()
    try:
        request.status = await make(i)
    except Exception as exc:  # noqa: BLE001 - every failure is a counted result
        request.error = type(exc).__name__
    request.done = time.time()


def poster(http: httpx.AsyncClient, bases: list[str], slug: str, contribution_id: int, sessions):
    """A ``make`` for open_loop: post one comment through the page's htmx endpoint."""
    token = secrets.token_hex(16)  # a 32-character CSRF secret, as the cookie holds

    async def make(i: int) -> int:
        base = bases[i % len(bases)]
        session = sessions[i % len(sessions)]
        response = await http.post(
            f"{base}/studies/{slug}/contributions/{contribution_id}/comments/form/",
            data={"body": f"{COMMENT_BODY} #{i}", "idempotency_key": str(uuid.uuid4())},
            headers={
                "Cookie": f"sessionid={session}; csrftoken={token}",
                "X-CSRFToken": token,
                "HX-Request": "true",
            },
        )
        return response.status_code

    return make


def page_getter(http: httpx.AsyncClient, url: str, session: str):
    async def make(i: int) -> int:
        response = await http.get(url, headers={"Cookie": f"sessionid={session}"})
        await response.aread()
        return response.status_code

    return make


# --- viewer processes ------------------------------------------------------------------


class Viewers:
    """Client processes (bench.clients), each holding a share of the sockets."""

    def __init__(self, stack, *, sessions: list[str], count: int, procs: int, **options) -> None:
        self.stack = stack
        self.count = count
        self.procs: list[subprocess.Popen] = []
        self.outs = []
        sessions_file = stack.workdir / "sessions.json"
        sessions_file.write_text(json.dumps(sessions))
        mode = options.get("mode", "ws")
        per = -(-count // procs)
        for p in range(procs):
            first = p * per
            n = min(per, count - first)
            if n <= 0:
                break
            out = stack.workdir / f"clients-{mode}-{p}-{time.time_ns()}.json"
            self.outs.append(out)
            command = [
                PYTHON, "-m", "bench.clients", "--mode", mode,
                "--sessions", str(sessions_file), "--first", str(first), "--count", str(n),
                "--out", str(out),
            ]  # fmt: skip
            for key, value in options.items():
                if key != "mode" and value is not None:
                    command += [f"--{key.replace('_', '-')}", str(value)]
            process = subprocess.Popen(  # noqa: S603
                command,
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(stack.workdir / f"clients-{p}.log").open("ab"),
                text=True,
                start_new_session=True,
            )
            stack.processes[f"clients{p}-{mode}-{time.time_ns()}"] = process
            self.procs.append(process)

    def wait_ready(self) -> int:
        ready = 0
        for process in self.procs:
            line = process.stdout.readline().split()
            if not line or line[0] != "READY":
                raise RuntimeError(f"client process failed: {line}")
            ready += int(line[1])
        return ready

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> list[dict]:
        for process in self.procs:
            process.stdin.write("STOP\n")
            process.stdin.flush()
        for process in self.procs:
            process.stdout.readline()
            process.wait(60)
        clients = []
        for out in self.outs:
            clients += json.loads(out.read_text())["clients"]
            out.unlink()
        return clients


def study_viewers(stack, seed: dict, count: int, **options) -> tuple[Viewers, int]:
    """``count`` sockets on the seeded study over the stack's web ports, from two client
    processes, each resuming after the study's last event now: that event's seq is
    returned too (the run's events are those after it, ``events_after``)."""
    start_seq = max(events_in_db(stack.db, seed["study_id"]) or {0: 0})
    viewers = Viewers(
        stack,
        sessions=seed["viewers"],
        count=count,
        procs=2,
        base=",".join(stack.base_urls),
        slug=seed["slug"],
        start_seq=start_seq,
        **options,
    )
    return viewers, start_seq


# --- what the database holds ----------------------------------------------------------------


def events_after(stack, seed: dict, seq: int) -> dict[int, float]:
    """The seeded study's events after ``seq``: seq -> created_at (``events_in_db``)."""
    return {s: t for s, t in events_in_db(stack.db, seed["study_id"]).items() if s > seq}


def events_in_db(db: str, study_id: int) -> dict[int, float]:
    """seq -> the event's created_at (Unix time), recorded just before its transaction commits."""
    out = psql(
        "SELECT seq, extract(epoch from created_at) FROM studies_studyevent "
        f"WHERE study_id = {study_id} ORDER BY seq",
        db,
    )
    events = {}
    for line in out.splitlines():
        seq, at = line.split("|")
        events[int(seq)] = float(at)
    return events


def event_payloads(db: str, study_id: int, seqs: list[int]) -> dict[int, str]:
    """The stored JSON of each event (for the raw Redis baseline).

    Events are stored as references (docs/live.md), without the HTML a live
    broadcast carries, so these payloads are smaller than the live ones.
    """
    if not seqs:
        return {}
    out = psql(
        "SELECT json_agg(json_build_object('type','event','seq',seq,'kind',kind,'key',key,"
        "'data',data) ORDER BY seq)::text FROM studies_studyevent "
        f"WHERE study_id = {study_id} AND seq BETWEEN {min(seqs)} AND {max(seqs)}",
        db,
    )
    return {item["seq"]: json.dumps(item) for item in json.loads(out or "[]")}


def comment_count(db: str, study_id: int) -> int:
    return int(psql(f"SELECT count(*) FROM contributions_comment WHERE study_id = {study_id}", db))
