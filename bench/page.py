"""Page throughput: the study page (200 contributions, 2,000 comments), one worker.

    .venv/bin/python -m bench.page                      # 5, 10, 15, 20 req/s, 20 s each, then 150
    .venv/bin/python -m bench.page --rates 150 --duration 30
    .venv/bin/python -m bench.page --visitor            # signed out; the target rate is 400
    .venv/bin/python -m bench.page --wrk 2,4,8          # closed loop, wrk: 2, 4, 8 connections
    .venv/bin/python -m bench.page --document           # and the concept document's page

``--document`` seeds a concept document with 100 passage comments and 30
amendments (bench.seed --document; they are on the study page too) and
measures the study page, then the document page, with the same steps.

Starts its own Redis, a fresh PostgreSQL database and one uvicorn worker
(DEBUG off), seeds the study, warms up, then holds each request rate
constant (open loop, bench/load.py: latency counts from each request's
scheduled start). Baseline in the same run: ``/health/`` (one query, no
template) at the same rates on the same worker. Results:
bench/results/page-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import time

from bench import harness
from bench.harness import Stack, log, summary_ms
from bench.load import client, open_loop, page_getter

TARGET = {"rate": 150, "p95_ms": 100}
VISITOR_TARGET = {"rate": 400, "p95_ms": 100}


async def constant(url: str, session: str, rate: float, duration: float) -> dict:
    async with client() as http:
        result = await open_loop(rate, duration, page_getter(http, url, session))
    ok = result.ok()
    return {
        "rate": rate,
        "sent": len(result.requests),
        "ok": len(ok),
        "errors": result.errors(),
        "achieved_rate": round(result.achieved_rate(), 1),
        "latency_ms": summary_ms([r.latency for r in ok]),
    }


def probe(url: str, session: str, *, visitor: bool) -> int:
    """Ask for the page once: its size in bytes; refused unless it answers 200, signed in
    (or out, for ``visitor``) as asked."""

    async def get():
        async with client() as http:
            return await http.get(url, headers={"Cookie": f"sessionid={session}"})

    response = asyncio.run(get())
    signed_in = "data-viewer-id" in response.text and 'data-viewer-id=""' not in response.text
    if response.status_code != 200 or signed_in == visitor:
        raise RuntimeError(f"{url} answered {response.status_code}, or signed in as not asked")
    return len(response.content)


def run_wrk(url: str, session: str, connections: int, duration: float) -> dict:
    """wrk's closed loop: ``connections`` connections each asking again as soon as answered."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", url]
    if session:
        command[1:1] = ["-H", f"Cookie: sessionid={session}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    ms = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def percentile(p: int) -> float | None:
        found = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, flags=re.M)
        return round(float(found.group(1)) * ms[found.group(2)], 1) if found else None

    def number(pattern: str) -> float:
        found = re.search(pattern, out)
        return float(found.group(1)) if found else 0.0

    return {
        "requests": int(number(r"(\d+) requests in")),
        "requests_per_second": number(r"Requests/sec:\s+([\d.]+)"),
        "p50_ms": percentile(50),
        "p90_ms": percentile(90),
        "p99_ms": percentile(99),
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": int(number(r"Socket errors: connect (\d+)")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="5,10,15,20")
    parser.add_argument(
        "--target-seconds",
        type=float,
        default=4,
        help="after the steps, hold the target rate (150/s; 400/s with --visitor) this long "
        "(0: skip)",
    )
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--contributions", type=int, default=200)
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument(
        "--server",
        choices=["uvicorn", "gunicorn"],
        default="uvicorn",
        help="uvicorn (ASGI, as platform/Procfile) or gunicorn (WSGI sync workers)",
    )
    parser.add_argument(
        "--visitor", action="store_true", help="signed out: no session cookie is sent"
    )
    parser.add_argument(
        "--wrk",
        default="",
        help="instead of the rates: wrk (Debian's package) with these numbers of connections, "
        "each for --duration seconds; a load generator in C takes less of the machine's CPU",
    )
    parser.add_argument(
        "--document",
        action="store_true",
        help="seed a concept document with 100 passage comments and 30 amendments and "
        "measure its page after the study page",
    )
    parser.add_argument("--time-limit", type=float, default=900)
    args = parser.parse_args()
    if args.wrk and not shutil.which("wrk"):
        parser.error("--wrk needs wrk: apt-get install wrk")
    target = VISITOR_TARGET if args.visitor else TARGET
    rates = [(float(r), args.duration) for r in args.rates.split(",")]
    if args.target_seconds:
        rates.append((float(target["rate"]), args.target_seconds))
    result = {
        **harness.result_header("page", args),
        "target": target,
        "visitor": args.visitor,
        "document": args.document,
        "steps": [],
    }
    log("load average before:", result["load_before"])
    with Stack("page", workers=1, time_limit=args.time_limit, server=args.server) as stack:
        seed = stack.run_module(
            "bench.seed",
            "--viewers", "1", "--posters", "20",
            "--contributions", str(args.contributions), "--comments", str(args.comments),
            *(["--document"] if args.document else []),
        )  # fmt: skip
        stack.start_web()
        base = stack.base_urls[0]
        session = "" if args.visitor else seed["viewers"][0]
        pages = {"study": f"{base}/studies/{seed['slug']}/"}
        if args.document:
            pages["document"] = f"{base}/studies/{seed['slug']}/document/"
        seeded = ("contributions", "comments", "passages", "amendments")
        result["seed"] = {key: seed[key] for key in seeded if key in seed}
        result["page_bytes"] = {}
        for name, url in pages.items():
            result["page_bytes"][name] = probe(url, session, visitor=args.visitor)
            log(f"{name} page {url}: {result['page_bytes'][name]} bytes; warming up")
            asyncio.run(constant(url, session, 10, 5))
        worker = stack.web_workers()[0]
        for name, url in pages.items():
            if args.wrk:
                for connections in (int(c) for c in args.wrk.split(",")):
                    cpu0 = harness.cpu_seconds(worker)
                    step = {"page_name": name, "load_before": harness.loadavg()}
                    step["connections"] = connections
                    step["wrk"] = run_wrk(url, session, connections, args.duration)
                    used = harness.cpu_seconds(worker) - cpu0
                    step["worker_cpu_ms_per_page"] = round(
                        used * 1000 / max(1, step["wrk"]["requests"]), 1
                    )
                    log(f"  {name} wrk -c{connections}:", step["wrk"])
                    result["steps"].append(step)
                    time.sleep(2)
                continue
            for rate, duration in rates:
                step = {"page_name": name, "load_before": harness.loadavg(), "duration": duration}
                cpu0, t0 = harness.cpu_seconds(worker), time.time()
                step["page"] = asyncio.run(constant(url, session, rate, duration))
                used = harness.cpu_seconds(worker) - cpu0
                step["worker_cpu_percent"] = round(used / (time.time() - t0) * 100, 1)
                # CPU the worker spent per page: what one idle core could serve is 1000 / this.
                step["worker_cpu_ms_per_page"] = round(used * 1000 / max(1, step["page"]["ok"]), 1)
                log(f"  {name} page {rate}/s:", step["page"])
                if args.baseline:
                    step["health"] = asyncio.run(
                        constant(base + "/health/", session, rate, duration / 2)
                    )
                    log(f"  /health/ {rate}/s:", step["health"])
                page = step["page"]
                step["meets_target"] = bool(
                    rate >= target["rate"]
                    and not page["errors"]
                    and page["latency_ms"].get("p95", 1e9) <= target["p95_ms"]
                )
                result["steps"].append(step)
                time.sleep(2)
    path = harness.write_result("page", result)
    log("written", path)
    for step in result["steps"]:
        if "wrk" in step:
            w = step["wrk"]
            print(
                f"{step['page_name']} wrk -c{step['connections']}: "
                f"{w['requests_per_second']} pages/s, "
                f"latency p50 {w['p50_ms']} p90 {w['p90_ms']} p99 {w['p99_ms']} ms, "
                f"non-2xx {w['non_2xx']}, errors {w['socket_errors']} | "
                f"{step['worker_cpu_ms_per_page']} ms of worker CPU per page"
            )
            continue
        p, h = step["page"], step.get("health", {})
        print(
            f"{step['page_name']} {p['rate']:>6}/s: achieved {p['achieved_rate']} "
            f"ok {p['ok']}/{p['sent']} "
            f"p50 {p['latency_ms'].get('p50')} p95 {p['latency_ms'].get('p95')} "
            f"p99 {p['latency_ms'].get('p99')} ms cpu {step['worker_cpu_percent']}% "
            f"({step['worker_cpu_ms_per_page']} ms/page) | "
            f"/health/ p95 {h.get('latency_ms', {}).get('p95')} ms"
        )


if __name__ == "__main__":
    main()
