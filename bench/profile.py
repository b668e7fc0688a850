"""Where a request's CPU goes: the study page or a posted comment, under cProfile.

    .venv/bin/python -m bench.profile page --requests 300
    .venv/bin/python -m bench.profile post --requests 300 --sort tottime
    .venv/bin/python -m bench.profile page --document --path /studies/bench/document/

Starts its own Redis and a fresh PostgreSQL database (bench/harness.py),
seeds the page benchmark's study (200 contributions, 2,000 comments; with
``--document`` also a concept document whose paragraphs carry 100 passage
comments and 30 amendments, on the study page too), then
runs the requests in one process through Django's ASGI application, the
same middleware and settings as uvicorn runs them (DEBUG off), with no
network in between. Prints the CPU per request (``time.process_time``)
and the functions that took it. Run by hand, never in `.ci/run`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.harness import PYTHON, ROOT, Stack, log


def inner(args) -> None:
    import asyncio
    import secrets
    import time
    import uuid

    import django

    django.setup()
    from django.core.asgi import get_asgi_application

    from core import memory

    app = get_asgi_application()
    seed = json.loads(os.environ["BENCH_PROFILE_SEED"])
    token = secrets.token_hex(16)
    sizes: list[int] = []  # bytes of each response's body (before compression, if any)
    bodies: list[bytes] = []  # the last response's body, for --dump

    def scope_for(i: int, floor: bool = False) -> tuple[dict, bytes]:
        if floor:
            # The same person as request i asking for the --against path: GET, signed in.
            path, method, body, extra = args.against, "GET", b"", []
            if args.what == "page":
                cookie = f"sessionid={seed['viewers'][0]}"
            else:
                cookie = f"sessionid={seed['posters'][i % len(seed['posters'])]}"
        elif args.what == "page":
            path = args.path or f"/studies/{seed['slug']}/"
            method, body = "GET", b""
            cookie = "" if args.visitor else f"sessionid={seed['viewers'][0]}"
            extra = []
        else:
            path = f"/studies/{seed['slug']}/contributions/{seed['contribution_id']}/comments/form/"
            method = "POST"
            body = f"body=Profiled+comment+{i}&idempotency_key={uuid.uuid4()}".encode()
            session = seed["posters"][i % len(seed["posters"])]
            cookie = f"sessionid={session}; csrftoken={token}"
            extra = [
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"x-csrftoken", token.encode()),
                (b"hx-request", b"true"),
            ]
        headers = [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode()), *extra]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        return scope, body

    async def one(i: int, floor: bool = False) -> int:
        scope, body = scope_for(i, floor)
        sent = False
        status = 0
        size = 0

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)

        async def send(message):
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                bodies.append(message.get("body", b""))

        bodies.clear()
        if args.cold:
            memory.clear_all()
        await app(scope, receive, send)
        sizes.append(size)
        return status

    async def run(n: int, offset: int) -> list[int]:
        return [await one(offset + i) for i in range(n)]

    statuses = asyncio.run(run(args.warmup, 0))
    if set(statuses) != {200}:
        raise SystemExit(f"warm-up answered {sorted(set(statuses))}")
    if args.queries:
        # One more request with every statement it sends printed, then the timed ones.
        # Each request runs its sync parts in a thread of its own, so the cursor
        # class is wrapped rather than one thread's connection.
        from django.db.backends import utils

        seen: list[str] = []
        execute = utils.CursorWrapper.execute

        def logged(self, sql, params=None):
            seen.append(sql)
            return execute(self, sql, params)

        utils.CursorWrapper.execute = logged
        asyncio.run(one(args.warmup))
        utils.CursorWrapper.execute = execute
        print(f"{len(seen)} statements in one request:")
        for sql in seen:
            print("   ", sql[:200])
    spy = None
    if args.profile and not args.against:
        # Sample only the measured requests: py-spy attaches to this process now.
        spy = subprocess.Popen(  # noqa: S603
            # --gil: only the thread holding the GIL is sampled, so the shares are CPU, not waits.
            [os.environ["BENCH_PROFILE_SPY"], "record", "--pid", str(os.getpid()), "--rate", "200",
             "--format", "raw", "--full-filenames", "--gil",
             "--output", os.environ["BENCH_PROFILE_RAW"]],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.5)
    if args.against:
        against(args, one)
        return
    cpu0, wall0 = time.process_time(), time.perf_counter()
    statuses = asyncio.run(run(args.requests, args.warmup))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    bad = [s for s in statuses if s != 200]
    if args.dump:
        Path(args.dump).write_bytes(b"".join(bodies))
    print(
        f"{args.what}: {args.requests} requests, {len(bad)} not 200; "
        f"CPU {cpu * 1000 / args.requests:.2f} ms per request, "
        f"wall {wall * 1000 / args.requests:.2f} ms; {sizes[-1]:,} bytes"
        + (" (sampled by py-spy)" if args.profile else "")
    )


def against(args, one) -> None:
    """Each request, then one to the --against path as the same person, alternately in
    one process: both see the same machine at the same moments, so their ratio holds
    on a shared machine where each figure alone moves with the load."""
    import asyncio
    import statistics
    import time

    async def pairs() -> tuple[list[float], list[float], list[int]]:
        measured, floor, statuses = [], [], []
        await one(args.warmup, floor=True)
        for i in range(args.warmup, args.warmup + args.requests):
            t0 = time.process_time()
            statuses.append(await one(i))
            t1 = time.process_time()
            statuses.append(await one(i, floor=True))
            t2 = time.process_time()
            measured.append(t1 - t0)
            floor.append(t2 - t1)
        return measured, floor, statuses

    measured, floor, statuses = asyncio.run(pairs())
    bad = [s for s in statuses if s != 200]
    mean_m, mean_f = statistics.fmean(measured), statistics.fmean(floor)
    med_m, med_f = statistics.median(measured), statistics.median(floor)
    print(
        f"{args.what}: {args.requests} pairs, {len(bad)} not 200; "
        f"CPU {mean_m * 1000:.2f} ms per request (median {med_m * 1000:.2f}), "
        f"{args.against} {mean_f * 1000:.2f} ms (median {med_f * 1000:.2f}); "
        f"ratio {mean_m / mean_f:.2f} (medians {med_m / med_f:.2f})"
    )


def summarise(raw: Path, lines: int) -> None:
    """Inclusive and own shares of the sampled stacks (py-spy's raw format)."""
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = [_frame(f) for f in stack.split(";")]
        if frames[-1].split(" ")[0] in WAITING:
            continue  # a thread waiting (for the database, a lock, the event loop)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    print(f"{total} samples in the requests, threads waiting left out")
    print("--- inclusive (project and Django)")
    shown = [(k, v) for k, v in inclusive.most_common() if k.split(" ")[-1].startswith(INCLUDE)]
    for frame, n in shown[:lines]:
        print(f"{100 * n / total:5.1f} %  {frame}")
    print("--- own time")
    for frame, n in own.most_common(lines // 2):
        print(f"{100 * n / total:5.1f} %  {frame}")


WAITING = {"Condition.wait", "EpollSelector.select", "_worker", "Event.wait", "Connection.wait"}
INCLUDE = (
    "accounts/", "api/", "config/", "contributions/", "moderation/", "reports/", "studies/",
    "django/", "templates/",
)  # fmt: skip


def _frame(text: str) -> str:
    # "function (path/to/file.py:12)" -> "function package/module.py"
    name, _, where = text.partition(" (")
    path = where.split(":")[0]
    parts = path.split("/")
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif str(ROOT) in path:
        parts = Path(path).relative_to(ROOT).parts
    else:
        parts = parts[-1:]
    return f"{name} {'/'.join(parts)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["page", "post"])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--visitor", action="store_true", help="page: ask signed out")
    parser.add_argument("--dump", default="", help="write the last response's body to this file")
    parser.add_argument(
        "--queries", action="store_true", help="print the statements one request sends"
    )
    parser.add_argument(
        "--path", default="", help="page: another path to ask for, signed in (the floor: /health/)"
    )
    parser.add_argument(
        "--against",
        default="",
        help="alternate each request with one to this path as the same person, signed in, "
        "and print both and their ratio (the floor: --against /health/); no profile",
    )
    parser.add_argument(
        "--document",
        action="store_true",
        help="seed a concept document with 100 passage comments and 30 amendments",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="empty the process's memories (core.memory) before each request: nothing kept, "
        "an upper bound of the first request after a study event",
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--time-limit", type=float, default=600)
    args = parser.parse_args()
    if args.inner:
        inner(args)
        return
    with Stack("profile", workers=1, time_limit=args.time_limit) as stack:
        seed = stack.run_module(
            "bench.seed",
            "--viewers", "1", "--posters", str(max(20, args.requests // 15 + 5)),
            "--contributions", "200", "--comments", "2000",
            *(["--document"] if args.document else []),
        )  # fmt: skip
        env = {**stack.env(), "BENCH_PROFILE_SEED": json.dumps(seed)}
        log(f"profiling {args.requests} {args.what} requests")
        command = [PYTHON, "-m", "bench.profile", *sys.argv[1:], "--inner"]
        raw = stack.workdir / f"profile-{args.what}.txt"
        if args.profile and not args.against:
            spy = shutil.which("py-spy", path=str(Path(PYTHON).parent)) or shutil.which("py-spy")
            if spy is None:
                raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
            env.update(BENCH_PROFILE_SPY=spy, BENCH_PROFILE_RAW=str(raw))
        subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603
        if args.profile and not args.against:
            summarise(raw, args.lines)


if __name__ == "__main__":
    main()
