"""Reading the environment: one place that turns variables into settings values.

Every malformed value raises ImproperlyConfigured with a message that names
the variable, so a bad deployment stops at start-up instead of failing later.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def parse_database_url(url: str, *, pool_max_size: int, pool_timeout: float = 5) -> dict:
    """A PostgreSQL DATABASES entry using psycopg's pool (no persistent connections)."""
    import dj_database_url

    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a PostgreSQL URL such as "
            f"postgres://user:password@host:5432/name; got scheme {parts.scheme!r}."
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
        config = dj_database_url.parse(url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}.") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL names no database (the path after the host).")
    config["ENGINE"] = "core.backends.postgresql"  # Django's, flush marked
    # The pool replaces persistent connections: CONN_MAX_AGE must stay 0 with it.
    config["CONN_MAX_AGE"] = 0
    config["CONN_HEALTH_CHECKS"] = False
    config.setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": pool_max_size,
        # Seconds a request waits for a connection before failing.
        "timeout": pool_timeout,
    }
    return config


def check_redis_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ImproperlyConfigured(f"REDIS_URL is malformed: {exc}.") from None
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"REDIS_URL must look like redis://host:6379/0 (or rediss://); got {url!r}."
        )
    return url
