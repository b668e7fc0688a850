"""Celery tasks by their registered name.

A service queues background work, and the work's task calls back into the
service: importing ``tasks`` from ``services`` and ``services`` from ``tasks``
would tie the two modules in a circle. So ``tasks.py`` imports its services,
and services name the task they queue, as Celery beat's schedule does
(``CELERY_BEAT_SCHEDULE`` in config/settings.py). Eager Celery, countdowns and
the embedded scheduler (config/celery.py's ``DugnadTask``) work the same.
"""

from __future__ import annotations

import threading

from celery import Task, current_app

_loaded = threading.Event()
# Celery's autodiscovery returns nothing to a second thread while a first is
# still discovering (celery.loaders.base.autodiscover_tasks, _RACE_PROTECTION):
# without the lock, the second thread's first post after a start looked its
# task up before the task modules were imported (NotRegistered, a 500).
_loading = threading.Lock()


def task(name: str) -> Task:
    """The Celery task registered as ``name`` (``"accounts.tasks.data_export_build"``).

    An unknown name raises KeyError: tests/test_architecture.py checks that
    every name queued this way is a registered task.
    """
    if not _loaded.is_set():
        with _loading:
            if not _loaded.is_set():
                current_app.loader.import_default_modules()  # every app's tasks.py
                _loaded.set()
    return current_app.tasks[name]
