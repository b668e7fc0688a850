"""PostgreSQL: refuse TRUNCATE of the moderation log, except Django's own flush.

Row triggers (migration 0002) do not see TRUNCATE; this statement-level BEFORE
TRUNCATE trigger does, also when a TRUNCATE … CASCADE elsewhere reaches the
log. It lets the statement through only while the transaction-local setting
``dugnad.log_flush`` is "on", which core/backends (Dugnad's database backends) set around Django's
flush (``manage.py flush`` and the test runner). SQLite has no TRUNCATE: its
DELETE trigger (0003) covers it.
"""

from django.db import migrations

TABLE = "moderation_moderationlog"

UP = [
    """
    CREATE OR REPLACE FUNCTION moderation_log_refuse_truncate() RETURNS trigger AS $$
    BEGIN
        IF coalesce(current_setting('dugnad.log_flush', true), '') = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION USING
            MESSAGE = 'The moderation log is append-only: TRUNCATE refused',
            ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER moderation_log_no_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION moderation_log_refuse_truncate();
    """,
]
DOWN = [
    f"DROP TRIGGER IF EXISTS moderation_log_no_truncate ON {TABLE};",
    "DROP FUNCTION IF EXISTS moderation_log_refuse_truncate();",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("moderation", "0003_sqlite_log_guard_allows_flush")]

    operations = [migrations.RunPython(_run(UP), _run(DOWN))]
