"""How many people view a study now, kept in the shared cache, never in the database.

Time is cut into windows of PERIOD seconds. Each open socket adds one to the
counter of the window it joins in and, once at the start of every later
window, to that window's counter; when it closes it takes itself off the
windows it counted in. The count of a window is the number of sockets alive
in it. Counters expire on their own, so a worker that dies without closing
its sockets skews the figure for at most one window.
"""

from __future__ import annotations

import contextlib
import time

from django.conf import settings
from django.core.cache import cache

from core.cache import count_up

# Sockets refresh within GRACE seconds of a window's start; until then the
# previous window's count stands in.
GRACE = 3


def period() -> int:
    return int(getattr(settings, "DUGNAD_PRESENCE_SECONDS", 30))


def window(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // period())


def _key(study_id: int, w: int) -> str:
    return f"presence:{study_id}:{w}"


def count_in(*, study_id: int, w: int) -> int:
    """Add this socket to window ``w`` of the study."""
    return count_up(cache, _key(study_id, w), period() * 3)


def leave(*, study_id: int, windows: set[int]) -> None:
    """Take this socket off the recent windows it counted in."""
    now = window()
    for w in windows:
        if w >= now - 1:
            with contextlib.suppress(ValueError):  # already expired
                cache.decr(_key(study_id, w))


def viewers(*, study_id: int) -> int:
    now = time.time()
    current = window(now)
    values = cache.get_many([_key(study_id, current), _key(study_id, current - 1)])
    count = values.get(_key(study_id, current), 0)
    if now - current * period() < GRACE:
        count = max(count, values.get(_key(study_id, current - 1), 0))
    return max(count, 0)


def broadcast_due(*, study_id: int) -> bool:
    """At most one viewer-count broadcast per study per second."""
    return cache.add(f"presence-sent:{study_id}", 1, timeout=1)
