"""Posting: comments through HTTP at a constant rate, each broadcast live.

    .venv/bin/python -m bench.posting                   # 50, 100, 150 comments/s, 30 s each
    .venv/bin/python -m bench.posting --rates 100 --duration 60
    .venv/bin/python -m bench.posting --split --server gunicorn   # HTTP from WSGI, sockets apart

Starts its own Redis, a fresh PostgreSQL database and uvicorn with two
workers (DEBUG off). Comments go to the page's htmx endpoint, open loop
(bench/load.py), from enough members that nobody passes the posting rate
limit in force (POSTING_RATE_LIMIT, 20 a minute each, is left as it is).
Listening sockets (``--listeners``, page protocol, bench/clients.py) count
every event: each committed comment must reach each of them, live. Results:
bench/results/posting-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time

from bench import harness
from bench.fanout import analyse, cpu_share, cpu_snapshot, http_urls, socket_urls
from bench.harness import log, summary_ms
from bench.load import Viewers, client, comment_count, events_in_db, open_loop, poster

TARGET = {"rate": 100}
PER_PERSON_PER_MINUTE = 20


async def post(stack, seed, rate: float, duration: float):
    async with client() as http:
        urls = http_urls(stack)
        make = poster(http, urls, seed["slug"], seed["contribution_id"], seed["posters"])
        return await open_loop(rate, duration, make)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,150")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--listeners", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    harness.add_split_arguments(parser)
    parser.add_argument("--time-limit", type=float, default=900)
    args = parser.parse_args()
    harness.split_arguments_checked(parser, args)
    rates = [float(r) for r in args.rates.split(",")]
    # Each person posts at most 20 a minute: enough people that even two steps in one
    # minute keep everyone under the limit.
    posters = math.ceil(max(rates) * 60 / PER_PERSON_PER_MINUTE * 2)
    result = {
        **harness.result_header("posting", args),
        "target": TARGET,
        "posters": posters,
        "steps": [],
    }
    log("load average before:", result["load_before"], "posters", posters)
    with harness.split_stack("posting", args) as stack:
        seed = stack.run_module(
            "bench.seed", "--viewers", str(args.listeners), "--posters", str(posters)
        )
        stack.start_web()
        warm = asyncio.run(post(stack, seed, 5, 2))
        log("warm-up posts:", len(warm.ok()), "ok of", len(warm.requests))
        for rate in rates:
            step = {"rate": rate, "load_before": harness.loadavg()}
            start_seq = max(events_in_db(stack.db, seed["study_id"]) or {0: 0})
            comments_before = comment_count(stack.db, seed["study_id"])
            listeners = Viewers(
                stack,
                sessions=seed["viewers"],
                count=args.listeners,
                procs=1,
                base=",".join(socket_urls(stack)),
                slug=seed["slug"],
                start_seq=start_seq,
            )
            listeners.wait_ready()
            pids = stack.cpu_pids({"client": listeners.pids()[0]})
            cpu0, t0 = cpu_snapshot(pids), time.time()
            load = asyncio.run(post(stack, seed, rate, args.duration))
            elapsed = time.time() - t0
            step["cpu_percent"] = cpu_share(cpu0, cpu_snapshot(pids), elapsed)
            done = max(1, len(load.ok()))
            step["cpu_ms_per_post"] = {
                "workers": round(step["cpu_percent"]["web_total"] / 100 * elapsed * 1000 / done, 1),
                "postgres": round(
                    step["cpu_percent"]["postgres_total"] / 100 * elapsed * 1000 / done, 1
                ),
            }
            time.sleep(3)
            clients = listeners.stop()
            committed = {
                s: t for s, t in events_in_db(stack.db, seed["study_id"]).items() if s > start_seq
            }
            ok = load.ok()
            step["posts"] = {
                "sent": len(load.requests),
                "ok": len(ok),
                "errors": load.errors(),
                "achieved_rate": round(load.achieved_rate(), 1),
                "latency_ms": summary_ms([r.latency for r in ok]),
            }
            step["comments_committed"] = comment_count(stack.db, seed["study_id"]) - comments_before
            step["listeners"] = analyse(clients, committed, committed)
            s = step["listeners"]
            step["meets_target"] = bool(
                not step["posts"]["errors"]
                and step["posts"]["ok"] == step["comments_committed"] == s["events"]
                and s["live_share"] == 1.0
                and step["posts"]["achieved_rate"] >= min(rate, TARGET["rate"]) * 0.98
            )
            log(f"  {rate}/s:", step["posts"], "cpu", step["cpu_ms_per_post"], "listeners", s)
            result["steps"].append(step)
    path = harness.write_result("posting", result)
    log("written", path)
    for step in result["steps"]:
        p, s = step["posts"], step["listeners"]
        print(
            f"{step['rate']:>6}/s: achieved {p['achieved_rate']}/s ok {p['ok']}/{p['sent']} "
            f"errors {p['errors']} p50 {p['latency_ms'].get('p50')} "
            f"p95 {p['latency_ms'].get('p95')} p99 {p['latency_ms'].get('p99')} ms | "
            f"committed {step['comments_committed']} live {s['live_share']} "
            f"all {s['all_share']} event p95 {s['latency_ms'].get('p95')} ms | "
            f"cpu/post {step['cpu_ms_per_post']} ms | "
            f"target {'met' if step['meets_target'] else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
