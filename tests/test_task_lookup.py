"""core.tasks.task: the first look-ups after a start, from several threads at once."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from core import tasks


@pytest.fixture
def fresh_start(monkeypatch):
    """A process that has not discovered its tasks yet, with discovery as Celery does it:
    a second caller while one is discovering gets nothing and returns at once."""
    monkeypatch.setattr(tasks, "_loaded", threading.Event())
    started, release = threading.Event(), threading.Event()
    busy = []
    registered = {}

    def import_default_modules():
        if busy:  # celery.loaders.base.autodiscover_tasks' _RACE_PROTECTION
            return []
        busy.append(True)
        started.set()
        release.wait(5)
        registered["dugnad.test_task"] = object()
        busy.clear()
        return []

    app = SimpleNamespace(
        loader=SimpleNamespace(import_default_modules=import_default_modules), tasks=registered
    )
    monkeypatch.setattr(tasks, "current_app", app)
    return started, release, registered


def test_a_second_thread_waits_for_the_first_threads_discovery(fresh_start):
    started, release, registered = fresh_start
    results: dict[str, object] = {}

    def look_up(who):
        try:
            results[who] = tasks.task("dugnad.test_task")
        except KeyError as error:
            results[who] = error

    first = threading.Thread(target=look_up, args=("first",))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=look_up, args=("second",))
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waiting for the discovery, not looking up too early
    release.set()
    first.join(5)
    second.join(5)
    assert results == {
        "first": registered["dugnad.test_task"],
        "second": registered["dugnad.test_task"],
    }


def test_an_unknown_name_still_raises_key_error(fresh_start):
    _started, release, _registered = fresh_start
    release.set()
    with pytest.raises(KeyError):
        tasks.task("dugnad.no_such_task")
