"""Fan-out: N sockets on one study page, comments posted over HTTP at a constant rate.

    .venv/bin/python -m bench.fanout                        # 500 viewers x 4 items/s, then up
    .venv/bin/python -m bench.fanout --steps 500x4 --duration 20

Starts its own Redis, a fresh PostgreSQL database and uvicorn with two
workers (DEBUG off), then for each step ``VIEWERSxRATE``:

1. ``VIEWERS`` signed-in members open the study page's socket (client
   processes, bench/clients.py) and resume after the page's last event;
2. comments are posted through the page's htmx endpoint at ``RATE`` per second
   for ``--duration`` seconds, open loop (bench/load.py);
3. every client records when each event arrived; the latency of an event is
   its arrival minus its ``created_at`` in the database, which is stamped
   inside the posting transaction just before it commits (so the figure
   slightly overstates commit-to-screen);
4. baseline: the same payloads (the events' JSON as the sockets got it), at
   the same rate, published on a plain Redis channel to the same number of
   plain Redis subscribers, in the same client processes.

"Live" means the event came as a push while the socket held no outstanding
resume; what the final resume of each client brings is "catch-up"; anything
absent even then is "missing". The run stops by itself (``--time-limit``) and
cleans up. Results: bench/results/fanout-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time

from bench import harness
from bench.harness import log, summary_ms
from bench.load import Viewers, client, event_payloads, events_in_db, open_loop, poster

TARGET = {"p95_ms": 250, "p99_ms": 1000, "live_share": 1.0}


def analyse(clients: list[dict], committed: dict[int, float], base: dict[int, float]) -> dict:
    """Per-delivery figures over every client and every committed event of the step."""
    latencies = []
    via = {"live": 0, "catchup": 0, "reload": 0, "missing": 0}
    duplicates = 0
    for c in clients:
        got = {seq: (at, how) for seq, at, how in c["records"]}
        duplicates += c["counts"].get("duplicates", 0)
        for seq in committed:
            record = got.get(seq)
            if record is None:
                via["missing"] += 1
                continue
            via[record[1]] += 1
            if record[1] == "live":
                latencies.append(record[0] - base[seq])
    expected = len(clients) * len(committed)
    # Live latency by the minute the events were committed: does it drift?
    by_minute: dict[int, list[float]] = {}
    if committed:
        first = min(base[s] for s in committed)
        for c in clients:
            for seq, at, how in c["records"]:
                if how == "live" and seq in committed:
                    by_minute.setdefault(int((base[seq] - first) // 60), []).append(at - base[seq])
    timeline = [
        {"minute": m, **{k: v for k, v in summary_ms(v).items() if k in ("n", "p50", "p95")}}
        for m, v in sorted(by_minute.items())
    ]
    return {
        "timeline": timeline,
        "events": len(committed),
        "deliveries_expected": expected,
        "delivered": via,
        "live_share": round(via["live"] / expected, 5) if expected else None,
        "all_share": round((expected - via["missing"]) / expected, 5) if expected else None,
        "duplicates_ignored": duplicates,
        "latency_ms": summary_ms(latencies),
    }


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {label: harness.cpu_seconds(pid) or 0.0 for label, pid in pids.items()}


def cpu_share(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Percent of one core each process used; totals for the workers and PostgreSQL."""
    shares = {
        label: round((after.get(label, 0) - before.get(label, 0)) / seconds * 100, 1)
        for label in before
    }
    for prefix, total in (("web", "web_total"), ("postgres", "postgres_total")):
        shares[total] = round(sum(v for k, v in shares.items() if k.startswith(prefix)), 1)
    return shares


def http_urls(stack) -> list[str]:
    """Where posts go: every worker, or with --split the first (the HTTP worker) only."""
    return stack.base_urls[:1] if stack.split else stack.base_urls


def socket_urls(stack) -> list[str]:
    """Where sockets connect: every worker, or with --split the second only."""
    return stack.base_urls[1:] if stack.split else stack.base_urls


async def post_for(stack, seed, rate: float, duration: float):
    async with client() as http:
        posters = seed["posters"]
        make = poster(http, http_urls(stack), seed["slug"], seed["contribution_id"], posters)
        return await open_loop(rate, duration, make)


async def publish_raw(redis_url: str, channel: str, payloads: list[str], rate: float):
    """Publish each payload at ``rate``; returns the publish time of each seq."""
    import redis.asyncio as aioredis

    r = aioredis.Redis.from_url(redis_url)
    sent = {}
    start = time.monotonic()
    try:
        for i, text in enumerate(payloads):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            seq = json.loads(text)["seq"]
            sent[seq] = time.time()
            await r.publish(channel, text)
    finally:
        await r.aclose()
    return sent


def run_step(stack, seed, viewers: int, rate: float, args) -> dict:
    step = {"viewers": viewers, "rate": rate, "load_before": harness.loadavg()}
    start_seq = max(events_in_db(stack.db, seed["study_id"]) or {0: 0})
    log(f"step {viewers} viewers x {rate}/s: connecting (start seq {start_seq})")

    def viewer_clients(**options) -> Viewers:
        """The step's viewers over --client-procs processes, connecting at --connect-rate."""
        return Viewers(
            stack,
            sessions=seed["viewers"],
            count=viewers,
            procs=args.client_procs,
            connect_rate=args.connect_rate / args.client_procs,
            **options,
        )

    group = viewer_clients(
        base=",".join(socket_urls(stack)),
        slug=seed["slug"],
        start_seq=start_seq,
        compression=args.compression,
    )
    t0 = time.time()
    step["connected"] = group.wait_ready()
    step["connect_seconds"] = round(time.time() - t0, 1)
    time.sleep(2)
    pids = stack.cpu_pids({f"client{i}": p for i, p in enumerate(group.pids())})
    cpu0, t1 = cpu_snapshot(pids), time.time()
    load = asyncio.run(post_for(stack, seed, rate, args.duration))
    elapsed = time.time() - t1
    step["cpu_percent"] = cpu_share(cpu0, cpu_snapshot(pids), elapsed)
    # CPU the workers spent per delivery (posting included): robust to a busy machine.
    deliveries = max(1, int(rate * args.duration) * viewers)
    step["worker_cpu_ms_per_delivery"] = round(
        step["cpu_percent"]["web_total"] / 100 * elapsed * 1000 / deliveries, 3
    )
    time.sleep(args.settle)
    clients = group.stop()
    events = events_in_db(stack.db, seed["study_id"])
    committed = {s: t for s, t in events.items() if s > start_seq}
    ok = load.ok()
    step["posts"] = {
        "sent": len(load.requests),
        "ok": len(ok),
        "errors": load.errors(),
        "latency_ms": summary_ms([r.latency for r in ok]),
    }
    step["sockets"] = analyse(clients, committed, committed)
    step["sockets"]["connected"] = step["connected"]
    step["load_after"] = harness.loadavg()
    log("  posts:", json.dumps(step["posts"]))
    log("  sockets:", json.dumps(step["sockets"]))

    if args.baseline:
        payloads = event_payloads(stack.db, seed["study_id"], sorted(committed))
        log(f"  baseline: {viewers} raw Redis subscribers, same {len(payloads)} payloads")
        raw = viewer_clients(mode="redis", redis_url=stack.redis_url, channel="bench.raw")
        raw.wait_ready()
        time.sleep(1)
        sent = asyncio.run(
            publish_raw(stack.redis_url, "bench.raw", [payloads[s] for s in sorted(payloads)], rate)
        )
        time.sleep(args.settle)
        raw_clients = raw.stop()
        step["raw_redis"] = analyse(raw_clients, sent, sent)
        log("  raw redis:", json.dumps(step["raw_redis"]))
    s = step["sockets"]
    step["meets_target"] = bool(
        s["live_share"] == 1.0
        and s["latency_ms"].get("p95", 1e9) <= TARGET["p95_ms"]
        and s["latency_ms"].get("p99", 1e9) <= TARGET["p99_ms"]
        and not step["posts"]["errors"]
    )
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="500x4,500x8,1000x4,1000x8")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--settle", type=float, default=3)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--connect-rate", type=float, default=150)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    parser.add_argument(
        "--ws", default="auto", help="uvicorn --ws (auto picks websockets-sansio, as in production)"
    )
    parser.add_argument(
        "--server-deflate",
        action="store_true",
        help="let the server accept permessage-deflate (platform/Procfile turns it off)",
    )
    harness.add_split_arguments(parser)
    parser.add_argument("--time-limit", type=float, default=1500)
    args = parser.parse_args()
    harness.split_arguments_checked(parser, args)
    steps = [(int(v), float(r)) for v, r in (s.split("x") for s in args.steps.split(","))]
    result = {
        **harness.result_header("fanout", args),
        "target": TARGET,
        "steps": [],
    }
    log("load average before:", result["load_before"])
    with harness.split_stack("fanout", args, ws=args.ws, ws_deflate=args.server_deflate) as stack:
        seed = stack.run_module(
            "bench.seed",
            "--viewers", str(max(v for v, _ in steps)),
            # Nobody passes the posting rate limit (20 a minute), even with two steps in a minute.
            "--posters", str(max(20, math.ceil(max(r for _, r in steps) * 60 / 20 * 2))),
        )  # fmt: skip
        stack.start_web()
        log("up:", stack.base_urls, "workers", stack.web_workers())
        warm = asyncio.run(post_for(stack, seed, 5, 4))  # templates, pools, imports
        log("warm-up posts:", len(warm.ok()), "ok of", len(warm.requests))
        for viewers, rate in steps:
            try:
                result["steps"].append(run_step(stack, seed, viewers, rate, args))
            except harness.TimeLimit:
                raise
            except Exception as exc:  # a step that breaks is a finding, not the end of the run
                log("step failed:", repr(exc))
                result["steps"].append({"viewers": viewers, "rate": rate, "failed": repr(exc)})
    path = harness.write_result("fanout", result)
    log("written", path)
    for step in result["steps"]:
        if step.get("sockets", {}).get("events"):
            s = step["sockets"]
            raw = step.get("raw_redis", {}).get("latency_ms", {})
            print(
                f"{step['viewers']:>5} x {step['rate']:>4}/s: live {s['live_share']:.4f} "
                f"all {s['all_share']:.4f} p50 {s['latency_ms'].get('p50')} "
                f"p95 {s['latency_ms'].get('p95')} p99 {s['latency_ms'].get('p99')} ms | "
                f"raw redis p95 {raw.get('p95')} p99 {raw.get('p99')} | "
                f"posts {step['posts']['ok']}/{step['posts']['sent']} "
                f"target {'met' if step['meets_target'] else 'MISSED'}"
            )


if __name__ == "__main__":
    main()
