"""The embedded scheduler: Celery beat's schedule, run in the web process when there is no broker.

In the embedded default (no REDIS_URL) Celery runs tasks eagerly, in the
request, and there is no worker or beat: nothing would send digests, gathered
notification e-mails, moderation digests or remove expired exports. So
``make run`` starts this small scheduler with the web process (on ASGI
lifespan start-up). It needs no server, which a Celery worker with beat would
(its broker must be shared between processes; the in-memory one is not).

Every ``TICK`` seconds it runs each entry of ``CELERY_BEAT_SCHEDULE`` that is
due. A run is claimed by one UPDATE of the entry's ScheduledTaskRun row that
moves ``last_run_at`` only if the entry is due, so of two processes (or a
restarted one) exactly one runs each occurrence. Tasks queued for later
(``apply_async(countdown=...)``, e.g. the e-mail that gathers a person's
notifications at the end of their window) wait on a timer in this process
instead of running at once; if the process stops first, the overdue-e-mails
entry sends them, as it does for a task a broker lost.

With REDIS_URL set, Celery beat and workers do all of this (platform/Procfile)
and this scheduler does not start, unless EMBEDDED_SCHEDULER=1 says so.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from core.tasks import task

logger = logging.getLogger(__name__)

TICK = 15.0  # seconds between looks at the schedule

_thread: threading.Thread | None = None
_stop = threading.Event()
_timers: set[threading.Timer] = set()
_timers_lock = threading.Lock()


def _interval(entry: dict) -> dt.timedelta | None:
    schedule = entry.get("schedule")
    if isinstance(schedule, dt.timedelta):
        return schedule
    if isinstance(schedule, int | float):
        return dt.timedelta(seconds=float(schedule))
    return None  # crontab and solar schedules are left to Celery beat


def _task(name: str):
    return task(name)


def claim(name: str, interval: dt.timedelta, now: dt.datetime) -> bool:
    """Claim the run of ``name`` due at ``now``: True for exactly one caller per occurrence."""
    from accounts.models import ScheduledTaskRun

    ScheduledTaskRun.objects.bulk_create([ScheduledTaskRun(name=name)], ignore_conflicts=True)
    return bool(
        ScheduledTaskRun.objects.filter(name=name)
        .filter(Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - interval))
        .update(last_run_at=now)
    )


def run_due(now: dt.datetime | None = None) -> list[str]:
    """Run every entry of the beat schedule that is due at ``now``; the names of those run."""
    now = now or timezone.now()
    ran = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        interval = _interval(entry)
        if interval is None:
            logger.warning("the embedded scheduler cannot run %s: not an interval", name)
            continue
        if not claim(name, interval, now):
            continue
        ran.append(name)
        try:
            _task(entry["task"]).apply(
                args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True
            )
        except Exception:
            logger.exception("scheduled task %s failed; it runs again when next due", name)
    return ran


def later(task, args: tuple, kwargs: dict, seconds: float) -> None:
    """Run ``task`` in this process after ``seconds`` (a Celery countdown, embedded)."""

    def fire() -> None:
        with _timers_lock:
            _timers.discard(timer)
        try:
            task.apply(args=args, kwargs=kwargs, throw=True)
        except Exception:
            logger.exception("deferred task %s failed", task.name)
        finally:
            connection.close()

    timer = threading.Timer(max(0.0, seconds), fire)
    timer.daemon = True
    with _timers_lock:
        _timers.add(timer)
    timer.start()


def running() -> bool:
    return _thread is not None and _thread.is_alive()


def _loop() -> None:
    while not _stop.is_set():
        try:
            close_old_connections()
            run_due()
        except Exception:
            logger.exception("the embedded scheduler could not run the schedule")
        finally:
            connection.close()
        _stop.wait(TICK)


def start() -> bool:
    """Start the scheduler in this process if the settings ask for it; True if it runs."""
    global _thread
    if not settings.EMBEDDED_SCHEDULER or running():
        return running()
    _stop.clear()
    _thread = threading.Thread(target=_loop, name="dugnad-scheduler", daemon=True)
    _thread.start()
    logger.info("embedded scheduler started: %s", ", ".join(sorted(settings.CELERY_BEAT_SCHEDULE)))
    return True


def stop() -> None:
    global _thread
    _stop.set()
    with _timers_lock:
        pending = list(_timers)
        _timers.clear()
    for timer in pending:
        timer.cancel()
    if _thread is not None:
        _thread.join(timeout=5)
    _thread = None
