"""Soak: mixed load for a bounded time; memory of every process, nothing lost.

    .venv/bin/python -m bench.soak                      # 10 minutes
    .venv/bin/python -m bench.soak --duration 120       # a shorter run

Starts its own Redis, a fresh PostgreSQL database, uvicorn with two workers
and a Celery worker (DEBUG off), then for ``--duration`` seconds at once:

- ``--viewers`` page sockets (bench/clients.py), each closed on average every
  ``--churn`` seconds and reopened with "resume after event N", as a reload
  or a lost network would;
- comments posted at ``--post-rate`` per second over HTTP (open loop);
- study pages fetched at ``--page-rate`` per second, signed in.

Every ``--sample`` seconds the resident memory (RSS) of every process is
read from /proc: Redis, the uvicorn supervisor and workers, Celery, the
client processes and the PostgreSQL backends serving this database (their
private memory, RssAnon, summed: a backend's VmRSS grows with every shared
buffer it touches). After
``--warmup`` seconds (default a fifth of the run) each process's RSS must
stay within 10 % of its level at the end of warm-up. At the end every
client asks once more for what it missed; every committed event must have
reached every client, live or by catch-up. Results: bench/results/soak-*.json.

``--trace SECONDS`` serves bench/memtrace.py instead, which writes from inside
each uvicorn worker where its memory is (allocators, per-process memories,
objects by type, the channel layer's queues) to bench/results/run/soak-<pid>/.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time

from bench import harness
from bench.fanout import analyse
from bench.harness import Stack, log, summary_ms
from bench.load import client, events_after, open_loop, page_getter, poster, study_viewers

FLAT = 0.10


def sampler(stack, extra: dict[str, int], every: float, stop: threading.Event, out: list):
    while not stop.is_set():
        table = stack.process_table() | extra
        table = {k: v for k, v in table.items() if not k.startswith("clients")}
        try:
            for i, pid in enumerate(stack.database_backends()):
                table[f"postgres.backend{i}"] = pid
        except RuntimeError:
            pass
        row = {
            "t": time.time(),
            "rss_kb": {k: harness.rss_kb(p) for k, p in table.items()},
            "rss_anon_kb": {k: harness.rss_anon_kb(p) for k, p in table.items()},
        }
        # Backends count their private memory: VmRSS grows with shared buffers touched.
        row["rss_kb"]["postgres.backends_total"] = sum(
            v or 0 for k, v in row["rss_anon_kb"].items() if k.startswith("postgres.backend")
        )
        out.append(row)
        stop.wait(every)


def flatness(samples: list[dict], warm_until: float) -> dict:
    """Per process: RSS at the end of warm-up, the highest after it, the last, growth in %."""
    after = [s for s in samples if s["t"] >= warm_until]
    if not after:
        return {}
    report = {}
    names = set().union(*(s["rss_kb"].keys() for s in after))
    for name in sorted(names):
        if name.startswith("postgres.backend") and name != "postgres.backends_total":
            continue  # backends come and go with the pool; their total is what counts
        values = [s["rss_kb"].get(name) for s in after if s["rss_kb"].get(name)]
        if not values:
            continue
        base = values[0]
        peak = max(values)
        report[name] = {
            "at_warm_kb": base,
            "peak_kb": peak,
            "last_kb": values[-1],
            "growth_percent": round((peak - base) / base * 100, 1),
            "flat": (peak - base) / base <= FLAT,
        }
    return report


async def mixed(stack, seed, args) -> tuple:
    url = f"{stack.base_urls[0]}/studies/{seed['slug']}/"
    async with client() as http:
        posts = open_loop(
            args.post_rate,
            args.duration,
            poster(http, stack.base_urls, seed["slug"], seed["contribution_id"], seed["posters"]),
        )
        pages = open_loop(args.page_rate, args.duration, page_getter(http, url, seed["host"]))
        return await asyncio.gather(posts, pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--warmup", type=float, default=None)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--churn", type=float, default=60, help="mean seconds between reconnects")
    parser.add_argument("--post-rate", type=float, default=1)
    parser.add_argument("--page-rate", type=float, default=1)
    parser.add_argument("--sample", type=float, default=5)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument(
        "--trace",
        type=float,
        default=None,
        metavar="SECONDS",
        help="look inside the uvicorn workers' memory (bench/memtrace.py), "
        "a line every SECONDS to bench/results/run/soak-<pid>/memtrace/",
    )
    parser.add_argument(
        "--trace-frames",
        type=int,
        default=0,
        help="with --trace: tracemalloc with this many frames (0: off; it slows the workers)",
    )
    parser.add_argument(
        "--trace-holders",
        default="",
        metavar="TYPES",
        help="with --trace: name what holds a few objects of these types (Comment,User)",
    )
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else args.duration / 5
    posters = max(20, int(args.post_rate * 60 / 20 * 2) + 1)
    result = harness.result_header("soak", args)
    log("load average before:", result["load_before"])
    trace = {}
    if args.trace:
        trace = {
            "app": "bench.memtrace:application",
            # A snapshot holds the worker for seconds: uvicorn's supervisor would
            # take it for hung (5 s without an answer) and start another.
            "uvicorn_options": ("--timeout-worker-healthcheck", "300"),
            "env": {
                "BENCH_MEMTRACE_DIR": str(
                    harness.RESULTS / "run" / f"soak-{os.getpid()}" / "memtrace"
                ),
                "BENCH_MEMTRACE_EVERY": str(args.trace),
                # Growth counted from the end of warm-up (the workers start a little
                # before the load: the sockets connect first).
                "BENCH_MEMTRACE_BASE": str(warmup),
                "BENCH_MEMTRACE_FRAMES": str(args.trace_frames),
                "BENCH_MEMTRACE_REFERRERS": args.trace_holders,
            },
        }
    with Stack(
        "soak",
        workers=2,
        celery=True,
        time_limit=args.time_limit or args.duration + 300,
        **trace,
    ) as stack:
        seed = stack.run_module(
            "bench.seed",
            "--viewers", str(args.viewers), "--posters", str(posters),
            "--contributions", "40", "--comments", "200",
        )  # fmt: skip
        stack.start_web()
        viewers, start_seq = study_viewers(stack, seed, args.viewers, churn=args.churn)
        result["connected"] = viewers.wait_ready()
        samples: list[dict] = []
        stop = threading.Event()
        extra = {f"client{i}": p for i, p in enumerate(viewers.pids())}
        thread = threading.Thread(
            target=sampler, args=(stack, extra, args.sample, stop, samples), daemon=True
        )
        started = time.time()
        thread.start()
        log(f"{result['connected']} sockets; mixed load for {args.duration:.0f} s")
        posts, pages = asyncio.run(mixed(stack, seed, args))
        time.sleep(3)
        stop.set()
        thread.join()
        clients = viewers.stop()
        result["redis_at_end"] = harness.redis_census(stack.redis_url)
        committed = events_after(stack, seed, start_seq)
    result["posts"] = {
        "sent": len(posts.requests),
        "ok": len(posts.ok()),
        "errors": posts.errors(),
        "latency_ms": summary_ms([r.latency for r in posts.ok()]),
    }
    result["pages"] = {
        "sent": len(pages.requests),
        "ok": len(pages.ok()),
        "errors": pages.errors(),
        "latency_ms": summary_ms([r.latency for r in pages.ok()]),
    }
    result["delivery"] = analyse(clients, committed, committed)
    counts: dict[str, int] = {}
    for c in clients:
        for k, v in c["counts"].items():
            counts[k] = counts.get(k, 0) + v
    result["client_counts"] = counts
    result["memory"] = flatness(samples, started + warmup)
    # The client processes are the load generator: they keep every arrival, so they grow.
    result["memory_flat"] = all(
        v["flat"] for k, v in result["memory"].items() if not k.startswith("client")
    )
    result["rss_samples"] = samples
    result["nothing_lost"] = result["delivery"]["all_share"] == 1.0
    result["load_after"] = harness.loadavg()
    path = harness.write_result("soak", result)
    log("written", path)
    print("posts", result["posts"])
    print("pages", result["pages"])
    print("delivery", result["delivery"], "client counts", counts)
    for name, m in result["memory"].items():
        print(
            f"  {name:<24} {m['at_warm_kb'] / 1024:8.1f} MiB -> peak {m['peak_kb'] / 1024:8.1f} "
            f"last {m['last_kb'] / 1024:8.1f} ({m['growth_percent']:+.1f} %)"
            f"{'' if m['flat'] or name.startswith('client') else '  NOT FLAT'}"
        )
    print("redis at end:", result["redis_at_end"])
    print("live latency by minute:", result["delivery"]["timeline"])
    print("memory flat:", result["memory_flat"], "| nothing lost:", result["nothing_lost"])


if __name__ == "__main__":
    main()
