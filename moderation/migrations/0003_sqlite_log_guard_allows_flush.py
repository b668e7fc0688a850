"""SQLite: let a whole-database flush through the log's DELETE trigger (see core/backends/__init__.py).

Single-row deletes stay refused; on PostgreSQL nothing changes.
"""

from django.db import migrations

TABLE = "moderation_moderationlog"

UP = [
    "DROP TRIGGER IF EXISTS moderation_log_no_delete;",
    f"""
    CREATE TRIGGER moderation_log_no_delete BEFORE DELETE ON {TABLE}
    WHEN NOT moderation_log_flushing()
    BEGIN SELECT RAISE(ABORT, 'The moderation log is append-only: DELETE refused'); END;
    """,
]
DOWN = [
    "DROP TRIGGER IF EXISTS moderation_log_no_delete;",
    f"""
    CREATE TRIGGER moderation_log_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'The moderation log is append-only: DELETE refused'); END;
    """,
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("moderation", "0002_moderation_log_append_only")]

    operations = [migrations.RunPython(_run(UP), _run(DOWN))]
