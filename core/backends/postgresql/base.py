"""Django's PostgreSQL backend, with the flush marked (core/backends/__init__.py)."""

from django.db.backends.postgresql import base

from core.backends import FLUSH_SETTING


class DatabaseOperations(base.DatabaseOperations):
    def execute_sql_flush(self, sql_list):
        # Django runs these in one transaction; the setting is local to it and
        # cleared before it ends.
        return super().execute_sql_flush(
            [
                f"SELECT set_config('{FLUSH_SETTING}', 'on', true);",
                *sql_list,
                f"SELECT set_config('{FLUSH_SETTING}', '', true);",
            ]
        )


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
