"""Per-process memory: the one way a process keeps values between requests.

Rendered item fragments, kept lists, empty forms, a study's structure and
template blocks are worth keeping in the process that made them, beside the
shared cache. Each such store is a ``Memory``: bounded, least recently used
out first, safe to share between threads. Every memory made is listed here,
so ``clear_all()`` empties them all (the test fixture calls it before each
test). A memory holds only values under keys that name everything they
depend on, so nothing in it is ever invalidated: an old key is no longer
asked for and falls out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_memories: dict[str, Memory] = {}
_registry_lock = threading.Lock()
_MISSING = object()


class Memory:
    """At most ``size`` values in this process, the least recently used dropped first."""

    def __init__(self, name: str, size: int) -> None:
        if size < 1:
            raise ValueError("a memory holds at least one value")
        self.name = name
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        with _registry_lock:
            if name in _memories:
                raise ValueError(f"a memory named {name!r} exists already")
            _memories[name] = self

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            value = self._values.get(key, _MISSING)
            if value is _MISSING:
                return default
            self._values.move_to_end(key)
            return value

    def set(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

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
            self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def values(self) -> list:
        """A copy of what is kept (tests that look for text that must not be kept)."""
        with self._lock:
            return list(self._values.values())

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def __len__(self) -> int:
        return len(self._values)


def clear_all() -> None:
    """Empty every memory of this process (tests; nothing in production needs it)."""
    with _registry_lock:
        memories = list(_memories.values())
    for memory in memories:
        memory.clear()
