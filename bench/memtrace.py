"""A uvicorn worker seen from inside during a benchmark: where its memory goes.

    uvicorn bench.memtrace:application      # with BENCH_MEMTRACE_DIR set
    .venv/bin/python -m bench.soak --trace 30

The project's ASGI application (config/asgi.py), imported after
``tracemalloc`` starts when ``BENCH_MEMTRACE_FRAMES`` is above 0, so the
worker's Python allocations from then on are traced. A thread in each
worker writes, every ``BENCH_MEMTRACE_EVERY`` seconds (default 30), one
JSON line to ``BENCH_MEMTRACE_DIR/memtrace-<pid>.jsonl``:

- the process's RSS and where it is: the C allocator's view (glibc
  ``mallinfo2``: bytes in use, bytes free but kept), Python's small-object
  allocator's (arenas, bytes in blocks in use and free), the traced total;
  a growing free part beside a flat part in use points at fragmentation,
  a growing part in use at something kept;
- with tracemalloc, the top growth by file and line since the worker
  started, and after ``BENCH_MEMTRACE_BASE`` seconds (the run's warm-up)
  since then; the same for live objects by type (the garbage collector's
  list: no tracemalloc needed);
- every per-process memory (core/memory.py): its entries, its bound and the
  approximate bytes its values hold;
- the channel layer's per-socket queues: messages waiting and their bytes;
- the asyncio tasks of the process not yet collected, and the garbage
  collector's counts and collections per generation;
- for the types named in ``BENCH_MEMTRACE_REFERRERS``, what holds a few of
  their live objects, a few levels up.

Bench only: production runs config.asgi:application and never imports this.
Each line holds the worker for a moment (seconds with tracemalloc), so
latency figures from a traced run are not comparable.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import inspect
import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

# Frames kept per traced allocation; 0: no tracemalloc (it makes every allocation
# dearer: the worker then keeps up with far less load).
FRAMES = int(os.environ.get("BENCH_MEMTRACE_FRAMES", "0"))
if FRAMES:
    tracemalloc.start(FRAMES)

from config.asgi import application as _application  # noqa: E402

TOP = 30
# Types whose holders each line names (BENCH_MEMTRACE_REFERRERS=Comment,User).
WATCH = [t for t in os.environ.get("BENCH_MEMTRACE_REFERRERS", "").split(",") if t]


def approximate_bytes(value, seen: set[int] | None = None) -> int:
    """What ``value`` holds, following tuples, lists, dicts and objects' __dict__ once each."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return size
    if isinstance(value, dict):
        return size + sum(
            approximate_bytes(k, seen) + approximate_bytes(v, seen) for k, v in value.items()
        )
    if isinstance(value, tuple | list | set | frozenset):
        return size + sum(approximate_bytes(v, seen) for v in value)
    if hasattr(value, "__dict__"):
        size += approximate_bytes(vars(value), seen)
    for name in getattr(type(value), "__slots__", ()):
        if hasattr(value, name):
            size += approximate_bytes(getattr(value, name), seen)
    return size


def memories() -> dict[str, dict]:
    from core import memory

    with memory._registry_lock:
        kept = dict(memory._memories)
    counted = memory.usage()
    out = {}
    for name, m in sorted(kept.items()):
        with m._lock:
            items = [(k, value) for k, (value, _weight) in m._values.items()]
        out[name] = {
            "entries": len(items),
            "size": m.size,
            # Followed further than the memory's own weight (objects' attributes too).
            "bytes": sum(approximate_bytes(k) + approximate_bytes(v) for k, v in items),
            "weight": counted[name]["bytes"],
            "max_bytes": m.max_bytes,
        }
    return out


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def malloc_stats() -> dict | None:
    """glibc's allocator: bytes handed out (in use) and held but free; None elsewhere."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallinfo2.restype = _Mallinfo2
    except (OSError, AttributeError):
        return None
    info = libc.mallinfo2()
    return {
        "heap_bytes": info.arena,
        "mmap_bytes": info.hblkhd,
        "in_use_bytes": info.uordblks,
        "free_bytes": info.fordblks,
    }


def status() -> dict[str, int]:
    """Resident memory in kB (all, anonymous, file-backed) and the number of threads."""
    out = {}
    with open("/proc/self/status") as f:
        for row in f:
            name, _, value = row.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                out[name] = int(value.split()[0])
    return out


def mappings() -> dict[str, int]:
    """Resident anonymous kB: the C heap (``[heap]``, glibc's main arena) and mmap'd
    memory (Python's arenas, other threads' malloc arenas, stacks: the kernel merges
    neighbouring mappings, so they are not told apart here), from /proc/self/smaps."""
    kinds = {"c_heap_kb": 0, "mmap_kb": 0, "named_kb": 0}
    name = ""
    with open("/proc/self/smaps") as f:
        for row in f:
            fields = row.split()
            if not row[0].isupper():
                name = fields[5] if len(fields) > 5 else ""
            elif fields[0] == "Anonymous:":
                kind = "c_heap_kb" if name == "[heap]" else "named_kb" if name else "mmap_kb"
                kinds[kind] += int(fields[1])
    return kinds


_PYMALLOC = {
    "# arenas allocated current": "arenas",
    "# bytes in allocated blocks": "allocated_bytes",
    "# bytes in available blocks": "available_bytes",
    "# bytes lost to pool headers": "pool_header_bytes",
    "# bytes lost to quantization": "quantization_bytes",
    "# bytes lost to arena alignment": "alignment_bytes",
}


def pymalloc_stats() -> dict[str, int]:
    """Python's small-object allocator (1 MiB arenas, mmap'd: not in glibc's figures):
    arenas held, bytes in blocks in use and free, read from sys._debugmallocstats(),
    which writes to the C stderr (redirected for the moment)."""
    with tempfile.TemporaryFile() as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    stats = {}
    for row in text.splitlines():
        label, _, value = row.partition("=")
        key = _PYMALLOC.get(label.strip())
        if key:
            stats[key] = int(value.strip().replace(",", ""))
    return stats


def _describe(obj) -> str:
    name = type(obj).__qualname__
    if isinstance(obj, dict):
        keys = list(obj)[:4]
        return f"dict{keys}"
    if isinstance(obj, list | tuple | set):
        return f"{name}[{len(obj)}]"
    if hasattr(obj, "__func__"):
        return f"{name}:{obj.__func__.__qualname__}"
    if hasattr(obj, "__code__"):
        return f"{name}:{obj.__code__.co_filename}:{obj.__code__.co_name}"
    if hasattr(obj, "cr_code"):
        return f"{name}:{obj.cr_code.co_name}"
    return name


def _running_locals() -> dict[int, str]:
    """The local variables of every other thread's running functions, by the id of
    their dict: "frame <function> <file>:<line>". (Running frames are not found by
    gc.get_referrers; up to Python 3.12, reading ``f_locals`` makes a dict of them
    that is, kept on the frame.)"""
    me = threading.get_ident()
    found = {}
    for ident, frame in sys._current_frames().items():
        while frame is not None and ident != me:
            code = frame.f_code
            where = "/".join(code.co_filename.rsplit("/", 2)[-2:])
            found[id(frame.f_locals)] = f"frame {code.co_name} {where}:{frame.f_lineno}"
            frame = frame.f_back
    return found


def referrers(type_names: list[str], samples: int = 3, depth: int = 5) -> dict[str, list]:
    """For a few live objects of each named type: what holds them, ``depth`` levels up
    (the first holder at each level, leaving out frames and this function's own lists).

    A chain that ends in "frame …" names the running function whose locals hold
    it: work in flight in some thread when the line was written, not a store.
    Such objects come and go from one line to the next."""
    out = {}
    running = _running_locals()
    everything = gc.get_objects()
    for type_name in type_names:
        found = [o for o in everything if type(o).__qualname__ == type_name]
        picked = found[len(found) // 2 : len(found) // 2 + samples]
        chains = []
        for obj in picked:
            chain: list[str] = []
            ours = {id(everything), id(found), id(picked), id(chain), id(chains), id(out)}
            current = obj
            for _ in range(depth):
                every = [h for h in gc.get_referrers(current) if id(h) not in ours]
                holders = [h for h in every if not inspect.isframe(h)]
                ours.update((id(holders), id(every)))
                in_flight = [running[id(h)] for h in holders if id(h) in running]
                if in_flight:
                    chain.append(in_flight[0])
                    break
                if not holders:
                    break
                current = holders[0]
                chain.append(f"{_describe(current)} (of {len(holders)})")
            chains.append(chain)
        out[type_name] = chains
        del found, picked
    del everything, running
    return out


def objects_by_type() -> Counter:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def _snapshot():
    if not tracemalloc.is_tracing():
        return None
    return tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )


def line(first, first_types: Counter) -> dict:
    growth = _snapshot().compare_to(first, "lineno")[:TOP] if first else []
    types = objects_by_type()
    type_growth = Counter({k: types[k] - first_types.get(k, 0) for k in types})
    traced, peak = tracemalloc.get_traced_memory()
    return {
        "t": time.time(),
        "rss_kb": (proc := status()).get("VmRSS"),
        "status": proc,
        "anonymous": mappings(),
        "pymalloc": pymalloc_stats(),
        "traced_bytes": traced,
        "traced_peak_bytes": peak,
        "malloc": malloc_stats(),
        "memories": memories(),
        "growth": [
            {
                "where": f"{s.traceback[0].filename}:{s.traceback[0].lineno}",
                "bytes": s.size_diff,
                "count": s.count_diff,
                "total_bytes": s.size,
            }
            for s in growth
        ],
        "object_growth": type_growth.most_common(TOP),
        "asyncio_tasks": _task_count(),
        "channel_queues": channel_queues(),
        # Cycles wait for a full collection, which runs when the objects that
        # survived since the last one are a quarter of the older ones.
        "gc": {"counts": gc.get_count(), "stats": gc.get_stats()},
        "referrers": referrers(WATCH) if WATCH else {},
    }


def channel_queues() -> dict | None:
    """The channel layer's per-socket queues in this process (Redis pub/sub layer):
    how many, the messages waiting in them and their bytes: a backlog shows here."""
    try:
        from channels.layers import channel_layers

        layer = channel_layers.backends.get("default")
        loop_layers = list(getattr(layer, "_layers", {}).values())
    except Exception:  # no layer made yet, or another kind of layer
        return None
    try:
        grouped = {
            name
            for loop_layer in loop_layers
            for names in list(loop_layer.groups.values())
            for name in list(names)
        }
        queues = [
            (name in grouped, q)
            for loop_layer in loop_layers
            for name, q in list(loop_layer.channels.items())
        ]
    except (AttributeError, RuntimeError) as exc:  # read while the loop changes them
        return {"error": repr(exc)}

    def waiting(selected):
        messages = [m for _in_group, q in selected for m in list(q._queue)]
        return len(messages), sum(len(m) for m in messages if isinstance(m, bytes | str))

    in_groups = [x for x in queues if x[0]]
    # A socket's queue outside every group: its consumer has gone (it is in its
    # study's group while it lives), and nothing will read or remove it.
    outside = [x for x in queues if not x[0]]
    return {
        "queues": len(queues),
        "messages_bytes": waiting(queues),
        "queues_outside_groups": len(outside),
        "their_messages_bytes": waiting(outside),
        "largest_in_groups": sorted((q.qsize() for _g, q in in_groups), reverse=True)[:5],
        "groups": sum(len(loop_layer.groups) for loop_layer in loop_layers),
    }


def _task_count() -> int | None:
    try:
        from asyncio import tasks as _tasks

        # Every task not yet collected (a WeakSet; read from another thread: a count).
        return len(_tasks._all_tasks)
    except (AttributeError, RuntimeError):
        return None


def _run(directory: Path, every: float, base: float) -> None:
    path = directory / f"memtrace-{os.getpid()}.jsonl"
    started = time.monotonic()
    first, first_types, since = _snapshot(), objects_by_type(), "start"
    while True:
        time.sleep(every)
        try:
            row = line(first, first_types) | {"growth_since": since}
            if since == "start" and time.monotonic() - started >= base:
                # Growth is counted from here on: after the run's warm-up.
                first, first_types, since = _snapshot(), objects_by_type(), "base"
        except Exception as exc:  # a diagnostic: say why, keep serving
            row = {"t": time.time(), "error": repr(exc)}
        with path.open("a") as f:
            f.write(json.dumps(row) + "\n")


def _start() -> None:
    directory = os.environ.get("BENCH_MEMTRACE_DIR")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    every = float(os.environ.get("BENCH_MEMTRACE_EVERY", "30"))
    base = float(os.environ.get("BENCH_MEMTRACE_BASE", "0"))
    threading.Thread(
        target=_run, args=(Path(directory), every, base), daemon=True, name="memtrace"
    ).start()


_start()
application = _application
