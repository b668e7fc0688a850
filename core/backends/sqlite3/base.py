"""Django's SQLite backend, with the flush marked (core/backends/__init__.py)."""

from django.db.backends.sqlite3 import base

from core.backends import SQLITE_FUNCTION, flushing, marked_flush


class DatabaseOperations(base.DatabaseOperations):
    def execute_sql_flush(self, sql_list):
        with marked_flush():
            return super().execute_sql_flush(sql_list)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.create_function(
            SQLITE_FUNCTION, 0, lambda: 1 if flushing() else 0, deterministic=False
        )
        return connection
