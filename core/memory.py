"""Per-process memory: the one way a process keeps values between requests.

Rendered item fragments, kept lists, empty forms, a study's structure and
template blocks are worth keeping in the process that made them, beside the
shared cache. Each such store is a ``Memory``: bounded, least recently used
out first, safe to share between threads. Every memory made is listed here,
so ``clear_all()`` empties them all (the test fixture calls it before each
test). A memory holds only values under keys that name everything they
depend on, so nothing in it is ever invalidated: an old key is no longer
asked for and falls out.

A memory is bounded by the number of values and, when given ``max_bytes``,
by their approximate size too (``weight``): a count alone says little when
one study's page shell is 14 KB and another's 60 KB. A worker's memories
together stay under the sum of their ``max_bytes``, the budget each module
states beside its bound, so a long-running process levels off where the
budget says, whatever the pages weigh.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

MiB = 1024 * 1024
# What one process's memories may hold together: the sum of their byte bounds
# (tests/test_memory.py checks it). About 9 % of a web worker's 140 MiB, so a
# worker levels off a little above where it starts, whatever the traffic: 10 MiB
# for the study page's memories, 2 MiB for the concept document page's.
BUDGET = 12 * MiB

_memories: dict[str, Memory] = {}
_registry_lock = threading.Lock()
_MISSING = object()


def weight(value: Any, depth: int = 4) -> int:
    """About the bytes ``value`` holds: ``sys.getsizeof`` of it and, ``depth`` levels
    down, of what tuples, lists, sets, dicts and dataclasses in it hold (text, the
    bulk of what is kept, is counted exactly; shared objects are counted each time)."""
    size = sys.getsizeof(value)
    if depth == 0 or isinstance(value, str | bytes | int | float):
        return size
    if isinstance(value, tuple | list | set | frozenset):
        return size + sum(weight(v, depth - 1) for v in value)
    if isinstance(value, dict):
        return size + sum(weight(k, depth - 1) + weight(v, depth - 1) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return size + sum(
            weight(getattr(value, f.name), depth - 1) for f in dataclasses.fields(value)
        )
    return size


class Memory:
    """At most ``size`` values in this process, and at most ``max_bytes`` of keys and
    values (``weight``) when given; the least recently used dropped first. A value
    heavier than ``max_bytes`` alone is not kept."""

    def __init__(self, name: str, size: int, *, max_bytes: int | None = None) -> None:
        if size < 1:
            raise ValueError("a memory holds at least one value")
        if max_bytes is not None and max_bytes < 1:
            raise ValueError("a memory's byte bound is positive")
        self.name = name
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0  # the weight of what is kept (counted only with max_bytes)
        # key -> (value, its weight)
        self._values: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        with _registry_lock:
            if name in _memories:
                raise ValueError(f"a memory named {name!r} exists already")
            _memories[name] = self

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            kept = self._values.get(key)
            if kept is None:
                return default
            self._values.move_to_end(key)
            return kept[0]

    def set(self, key: Hashable, value: Any) -> None:
        # Weighed outside the lock, and only with a byte bound: the key and the value.
        heavy = weight(key) + weight(value) if self.max_bytes is not None else 0
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            if self.max_bytes is not None and heavy > self.max_bytes:
                return
            self._values[key] = (value, heavy)
            self.bytes += heavy
            while len(self._values) > self.size or (
                self.max_bytes is not None and self.bytes > self.max_bytes
            ):
                self.bytes -= self._values.popitem(last=False)[1][1]

    def get_or_set(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value kept for ``key``, else ``compute()``, kept (computed outside the lock:
        two threads may both compute it, and the value is the same)."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            self.set(key, value)
        return value

    def pop(self, key: Hashable) -> None:
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self.bytes -= old[1]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self.bytes = 0

    def values(self) -> list:
        """A copy of what is kept (tests that look for text that must not be kept)."""
        with self._lock:
            return [value for value, _weight in self._values.values()]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def __len__(self) -> int:
        return len(self._values)


def usage() -> dict[str, dict]:
    """Every memory of this process: values kept and their bound, bytes and their bound."""
    with _registry_lock:
        memories = list(_memories.values())
    return {
        m.name: {"values": len(m), "size": m.size, "bytes": m.bytes, "max_bytes": m.max_bytes}
        for m in memories
    }


def clear_all() -> None:
    """Empty every memory of this process (tests; nothing in production needs it)."""
    with _registry_lock:
        memories = list(_memories.values())
    for memory in memories:
        memory.clear()
