"""Let Django's whole-database flush through the moderation log's database guard.

The log is append-only in the database too (migrations 0002 to 0004): triggers
refuse UPDATE, DELETE and, on PostgreSQL, TRUNCATE. The one deliberate way to
wipe it is ``manage.py flush`` (and the test runner's flush between
transactional tests), which empties every table at once. This module marks
that flush so the triggers let it through:

- SQLite: the DELETE trigger asks ``moderation_log_flushing()``, a function
  Django registers on each of its connections; it answers true only while
  Django's flush runs. Outside Django the function does not exist, so a DELETE
  fails there too.
- PostgreSQL: the statement-level BEFORE TRUNCATE trigger lets a TRUNCATE
  through only when the transaction-local setting ``dugnad.log_flush`` is
  "on". Django's flush sets it for its own transaction and clears it again;
  any other TRUNCATE of the log (or a TRUNCATE … CASCADE that reaches it) is
  refused.

This guards against mistakes and code paths, not against a database superuser,
who can drop triggers.
"""

from __future__ import annotations

import threading

from django.db.backends.signals import connection_created

FLUSH_SETTING = "dugnad.log_flush"
_state = threading.local()


def flushing() -> bool:
    return getattr(_state, "flushing", False)


def _register(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "moderation_log_flushing", 0, lambda: 1 if flushing() else 0, deterministic=False
        )


def _guard_sqlite() -> None:
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


def _guard_postgresql() -> None:
    try:
        from django.db.backends.postgresql.base import DatabaseOperations
    except ImportError:  # no psycopg: PostgreSQL is not in use
        return
    if getattr(DatabaseOperations.execute_sql_flush, "_moderation_guarded", False):
        return
    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        # Django runs these in one transaction; the setting is local to it
        # and cleared before it ends.
        return original(
            self,
            [
                f"SELECT set_config('{FLUSH_SETTING}', 'on', true);",
                *sql_list,
                f"SELECT set_config('{FLUSH_SETTING}', '', true);",
            ],
        )

    execute_sql_flush._moderation_guarded = True
    DatabaseOperations.execute_sql_flush = execute_sql_flush


def install() -> None:
    connection_created.connect(_register, dispatch_uid="moderation_log_flushing")
    _guard_sqlite()
    _guard_postgresql()
