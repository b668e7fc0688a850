"""The one settings module: embedded default, production switch, refusal without secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "-production-secret-key-that-is-long-and-random-0123456789",
    "ALLOWED_HOSTS": "dugnad.example.org",
    "DATABASE_URL": "postgres://dugnad:secret@db.example.org:5432/dugnad",
    "REDIS_URL": "redis://cache.example.org:6379/0",
    "SITE_URL": "https://dugnad.example.org",
}
SERVICE_VARIABLES = (
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST",
    "DUGNAD_REQUIRE_SERVICES", "SITE_URL",
)  # fmt: skip

PROBE = """
import json, django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "debug": s.DEBUG,
    "engine": db["ENGINE"],
    "conn_max_age": db.get("CONN_MAX_AGE"),
    "pool": db.get("OPTIONS", {}).get("pool"),
    "sqlite_options": db.get("OPTIONS") if "sqlite" in db["ENGINE"] else None,
    "layer": s.CHANNEL_LAYERS["default"]["BACKEND"],
    "layer_hosts": s.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
    "cache": s.CACHES["default"]["BACKEND"],
    "cache_location": s.CACHES["default"].get("LOCATION"),
    "broker": s.CELERY_BROKER_URL,
    "eager": s.CELERY_TASK_ALWAYS_EAGER,
    "ignore_result": s.CELERY_TASK_IGNORE_RESULT,
    "result_backend": s.CELERY_RESULT_BACKEND,
    "celery_backend": type(__import__("config.celery").celery.app.backend).__name__,
    "web_max_requests": s.WEB_MAX_REQUESTS,
    "email": s.EMAIL_BACKEND,
    "hsts": getattr(s, "SECURE_HSTS_SECONDS", 0),
    "secure_cookies": getattr(s, "SESSION_COOKIE_SECURE", False),
}))
"""


def run_python(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    clean.update(env)
    command = [sys.executable, *args] if args else [sys.executable, "-c", code]
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def probe(env: dict[str, str]) -> dict:
    result = run_python(PROBE, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_variables_gives_the_embedded_default():
    figures = probe({})
    assert figures["debug"] is True
    assert figures["engine"] == "core.backends.sqlite3"
    assert "journal_mode=WAL" in figures["sqlite_options"]["init_command"]
    assert figures["sqlite_options"]["timeout"] >= 5
    assert figures["layer"] == "channels.layers.InMemoryChannelLayer"
    assert figures["cache"].endswith("LocMemCache")
    assert figures["eager"] is True
    assert figures["email"].endswith("console.EmailBackend")


def test_embedded_sqlite_runs_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
        "    c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])\n"
    )
    result = run_python(code, {"SQLITE_PATH": str(tmp_path / "wal.sqlite3")})
    assert result.returncode == 0, result.stderr
    mode, busy = result.stdout.split()
    assert mode == "wal"
    assert int(busy) >= 5000


def test_database_url_switches_to_postgresql_through_the_pool_without_persistent_connections():
    figures = probe({"DATABASE_URL": PRODUCTION["DATABASE_URL"]})
    assert figures["engine"] == "core.backends.postgresql"
    assert figures["conn_max_age"] == 0
    assert figures["pool"]["max_size"] >= 1
    # Only the database moves: the rest stays embedded.
    assert figures["layer"] == "channels.layers.InMemoryChannelLayer"
    # A request waits at most five seconds for a connection by default.
    assert figures["pool"]["timeout"] == 5


def test_pool_size_wait_and_request_limit_are_set_from_the_environment():
    figures = probe(
        {
            "DATABASE_URL": PRODUCTION["DATABASE_URL"],
            "DB_POOL_MAX_SIZE": "7",
            "DB_POOL_TIMEOUT": "2",
        }
    )
    assert (figures["pool"]["max_size"], figures["pool"]["timeout"]) == (7, 2)
    assert figures["web_max_requests"] == 4  # a few at once, whatever the pool
    assert probe({"WEB_MAX_REQUESTS": "0"})["web_max_requests"] == 0


def test_task_results_are_not_stored():
    figures = probe({"REDIS_URL": PRODUCTION["REDIS_URL"]})
    assert figures["ignore_result"] is True
    # No result backend: queueing a task builds none (one per request thread).
    assert figures["result_backend"] is None
    assert figures["celery_backend"] == "DisabledBackend"


def test_redis_url_switches_channel_layer_broker_and_cache_together():
    url = PRODUCTION["REDIS_URL"]
    figures = probe({"REDIS_URL": url})
    assert figures["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    (host,) = figures["layer_hosts"]
    assert host["address"] == url
    assert host["max_connections"] > 100
    assert figures["cache"] == "core.cache.SharedPoolRedisCache"
    assert figures["cache_location"] == url
    assert figures["broker"] == url
    assert figures["eager"] is False
    assert figures["engine"] == "core.backends.sqlite3"


def test_production_settings_turn_on_hsts_and_secure_cookies():
    figures = probe(PRODUCTION)
    assert figures["debug"] is False
    assert figures["hsts"] >= 31_536_000
    assert figures["secure_cookies"] is True


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "SITE_URL"]
)
def test_start_up_with_debug_off_refuses_and_names_what_is_missing(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = run_python(PROBE, env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr.splitlines()[-1]


def test_start_up_with_debug_off_and_nothing_set_names_every_missing_variable():
    result = run_python(PROBE, {"DEBUG": "0"})
    last = result.stderr.strip().splitlines()[-1]
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "SITE_URL"):
        assert name in last


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://user@host/db", "must be a PostgreSQL URL"),
        ("DATABASE_URL", "postgres://user@host:notaport/db", "DATABASE_URL is malformed"),
        ("DATABASE_URL", "postgres://user@host:5432/", "names no database"),
        ("REDIS_URL", "http://cache.example.org", "REDIS_URL must look like"),
        ("REDIS_URL", "redis://cache:port/0", "REDIS_URL is malformed"),
        ("DEBUG", "maybe", "DEBUG must be one of"),
    ],
)
def test_malformed_variables_get_a_clear_message(variable, value, expected):
    result = run_python(PROBE, {variable: value})
    assert result.returncode != 0
    assert expected in result.stderr


def test_check_deploy_reports_nothing_with_production_settings():
    result = run_python("", PRODUCTION, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
