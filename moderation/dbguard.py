"""The SQLite side of the moderation log's database guard.

On SQLite the log's DELETE trigger asks ``moderation_log_flushing()``, a
function Django registers on each of its connections. It answers true only
while ``manage.py flush`` (or the test runner's flush between transactional
tests) empties every table, the one deliberate way to wipe a database; on
PostgreSQL that wipe is a TRUNCATE, which row triggers do not see either.
Outside Django the function does not exist, so a DELETE fails there too.
"""

from __future__ import annotations

import threading

from django.db.backends.signals import connection_created

_state = threading.local()


def flushing() -> bool:
    return getattr(_state, "flushing", False)


def _register(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "moderation_log_flushing", 0, lambda: 1 if flushing() else 0, deterministic=False
        )


def install() -> None:
    connection_created.connect(_register, dispatch_uid="moderation_log_flushing")
    # Through base: importing sqlite3.operations first is a circular import
    # when no SQLite connection was made yet (as with DATABASE_URL set).
    from django.db.backends.sqlite3.base import DatabaseOperations

    if getattr(DatabaseOperations.execute_sql_flush, "_moderation_guarded", False):
        return
    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        _state.flushing = True
        try:
            return original(self, sql_list)
        finally:
            _state.flushing = False

    execute_sql_flush._moderation_guarded = True
    DatabaseOperations.execute_sql_flush = execute_sql_flush
