"""The participation summaries: kept at write time by database triggers, rebuilt on demand.

``reports.statistics`` reads five small tables instead of every item:

- ``reports_participationsummary``: one row per (study, author, acted_for,
  acted_for_sector) with the counted contributions and comments and the
  first and last counted item's time — the items' own snapshot, so merges of
  organisations are resolved when reading and never rewrite a row;
- ``reports_participationorganisation``: the summary summed per (study,
  acted_for, acted_for_sector), with the number of its rows (people);
- ``reports_participationperson``: per (study, author) the number of summary
  rows and the first counted item's time and Europe/Oslo day;
- ``reports_participationmultigroup``: the summary keys of people with more
  than one summary row in a study (rewritten under the person's lock);
- ``reports_participationday``: counted contributions and comments per study
  and Europe/Oslo calendar day, and new participants (people whose first
  counted item is that day).

They are kept by triggers on ``contributions_contribution`` and
``contributions_comment``, so nothing that writes items can bypass them: the
services, the admin, a queryset ``.update()``, a cascade or raw SQL. Only
changes that matter fire work — whether the item counts (state,
moderation_reason), its author, organisation, sector snapshot, study or
creation time; edits of the text do nothing.

- PostgreSQL: statement-level triggers with transition tables (one set-based
  pass per statement, also for bulk inserts and updates). Additions are
  upserts (INSERT … ON CONFLICT DO UPDATE), so two people posting at once
  never lose a count. When items stop counting, the group's row is first
  locked (decremented), then recomputed from the item tables in a later
  statement — which sees every committed item — so first_at and last_at
  stay exact; rows whose counts reach zero are deleted. The organisation
  keys and people concerned are then locked (upserted) and recomputed from
  the summary the same way.
- SQLite (the embedded default, one writer at a time): row-level triggers;
  an insert adds to its group, an update or delete recomputes the groups
  concerned from the item tables; keys and people are recomputed from the
  summary. The Oslo day uses the function Django
  registers on its SQLite connections (django_datetime_cast_date), so items
  must be written through Django, as the application always does.

``rebuild`` recomputes the tables from the items (the data migration and
``manage.py rebuild_statistics`` use it); ``differences`` compares them with
the items without writing (``rebuild_statistics --check``).

Not covered: TRUNCATE of an item table, and SQLite tables re-made by a
migration (Django copies the rows into a new table, which drops triggers):
``ensure_triggers`` re-creates missing triggers after every ``migrate``
(post_migrate), and ``rebuild_statistics`` repairs the rows.
"""

# Every statement here is constant SQL text built from table and column names
# and the counted rule; the only values (a study id) are bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection as default_connection
from django.db import transaction

from reports import summary_triggers_postgresql, summary_triggers_sqlite
from reports.sql import (
    ITEM_TABLES,
    STATISTICS_TIME_ZONE,
    iso_utc,
    items_sql,
    local_date_sql,
)
from reports.summary_keys import (
    DAY,
    KEY,
    MULTI,
    PERSON,
    SCHEMA_MIGRATION,
    SUMMARY,
    TRIGGER_PREFIX,
)

# --- installing --------------------------------------------------------------------


def trigger_definitions(conn=None) -> tuple[list[str], list[tuple[str, str]]]:
    """(functions to create, [(trigger name, CREATE TRIGGER)]) for the connection's vendor."""
    conn = conn or default_connection
    if conn.vendor == "postgresql":
        functions = [
            summary_triggers_postgresql.pg_function(op) for op in ("INSERT", "UPDATE", "DELETE")
        ]
        triggers = [
            summary_triggers_postgresql.pg_trigger(table, op, c)
            for table, c, _m in ITEM_TABLES
            for op in ("INSERT", "UPDATE", "DELETE")
        ]
        return functions, triggers
    if conn.vendor == "sqlite":
        triggers = []
        for table, c, m in ITEM_TABLES:
            triggers += summary_triggers_sqlite.sqlite_triggers(table, c, m, conn)
        return [], triggers
    raise NotImplementedError(f"participation summaries need triggers for {conn.vendor}")


def installed_triggers(conn=None) -> set[str]:
    conn = conn or default_connection
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s",
                [TRIGGER_PREFIX + "%"],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [TRIGGER_PREFIX + "%"],
            )
        return {row[0] for row in cursor.fetchall()}


def install_triggers(conn=None, *, only_missing: bool = False) -> list[str]:
    """Create (or replace) the triggers; returns the names created."""
    conn = conn or default_connection
    functions, triggers = trigger_definitions(conn)
    present = installed_triggers(conn) if only_missing else set()
    created = []
    with conn.cursor() as cursor:
        if not only_missing or len(present) < len(triggers):
            for function in functions:
                cursor.execute(function)
        for name, sql in triggers:
            if name in present:
                continue
            table = sql.split(" ON ", 1)[1].split()[0]
            if conn.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(sql)
            created.append(name)
    return created


def remove_triggers(conn=None) -> None:
    conn = conn or default_connection
    _functions, triggers = trigger_definitions(conn)
    with conn.cursor() as cursor:
        for name, sql in triggers:
            table = sql.split(" ON ", 1)[1].split()[0]
            if conn.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if conn.vendor == "postgresql":
            for op in ("insert", "update", "delete"):
                cursor.execute(f"DROP FUNCTION IF EXISTS {TRIGGER_PREFIX}{op}()")


def ensure_triggers(sender=None, *, using: str = "default", **kwargs) -> None:
    """post_migrate: re-create missing triggers once the tables exist (see the docstring)."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor not in ("postgresql", "sqlite"):
        return
    from django.db.migrations.recorder import MigrationRecorder

    # The triggers are the current code's: only on the schema they were written for
    # (not after migrating reports backwards).
    if ("reports", SCHEMA_MIGRATION) not in MigrationRecorder(conn).applied_migrations():
        return
    install_triggers(conn, only_missing=True)


# --- rebuilding and checking ---------------------------------------------------------


def _expected_sql(study_id: int | None, conn) -> tuple[str, list, str, list]:
    """The summaries as the items define them: (groups SQL, params, days SQL, params)."""
    where, params = ("study_id = %s", [study_id]) if study_id is not None else ("1 = 1", [])
    items, item_params = items_sql(
        where,
        params,
        "study_id, author_id, acted_for_id, acted_for_sector, {c} AS c, {m} AS m, created_at",
    )
    groups = (
        f"SELECT study_id, author_id, acted_for_id, acted_for_sector, SUM(c), SUM(m), "
        f"MIN(created_at), MAX(created_at) FROM ({items}) AS items "
        f"GROUP BY study_id, author_id, acted_for_id, acted_for_sector"
    )
    day, day_params = local_date_sql("created_at", conn)
    day_items, day_item_params = items_sql(
        where, params, f"study_id, {day} AS day, {{c}} AS c, {{m}} AS m", day_params
    )
    days = (
        f"SELECT study_id, day, SUM(c), SUM(m), 0 FROM ({day_items}) AS items "
        f"GROUP BY study_id, day"
    )
    return groups, item_params, days, day_item_params


def rebuild(*, study_id: int | None = None, conn=None) -> tuple[int, int]:
    """Replace the summaries (of one study, or all) by what the items say; (groups, days)."""
    conn = conn or default_connection
    groups, group_params, days, day_params = _expected_sql(study_id, conn)
    where, params = ("WHERE study_id = %s", [study_id]) if study_id is not None else ("", [])
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            # Writers wait until the rebuild commits; readers do not.
            tables = ", ".join(t for t, _c, _m in ITEM_TABLES)
            cursor.execute(f"LOCK TABLE {tables} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {SUMMARY} {where}", params)  # noqa: S608
        cursor.execute(f"DELETE FROM {DAY} {where}", params)  # noqa: S608
        cursor.execute(
            f"INSERT INTO {SUMMARY} (study_id, author_id, acted_for_id, acted_for_sector, "
            f"contributions, comments, first_at, last_at) {groups}",
            group_params,
        )
        group_count = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {DAY} (study_id, day, contributions, comments, new_participants) {days}",
            day_params,
        )
        day_count = cursor.rowcount
        cursor.execute(f"DELETE FROM {PERSON} {where}", params)
        first_day, first_day_params = local_date_sql("MIN(first_at)", conn)
        cursor.execute(
            f"INSERT INTO {PERSON} (study_id, author_id, groups, first_at, first_day) "
            f"SELECT study_id, author_id, COUNT(*), MIN(first_at), {first_day} "
            f"FROM {SUMMARY} {where} GROUP BY study_id, author_id",
            [*first_day_params, *params],
        )
        cursor.execute(
            f"UPDATE {DAY} SET new_participants = (SELECT COUNT(*) FROM {PERSON} p "
            f"WHERE p.study_id = {DAY}.study_id AND p.first_day = {DAY}.day) {where}",
            params,
        )
        cursor.execute(f"DELETE FROM {MULTI} {where}", params)
        cursor.execute(
            f"INSERT INTO {MULTI} (study_id, author_id, acted_for_id, acted_for_sector) "
            f"SELECT s.study_id, s.author_id, s.acted_for_id, s.acted_for_sector "
            f"FROM {SUMMARY} s JOIN {PERSON} p ON p.study_id = s.study_id "
            f"AND p.author_id = s.author_id AND p.groups > 1 "
            f"{where.replace('study_id', 's.study_id')}",
            params,
        )
        cursor.execute(f"DELETE FROM {KEY} {where}", params)
        cursor.execute(
            f"INSERT INTO {KEY} (study_id, acted_for_id, acted_for_sector, participants, "
            f"contributions, comments) SELECT study_id, acted_for_id, acted_for_sector, "
            f"COUNT(*), SUM(contributions), SUM(comments) FROM {SUMMARY} {where} "
            f"GROUP BY study_id, acted_for_id, acted_for_sector",
            params,
        )
        return group_count, day_count


def _day(value) -> str:
    return str(value)[:10] if value is not None else ""


def _oslo_day(iso: str) -> str:
    """The Europe/Oslo calendar day of an ISO 8601 time."""
    return (
        dt.datetime.fromisoformat(iso).astimezone(ZoneInfo(STATISTICS_TIME_ZONE)).date().isoformat()
    )


def differences(*, study_id: int | None = None, conn=None, limit: int = 50) -> list[str]:
    """How the stored summaries differ from the items (empty when they agree); writes nothing.

    On PostgreSQL, outside a transaction, both are read in one REPEATABLE READ
    snapshot so that concurrent posts cannot show as differences.
    """
    conn = conn or default_connection
    groups, group_params, days, day_params = _expected_sql(study_id, conn)
    where, params = ("WHERE study_id = %s", [study_id]) if study_id is not None else ("", [])
    found: list[str] = []
    fresh = not conn.in_atomic_block
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if conn.vendor == "postgresql" and fresh:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(groups, group_params)
        expected = {
            tuple(row[:4]): (int(row[4]), int(row[5]), iso_utc(row[6]), iso_utc(row[7]))
            for row in cursor.fetchall()
        }
        cursor.execute(
            f"SELECT study_id, author_id, acted_for_id, acted_for_sector, contributions, "
            f"comments, first_at, last_at FROM {SUMMARY} {where}",
            params,
        )
        stored = {
            tuple(row[:4]): (int(row[4]), int(row[5]), iso_utc(row[6]), iso_utc(row[7]))
            for row in cursor.fetchall()
        }
        cursor.execute(days, day_params)
        expected_days = {(row[0], _day(row[1])): (int(row[2]), int(row[3])) for row in cursor}
        cursor.execute(
            f"SELECT study_id, day, contributions, comments, new_participants FROM {DAY} {where}",
            params,
        )
        stored_days = {
            (row[0], _day(row[1])): (int(row[2]), int(row[3]), int(row[4])) for row in cursor
        }
        cursor.execute(
            f"SELECT study_id, author_id, groups, first_at, first_day FROM {PERSON} {where}",
            params,
        )
        stored_people = {
            (row[0], row[1]): (int(row[2]), iso_utc(row[3]) if row[3] else "", _day(row[4]))
            for row in cursor
        }
        cursor.execute(
            f"SELECT study_id, acted_for_id, acted_for_sector, participants, contributions, "
            f"comments FROM {KEY} {where}",
            params,
        )
        stored_keys = {tuple(row[:3]): tuple(int(v) for v in row[3:]) for row in cursor}
        cursor.execute(
            f"SELECT study_id, author_id, acted_for_id, acted_for_sector FROM {MULTI} {where}",
            params,
        )
        stored_multi = sorted((tuple(row) for row in cursor), key=repr)
    expected_keys: dict[tuple, tuple] = {}
    for (study, _author, org, sector), (c, m, _first, _last) in expected.items():
        n, contributions, comments = expected_keys.get((study, org, sector), (0, 0, 0))
        expected_keys[(study, org, sector)] = (n + 1, contributions + c, comments + m)
    expected_people: dict[tuple, tuple] = {}
    for (study, author, _org, _sector), (_c, _m, first, _last) in expected.items():
        groups, earliest, _d = expected_people.get((study, author), (0, first, ""))
        earliest = min(earliest, first)
        expected_people[(study, author)] = (groups + 1, earliest, _oslo_day(earliest))
    labels = ("study", "author", "organisation", "sector")
    for key in sorted(set(expected) | set(stored), key=repr):
        if expected.get(key) != stored.get(key):
            name = " ".join(f"{label}={value!r}" for label, value in zip(labels, key, strict=True))
            found.append(
                f"participants {name}: stored {stored.get(key)}, items say {expected.get(key)}"
            )
    firsts: dict[tuple, int] = {}
    for (study, _author), (_groups, _first, first_day) in expected_people.items():
        firsts[(study, first_day)] = firsts.get((study, first_day), 0) + 1
    expected_days = {
        key: (contributions, comments, firsts.get(key, 0))
        for key, (contributions, comments) in expected_days.items()
    }
    for key in sorted(set(expected_days) | set(stored_days)):
        if expected_days.get(key) != stored_days.get(key):
            found.append(
                f"day study={key[0]} day={key[1]}: stored {stored_days.get(key)}, "
                f"items say {expected_days.get(key)}"
            )
    for key in sorted(set(expected_people) | set(stored_people)):
        if expected_people.get(key) != stored_people.get(key):
            found.append(
                f"participant study={key[0]} author={key[1]}: stored {stored_people.get(key)}, "
                f"items say {expected_people.get(key)}"
            )
    expected_multi = sorted(
        (key for key in expected if expected_people[(key[0], key[1])][0] > 1), key=repr
    )
    if stored_multi != expected_multi:
        extra = sorted(set(stored_multi) - set(expected_multi), key=repr)
        lacking = sorted(set(expected_multi) - set(stored_multi), key=repr)
        found.append(
            f"people with several groups: stored {len(stored_multi)} rows, items say "
            f"{len(expected_multi)}; not expected {extra[:5]}, missing {lacking[:5]}"
        )
    for key in sorted(set(expected_keys) | set(stored_keys), key=repr):
        if expected_keys.get(key) != stored_keys.get(key):
            found.append(
                f"organisation study={key[0]} organisation={key[1]!r} sector={key[2]!r}: "
                f"stored {stored_keys.get(key)}, items say {expected_keys.get(key)}"
            )
    missing = {name for name, _sql in trigger_definitions(conn)[1]} - installed_triggers(conn)
    found += [f"trigger missing: {name}" for name in sorted(missing)]
    return found[:limit] if limit else found
