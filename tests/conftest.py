"""Shared test set-up: fast hashing, a clean cache, and service requirements.

Tests that need PostgreSQL, Redis or Chromium skip with a reason where these
are absent; with DUGNAD_REQUIRE_SERVICES=1 (as in .ci/run) they fail instead,
so CI proves they ran.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache

from core import memory

REQUIRE_SERVICES = os.environ.get("DUGNAD_REQUIRE_SERVICES") == "1"


def _missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (DUGNAD_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def _required(value: str | None, reason: str) -> str:
    if not value:
        _missing(reason)
    return value


@pytest.fixture
def requires_redis() -> str:
    return _required(os.environ.get("REDIS_URL"), "needs Redis: set REDIS_URL")


@pytest.fixture
def requires_postgres() -> str:
    return _required(os.environ.get("DATABASE_URL"), "needs PostgreSQL: set DATABASE_URL")


@pytest.fixture
def requires_chromium() -> str:
    return _required(chromium_path(), "needs Chromium: apt-get install chromium")


@pytest.fixture
def live_chromium(requires_chromium, live_server):
    """Chromium for pages of pytest-django's live server (see tests/live_browser.py)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # in the test body are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=requires_chromium)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, left with no connection from other processes.

    The live servers (uvicorn and Celery in child processes) and threads of
    the async tests may still hold a PostgreSQL session when the run ends;
    DROP DATABASE would then refuse ("is being accessed by other users") and
    leave the test database behind.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    memory.clear_all()
    yield
    cache.clear()


@pytest.fixture
def english_by_default(settings):
    """Pages default to English (``LANGUAGE_CODE``): assertions read the English source
    strings, as a request without a language cookie or header gets them."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def in_english():
    """The test's own code (forms, services, templates rendered in the test) speaks
    English: assertions read the English source strings."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def media_root():
    return settings.MEDIA_ROOT


@pytest.fixture
def eager_celery():
    """Run Celery tasks in the test, also when REDIS_URL makes them asynchronous."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


# What each recorded study event broadcast (its HTML and live-only data), by
# (study id, seq): the stored event holds neither (docs/live.md).
_BROADCASTS: dict[tuple[int, int], dict] = {}


@pytest.fixture(autouse=True)
def _keep_broadcasts(monkeypatch):
    from studies import events

    real = events.record_event

    def record_event(**kwargs):
        event = real(**kwargs)
        _BROADCASTS[(event.study_id, event.seq)] = {
            "html": kwargs.get("html", ""),
            **(kwargs.get("live") or {}),
        }
        return event

    monkeypatch.setattr(events, "record_event", record_event)
    yield
    _BROADCASTS.clear()


def broadcast_html(event) -> str:
    """The HTML a recorded event was broadcast with (never stored with it)."""
    return _BROADCASTS.get((event.study_id, event.seq), {}).get("html", "")


def broadcast_live(event) -> dict:
    """The broadcast's live-only data of a recorded event (``html_alt``, ``announce``)."""
    found = _BROADCASTS.get((event.study_id, event.seq), {})
    return {k: v for k, v in found.items() if k != "html"}


@pytest.fixture
def item_render_count(monkeypatch):
    """How many times an item's fragment is rendered from its template in this test."""
    from contributions import fragments

    counted = {"count": 0}
    real = fragments._render

    def counting(item):
        counted["count"] += 1
        return real(item)

    monkeypatch.setattr(fragments, "_render", counting)
    return counted
