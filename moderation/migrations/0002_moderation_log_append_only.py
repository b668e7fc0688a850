"""The database refuses to change or delete moderation log entries.

PostgreSQL: a row trigger raising on UPDATE and DELETE. SQLite: two triggers
that RAISE(ABORT). TRUNCATE is left alone on purpose: the test runner empties
tables with it between transactional tests.
"""

from django.db import migrations

TABLE = "moderation_moderationlog"

POSTGRES_UP = [
    """
    CREATE OR REPLACE FUNCTION moderation_log_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'The moderation log is append-only: ' || TG_OP || ' refused',
            ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER moderation_log_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION moderation_log_refuse_change();
    """,
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS moderation_log_append_only ON {TABLE};",
    "DROP FUNCTION IF EXISTS moderation_log_refuse_change();",
]
SQLITE_UP = [
    f"""
    CREATE TRIGGER moderation_log_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'The moderation log is append-only: UPDATE refused'); END;
    """,
    f"""
    CREATE TRIGGER moderation_log_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'The moderation log is append-only: DELETE refused'); END;
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS moderation_log_no_update;",
    "DROP TRIGGER IF EXISTS moderation_log_no_delete;",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(
                f"No append-only guard for {schema_editor.connection.vendor}; add one here."
            )
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
