"""Faults: Redis restarted and an ASGI worker killed mid-run; clients converge, nothing lost.

    .venv/bin/python -m bench.faults
    .venv/bin/python -m bench.faults --duration 60 --redis-port 6390

Starts its OWN redis-server (``--redis-port``, default 6390; never the shared
one), a fresh PostgreSQL database and uvicorn with two workers (DEBUG off).
Viewers hold page sockets (bench/clients.py: reconnect with the page's
back-off, resume after the last event held, gap check) while comments are
posted at a constant rate. Then:

- at ``--redis-at`` seconds Redis is killed (SIGKILL, its data gone, as in a
  crash) and started again ``--redis-down`` seconds later;
- at ``--worker-at`` seconds one uvicorn worker is killed (SIGKILL); uvicorn's
  supervisor starts a new one.

Posts refused while Redis is away are counted, not hidden (the posting rate
limit lives in the shared cache). At the end every client asks once more for
what it missed and must hold every event the database has committed.
Recovery times: from the kill until posting works again, until every client
that lost its socket has it back and resumed, and until every client has a
live event committed after the fault. Results: bench/results/faults-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import threading
import time

from bench import harness
from bench.fanout import analyse
from bench.harness import Stack, log, summary_ms
from bench.load import client, events_after, open_loop, poster, study_viewers


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((harness.HOST, port))
        except OSError:
            return False
    return True


async def posting(stack, seed, rate, duration):
    async with client(timeout=15) as http:
        make = poster(http, stack.base_urls, seed["slug"], seed["contribution_id"], seed["posters"])
        return await open_loop(rate, duration, make)


def first_ok_after(load, at: float) -> float | None:
    times = [r.done for r in load.requests if r.scheduled >= at and 200 <= r.status < 300]
    return min(times) - at if times else None


def live_again(clients, committed: dict[int, float], at: float) -> dict:
    """Per client: seconds from the fault until a live event committed after it arrived."""
    delays = []
    never = 0
    for c in clients:
        arrivals = [
            t for seq, t, via in c["records"] if via == "live" and committed.get(seq, 0) > at
        ]
        if arrivals:
            delays.append(min(arrivals) - at)
        else:
            never += 1
    return {"seconds": summary_ms(delays), "never": never}


def outages_after(clients, at: float, until: float) -> dict:
    """Sockets lost between ``at`` and ``until``: how long until they had resumed."""
    spans = []
    for c in clients:
        for down, up in c["outages"]:
            if at - 1 <= down <= until:
                spans.append(up - at)
    return {"sockets": len(spans), "recovered_after_ms": summary_ms(spans)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=4)
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--redis-at", type=float, default=15)
    parser.add_argument("--redis-down", type=float, default=2)
    parser.add_argument("--worker-at", type=float, default=38)
    parser.add_argument("--time-limit", type=float, default=600)
    args = parser.parse_args()
    redis_port = args.redis_port if port_free(args.redis_port) else harness.free_port()
    result = {
        **harness.result_header("faults", args),
        "redis_port": redis_port,
    }
    log("load average before:", result["load_before"], "own redis on", redis_port)
    with Stack("faults", workers=2, redis_port=redis_port, time_limit=args.time_limit) as stack:
        seed = stack.run_module("bench.seed", "--viewers", str(args.viewers), "--posters", "40")
        stack.start_web()
        asyncio.run(posting(stack, seed, 5, 2))  # warm-up
        viewers, start_seq = study_viewers(stack, seed, args.viewers, finish_timeout=60)
        result["connected"] = viewers.wait_ready()
        faults: dict = {}
        t0 = time.time()

        def inject():
            time.sleep(max(0, t0 + args.redis_at - time.time()))
            log("killing Redis")
            faults["redis"] = stack.restart_redis(down_for=args.redis_down)
            log("Redis back")
            time.sleep(max(0, t0 + args.worker_at - time.time()))
            workers = stack.web_workers()
            victim = workers[0]
            log("killing worker", victim, "of", workers)
            faults["worker"] = {"pid": victim, "killed_at": time.time()}
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
            deadline = time.time() + 30
            while time.time() < deadline:
                now = stack.web_workers()
                if len(now) >= len(workers) and victim not in now:
                    faults["worker"]["replaced_after_s"] = round(
                        time.time() - faults["worker"]["killed_at"], 2
                    )
                    break
                time.sleep(0.1)

        injector = threading.Thread(target=inject, daemon=True)
        injector.start()
        load = asyncio.run(posting(stack, seed, args.rate, args.duration))
        injector.join(60)
        time.sleep(3)
        clients = viewers.stop()
        committed = events_after(stack, seed, start_seq)
    redis_at = faults["redis"]["killed_at"]
    worker_at = faults["worker"]["killed_at"]
    result["faults"] = faults
    result["posts"] = {
        "sent": len(load.requests),
        "ok": len(load.ok()),
        "errors": load.errors(),
        "refused_while_redis_down": sum(
            1
            for r in load.requests
            if not 200 <= r.status < 300 and redis_at - 1 <= r.scheduled <= redis_at + 15
        ),
        "latency_ms": summary_ms([r.latency for r in load.ok()]),
    }
    result["delivery"] = analyse(clients, committed, committed)
    result["committed"] = len(committed)
    result["nothing_lost"] = result["delivery"]["all_share"] == 1.0
    result["recovery"] = {
        "redis": {
            "posting_ok_again_after_s": first_ok_after(load, faults["redis"]["up_at"]),
            "posting_ok_again_after_kill_s": first_ok_after(load, redis_at),
            "live_again": live_again(clients, committed, faults["redis"]["up_at"]),
            "sockets_lost": outages_after(clients, redis_at, worker_at - 1),
        },
        "worker": {
            "replaced_after_s": faults["worker"].get("replaced_after_s"),
            "sockets_lost": outages_after(clients, worker_at, worker_at + 30),
            "live_again": live_again(clients, committed, worker_at),
        },
    }
    counts: dict[str, int] = {}
    for c in clients:
        for k, v in c["counts"].items():
            counts[k] = counts.get(k, 0) + v
    result["client_counts"] = counts
    result["load_after"] = harness.loadavg()
    path = harness.write_result("faults", result)
    log("written", path)
    print("posts", result["posts"])
    print("delivery", result["delivery"])
    print("client counts", counts)
    print("recovery", result["recovery"])
    print("nothing lost:", result["nothing_lost"], "committed", result["committed"])


if __name__ == "__main__":
    main()
