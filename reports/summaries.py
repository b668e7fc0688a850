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

from reports.sql import (
    DAY_TABLE,
    ITEM_TABLES,
    KEY_TABLE,
    MULTI_TABLE,
    PERSON_TABLE,
    STATISTICS_TIME_ZONE,
    SUMMARY_TABLE,
    counted_sql,
    iso_utc,
    items_sql,
    local_date_sql,
)

# The tables' names (from the models, reports/sql.py), short for the SQL below.
SUMMARY, DAY, PERSON = SUMMARY_TABLE, DAY_TABLE, PERSON_TABLE
KEY, MULTI = KEY_TABLE, MULTI_TABLE
KEY_GROUP = ("study_id", "acted_for_id", "acted_for_sector")
GROUP = ("study_id", "author_id", "acted_for_id", "acted_for_sector")
TRIGGER_PREFIX = "reports_summary_"
# The migration that installed these triggers; its schema is the one they need.
SCHEMA_MIGRATION = "0006_participation_multi_groups"
# What decides whether and where an item counts; a change of anything else
# (text, revision, moderation note, …) leaves the summaries alone.
KEY_COLUMNS = ("study_id", "author_id", "acted_for_id", "acted_for_sector", "created_at")


def _same_group(left: str, right: str) -> str:
    """SQL: two rows (aliases) are in the same summary group (no organisation is group 0)."""
    return (
        f"{left}.study_id = {right}.study_id AND {left}.author_id = {right}.author_id "
        f"AND COALESCE({left}.acted_for_id, 0) = COALESCE({right}.acted_for_id, 0) "
        f"AND {left}.acted_for_sector = {right}.acted_for_sector"
    )


# --- PostgreSQL ----------------------------------------------------------------

PG_OSLO_DAY = f"(({{}}.created_at AT TIME ZONE '{STATISTICS_TIME_ZONE}')::date)"
PG_CHANGED = (
    f"(({counted_sql('o.')}) IS DISTINCT FROM ({counted_sql('n.')}) OR "
    f"({', '.join('o.' + c for c in KEY_COLUMNS)}) IS DISTINCT FROM "
    f"({', '.join('n.' + c for c in KEY_COLUMNS)}))"
)
PG_COLUMNS = "study_id, author_id, acted_for_id, acted_for_sector, created_at"


def _pg_sets(operation: str) -> tuple[str | None, str | None]:
    """(items that stopped counting in a group, items that started) for one operation."""
    old = ", ".join(f"o.{c}" for c in PG_COLUMNS.split(", "))
    new = ", ".join(f"n.{c}" for c in PG_COLUMNS.split(", "))
    if operation == "INSERT":
        return None, f"SELECT {new} FROM new_rows n WHERE {counted_sql('n.')}"
    if operation == "DELETE":
        return f"SELECT {old} FROM old_rows o WHERE {counted_sql('o.')}", None
    pairs = "FROM old_rows o JOIN new_rows n ON n.id = o.id"
    return (
        f"SELECT {old} {pairs} WHERE {counted_sql('o.')} AND {PG_CHANGED}",
        f"SELECT {new} {pairs} WHERE {counted_sql('n.')} AND {PG_CHANGED}",
    )


def _pg_recompute_group() -> str:
    """A lateral subquery: the exact figures of group g from both item tables."""
    parts = []
    for table, is_contribution, is_comment in ITEM_TABLES:
        parts.append(
            f"SELECT {is_contribution} AS ic, {is_comment} AS im, i.created_at FROM {table} i "
            f"WHERE i.study_id = g.study_id AND i.author_id = g.author_id "
            f"AND i.acted_for_id IS NOT DISTINCT FROM g.acted_for_id "
            f"AND i.acted_for_sector = g.acted_for_sector AND {counted_sql('i.')}"
        )
    return (
        "SELECT COALESCE(SUM(ic), 0) AS c, COALESCE(SUM(im), 0) AS m, "
        "MIN(created_at) AS first_at, MAX(created_at) AS last_at "
        f"FROM ({' UNION ALL '.join(parts)}) AS u"
    )


def _pg_function(operation: str) -> str:
    removed, added = _pg_sets(operation)
    group = ", ".join(GROUP)
    day = PG_OSLO_DAY.format("r")
    steps = []
    if operation == "UPDATE":
        steps.append(
            f"IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id "
            f"WHERE {PG_CHANGED}) THEN RETURN NULL; END IF;"
        )
    if removed:
        # Lock the groups (and days) first: the recomputation below runs as a
        # later statement, so it sees every item committed before the lock.
        steps.append(
            f"UPDATE {SUMMARY} s SET contributions = s.contributions - d.n * c, "
            f"comments = s.comments - d.n * m "
            f"FROM (SELECT {group}, COUNT(*) AS n FROM ({removed}) r GROUP BY {group}) d "
            f"WHERE {_same_group('s', 'd')};"
        )
        steps.append(
            f"UPDATE {DAY} s SET contributions = s.contributions - d.n * c, "
            f"comments = s.comments - d.n * m "
            f"FROM (SELECT study_id, {day} AS day, COUNT(*) AS n FROM ({removed}) r "
            f"GROUP BY 1, 2) d WHERE s.study_id = d.study_id AND s.day = d.day;"
        )
    if added:
        # Sorted, so that concurrent statements take the rows' locks in one order.
        steps.append(
            f"INSERT INTO {SUMMARY} AS s ({group}, contributions, comments, first_at, last_at) "
            f"SELECT {group}, COUNT(*) * c, COUNT(*) * m, MIN(created_at), MAX(created_at) "
            f"FROM ({added}) r GROUP BY {group} ORDER BY {group} "
            f"ON CONFLICT (study_id, author_id, (COALESCE(acted_for_id, 0)), acted_for_sector) "
            f"DO UPDATE SET contributions = s.contributions + EXCLUDED.contributions, "
            f"comments = s.comments + EXCLUDED.comments, "
            f"first_at = LEAST(s.first_at, EXCLUDED.first_at), "
            f"last_at = GREATEST(s.last_at, EXCLUDED.last_at);"
        )
        steps.append(
            f"INSERT INTO {DAY} AS s (study_id, day, contributions, comments, new_participants) "
            f"SELECT study_id, {day}, COUNT(*) * c, COUNT(*) * m, 0 FROM ({added}) r "
            f"GROUP BY 1, 2 ORDER BY 1, 2 "
            f"ON CONFLICT (study_id, day) DO UPDATE SET "
            f"contributions = s.contributions + EXCLUDED.contributions, "
            f"comments = s.comments + EXCLUDED.comments;"
        )
    if removed:
        groups = f"(SELECT DISTINCT {group} FROM ({removed}) r)"
        steps.append(
            f"UPDATE {SUMMARY} s SET contributions = f.c, comments = f.m, "
            f"first_at = COALESCE(f.first_at, s.first_at), "
            f"last_at = COALESCE(f.last_at, s.last_at) "
            f"FROM (SELECT g.*, x.* FROM {groups} g "
            f"CROSS JOIN LATERAL ({_pg_recompute_group()}) x) f "
            f"WHERE {_same_group('s', 'f')};"
        )
        steps.append(
            f"DELETE FROM {SUMMARY} s USING {groups} g WHERE {_same_group('s', 'g')} "
            f"AND s.contributions <= 0 AND s.comments <= 0;"
        )
    # The (organisation, sector) keys concerned, the same way. Two lookups so
    # that both use the summary's index on (study, acted_for, acted_for_sector).
    key_sets = [
        f"SELECT study_id, acted_for_id, acted_for_sector FROM ({x}) r"
        for x in (removed, added)
        if x
    ]
    keys = f"(SELECT DISTINCT {', '.join(KEY_GROUP)} FROM ({' UNION ALL '.join(key_sets)}) k)"
    same_key = (
        "s.study_id = x.study_id AND COALESCE(s.acted_for_id, 0) = COALESCE(x.acted_for_id, 0) "
        "AND s.acted_for_sector = x.acted_for_sector"
    )
    steps.append(
        f"INSERT INTO {KEY} AS s ({', '.join(KEY_GROUP)}, participants, contributions, "
        f"comments) SELECT {', '.join(KEY_GROUP)}, 0, 0, 0 FROM {keys} a ORDER BY 1, 2, 3 "
        f"ON CONFLICT (study_id, (COALESCE(acted_for_id, 0)), acted_for_sector) "
        f"DO UPDATE SET participants = s.participants;"
    )
    summed = (
        "SELECT g.contributions, g.comments FROM {summary} g WHERE g.study_id = a.study_id "
        "AND g.acted_for_sector = a.acted_for_sector AND {match}"
    )
    lookups = " UNION ALL ".join(
        summed.format(summary=SUMMARY, match=match)
        for match in (
            "g.acted_for_id = a.acted_for_id",
            "a.acted_for_id IS NULL AND g.acted_for_id IS NULL",
        )
    )
    steps.append(
        f"UPDATE {KEY} s SET participants = x.n, contributions = x.c, comments = x.m "
        f"FROM (SELECT a.*, y.* FROM {keys} a CROSS JOIN LATERAL ("
        f"SELECT COUNT(*) AS n, COALESCE(SUM(contributions), 0) AS c, "
        f"COALESCE(SUM(comments), 0) AS m FROM ({lookups}) AS z) y) x "
        f"WHERE {same_key};"
    )
    steps.append(f"DELETE FROM {KEY} s USING {keys} x WHERE {same_key} AND s.participants <= 0;")
    # The people concerned: lock their rows (creating them), then recompute
    # from the summary in a later statement, like the groups above.
    sets = [f"SELECT study_id, author_id FROM ({x}) r" for x in (removed, added) if x]
    people = f"(SELECT DISTINCT study_id, author_id FROM ({' UNION ALL '.join(sets)}) p)"
    steps.append(
        f"INSERT INTO {PERSON} AS s (study_id, author_id, groups) "
        f"SELECT study_id, author_id, 0 FROM {people} a ORDER BY 1, 2 "
        f"ON CONFLICT (study_id, author_id) DO UPDATE SET groups = s.groups;"
    )
    first_day = PG_OSLO_DAY.format("x").replace("created_at", "first_at")
    # A person whose first day changes moves from one day's new participants
    # to another's (o: the row as it was; the lock above makes it current).
    steps.append(
        f"WITH x AS (SELECT a.study_id, a.author_id, COUNT(g.id) AS n, "
        f"MIN(g.first_at) AS first_at FROM {people} a LEFT JOIN {SUMMARY} g "
        f"ON g.study_id = a.study_id AND g.author_id = a.author_id "
        f"GROUP BY a.study_id, a.author_id), "
        f"u AS (UPDATE {PERSON} s SET groups = x.n, first_at = x.first_at, "
        f"first_day = {first_day} FROM x, {PERSON} o "
        f"WHERE s.study_id = x.study_id AND s.author_id = x.author_id AND o.id = s.id "
        f"RETURNING s.study_id, o.first_day AS old_day, s.first_day AS new_day), "
        f"d AS (SELECT study_id, day, SUM(delta) AS delta FROM ("
        f"SELECT study_id, old_day AS day, -1 AS delta FROM u WHERE old_day IS NOT NULL "
        f"UNION ALL SELECT study_id, new_day, 1 FROM u WHERE new_day IS NOT NULL) z "
        f"GROUP BY study_id, day HAVING SUM(delta) <> 0) "
        f"INSERT INTO {DAY} AS s (study_id, day, contributions, comments, new_participants) "
        f"SELECT study_id, day, 0, 0, delta FROM d ORDER BY 1, 2 "
        f"ON CONFLICT (study_id, day) DO UPDATE SET "
        f"new_participants = s.new_participants + EXCLUDED.new_participants;"
    )
    # The keys of people with several rows, rewritten under the person's lock.
    steps.append(
        f"DELETE FROM {MULTI} s USING {people} a "
        f"WHERE s.study_id = a.study_id AND s.author_id = a.author_id;"
    )
    steps.append(
        f"INSERT INTO {MULTI} (study_id, author_id, acted_for_id, acted_for_sector) "
        f"SELECT g.study_id, g.author_id, g.acted_for_id, g.acted_for_sector "
        f"FROM {people} a JOIN {PERSON} p ON p.study_id = a.study_id "
        f"AND p.author_id = a.author_id AND p.groups > 1 "
        f"JOIN {SUMMARY} g ON g.study_id = a.study_id AND g.author_id = a.author_id;"
    )
    steps.append(
        f"DELETE FROM {PERSON} s USING {people} a WHERE s.study_id = a.study_id "
        f"AND s.author_id = a.author_id AND s.groups <= 0;"
    )
    if removed:
        steps.append(
            f"DELETE FROM {DAY} s USING (SELECT DISTINCT study_id, {day} AS day "
            f"FROM ({removed}) r) d WHERE s.study_id = d.study_id AND s.day = d.day "
            f"AND s.contributions <= 0 AND s.comments <= 0 AND s.new_participants <= 0;"
        )
    body = "\n    ".join(steps)
    return f"""
CREATE OR REPLACE FUNCTION {TRIGGER_PREFIX}{operation.lower()}() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE
    c integer := TG_ARGV[0]::integer;  -- 1 on contributions, 0 on comments
    m integer := 1 - TG_ARGV[0]::integer;
BEGIN
    {body}
    RETURN NULL;
END
$body$;
"""


def _pg_trigger(table: str, operation: str, is_contribution: int) -> tuple[str, str]:
    name = f"{TRIGGER_PREFIX}{operation.lower()}_{table}"
    referencing = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }[operation]
    return name, (
        f"CREATE TRIGGER {name} AFTER {operation} ON {table} REFERENCING {referencing} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER_PREFIX}{operation.lower()}"
        f"('{is_contribution}')"
    )


# --- SQLite ----------------------------------------------------------------------


def _sqlite_day(row: str, conn) -> str:
    sql, params = conn.ops.datetime_cast_date_sql(f"{row}.created_at", (), STATISTICS_TIME_ZONE)
    # The parameters are the two time-zone names, constants of this module and
    # of the settings: inlined as SQL string literals (a trigger takes none).
    return sql % tuple("'" + str(p).replace("'", "''") + "'" for p in params)


def _sqlite_group(row: str) -> str:
    return (
        f"study_id = {row}.study_id AND author_id = {row}.author_id "
        f"AND acted_for_id IS {row}.acted_for_id AND acted_for_sector = {row}.acted_for_sector"
    )


def _sqlite_recompute(where: str) -> str:
    """Set the counts and times of the summary rows matching ``where`` from the items."""
    s = SUMMARY
    match = (
        f"i.study_id = {s}.study_id AND i.author_id = {s}.author_id "
        f"AND i.acted_for_id IS {s}.acted_for_id AND i.acted_for_sector = {s}.acted_for_sector "
        f"AND {counted_sql('i.')}"
    )
    (contributions, _c, _m), (comments, _c2, _m2) = ITEM_TABLES
    times = (
        f"SELECT i.created_at AS t FROM {contributions} i WHERE {match} "
        f"UNION ALL SELECT i.created_at FROM {comments} i WHERE {match}"
    )
    return (
        f"UPDATE {s} SET "
        f"contributions = (SELECT COUNT(*) FROM {contributions} i WHERE {match}), "
        f"comments = (SELECT COUNT(*) FROM {comments} i WHERE {match}), "
        f"first_at = COALESCE((SELECT MIN(t) FROM ({times})), first_at), "
        f"last_at = COALESCE((SELECT MAX(t) FROM ({times})), last_at) "
        f"WHERE {where}; "
        f"DELETE FROM {s} WHERE ({where}) AND contributions <= 0 AND comments <= 0;"
    )


def _sqlite_people(where: str, ensure: str, conn) -> str:
    """Recompute the participants matching ``where`` from the summary (creating ``ensure``)."""
    p = PERSON
    match = f"g.study_id = {p}.study_id AND g.author_id = {p}.author_id"
    first_day, params = conn.ops.datetime_cast_date_sql(f"{p}.first_at", (), STATISTICS_TIME_ZONE)
    first_day = first_day % tuple("'" + str(x).replace("'", "''") + "'" for x in params)
    create = (
        f"INSERT INTO {p} (study_id, author_id, groups) "
        f"SELECT {ensure}.study_id, {ensure}.author_id, 0 WHERE {counted_sql(ensure + '.')} "
        f"AND NOT EXISTS (SELECT 1 FROM {p} WHERE study_id = {ensure}.study_id "
        f"AND author_id = {ensure}.author_id); "
        if ensure
        else ""
    )
    return (
        f"{create}"
        f"UPDATE {p} SET groups = (SELECT COUNT(*) FROM {SUMMARY} g WHERE {match}), "
        f"first_at = (SELECT MIN(g.first_at) FROM {SUMMARY} g WHERE {match}) WHERE {where}; "
        f"UPDATE {p} SET first_day = {first_day} WHERE {where}; "
        f"DELETE FROM {MULTI} WHERE {where}; "
        f"INSERT INTO {MULTI} (study_id, author_id, acted_for_id, acted_for_sector) "
        f"SELECT study_id, author_id, acted_for_id, acted_for_sector FROM {SUMMARY} "
        f"WHERE ({where}) AND (SELECT groups FROM {p} WHERE {p}.study_id = "
        f"{SUMMARY}.study_id AND {p}.author_id = {SUMMARY}.author_id) > 1; "
        f"DELETE FROM {p} WHERE ({where}) AND groups <= 0;"
    )


def _sqlite_keys(where: str, ensure: str) -> str:
    """Recompute the organisation keys matching ``where`` from the summary."""
    k = KEY
    match = (
        f"g.study_id = {k}.study_id AND g.acted_for_id IS {k}.acted_for_id "
        f"AND g.acted_for_sector = {k}.acted_for_sector"
    )
    create = (
        f"INSERT INTO {k} (study_id, acted_for_id, acted_for_sector, participants, "
        f"contributions, comments) "
        f"SELECT {ensure}.study_id, {ensure}.acted_for_id, {ensure}.acted_for_sector, 0, 0, 0 "
        f"WHERE {counted_sql(ensure + '.')} AND NOT EXISTS (SELECT 1 FROM {k} "
        f"WHERE study_id = {ensure}.study_id AND acted_for_id IS {ensure}.acted_for_id "
        f"AND acted_for_sector = {ensure}.acted_for_sector); "
        if ensure
        else ""
    )
    return (
        f"{create}"
        f"UPDATE {k} SET participants = (SELECT COUNT(*) FROM {SUMMARY} g WHERE {match}), "
        f"contributions = (SELECT COALESCE(SUM(g.contributions), 0) FROM {SUMMARY} g "
        f"WHERE {match}), "
        f"comments = (SELECT COALESCE(SUM(g.comments), 0) FROM {SUMMARY} g WHERE {match}) "
        f"WHERE {where}; "
        f"DELETE FROM {k} WHERE ({where}) AND participants <= 0;"
    )


def _sqlite_key_of(row: str) -> str:
    return (
        f"({counted_sql(row + '.')} AND study_id = {row}.study_id "
        f"AND acted_for_id IS {row}.acted_for_id AND acted_for_sector = {row}.acted_for_sector)"
    )


def _sqlite_person_of(row: str) -> str:
    return (
        f"({counted_sql(row + '.')} AND study_id = {row}.study_id AND author_id = {row}.author_id)"
    )


def _sqlite_triggers(table: str, c: int, m: int, conn) -> list[tuple[str, str]]:
    counted_new, counted_old = counted_sql("NEW."), counted_sql("OLD.")
    new_day, old_day = _sqlite_day("NEW", conn), _sqlite_day("OLD", conn)
    group_columns = ", ".join(GROUP)
    ensure_group = (
        f"INSERT INTO {SUMMARY} ({group_columns}, contributions, comments, first_at, last_at) "
        f"SELECT NEW.study_id, NEW.author_id, NEW.acted_for_id, NEW.acted_for_sector, 0, 0, "
        f"NEW.created_at, NEW.created_at "
        f"WHERE {counted_new} AND NOT EXISTS "
        f"(SELECT 1 FROM {SUMMARY} WHERE {_sqlite_group('NEW')});"
    )
    add_day = (
        f"INSERT INTO {DAY} (study_id, day, contributions, comments, new_participants) "
        f"SELECT NEW.study_id, {new_day}, 0, 0, 0 WHERE {counted_new} AND NOT EXISTS "
        f"(SELECT 1 FROM {DAY} WHERE study_id = NEW.study_id AND day = {new_day}); "
        f"UPDATE {DAY} SET contributions = contributions + {c}, comments = comments + {m} "
        f"WHERE {counted_new} AND study_id = NEW.study_id AND day = {new_day};"
    )
    remove_day = (
        f"UPDATE {DAY} SET contributions = contributions - {c}, comments = comments - {m} "
        f"WHERE {counted_old} AND study_id = OLD.study_id AND day = {old_day}; "
        f"DELETE FROM {DAY} WHERE study_id = OLD.study_id AND day = {old_day} "
        f"AND contributions <= 0 AND comments <= 0;"
    )

    def new_people(*rows: str) -> str:
        studies = ", ".join(f"{row}.study_id" for row in rows)
        return (
            f"UPDATE {DAY} SET new_participants = (SELECT COUNT(*) FROM {PERSON} p "
            f"WHERE p.study_id = {DAY}.study_id AND p.first_day = {DAY}.day) "
            f"WHERE study_id IN ({studies});"
        )

    changed = " OR ".join(
        [f"({counted_old}) IS NOT ({counted_new})"]
        + [f"OLD.{column} IS NOT NEW.{column}" for column in KEY_COLUMNS]
    )
    prefix = f"{TRIGGER_PREFIX}"
    return [
        (
            f"{prefix}insert_{table}",
            f"CREATE TRIGGER {prefix}insert_{table} AFTER INSERT ON {table} "
            f"WHEN {counted_new} BEGIN "
            f"{ensure_group} "
            f"UPDATE {SUMMARY} SET contributions = contributions + {c}, "
            f"comments = comments + {m}, first_at = min(first_at, NEW.created_at), "
            f"last_at = max(last_at, NEW.created_at) WHERE {_sqlite_group('NEW')}; "
            f"{add_day} "
            f"{_sqlite_keys(_sqlite_key_of('NEW'), 'NEW')} "
            f"{_sqlite_people(_sqlite_person_of('NEW'), 'NEW', conn)} "
            f"{new_people('NEW')} END",
        ),
        (
            f"{prefix}update_{table}",
            f"CREATE TRIGGER {prefix}update_{table} AFTER UPDATE ON {table} "
            f"WHEN ({counted_old} OR {counted_new}) AND ({changed}) BEGIN "
            f"{ensure_group} "
            + _sqlite_recompute(
                f"({counted_old} AND {_sqlite_group('OLD')}) "
                f"OR ({counted_new} AND {_sqlite_group('NEW')})"
            )
            + f" {remove_day} {add_day} "
            + _sqlite_keys(f"{_sqlite_key_of('OLD')} OR {_sqlite_key_of('NEW')}", "NEW")
            + " "
            + _sqlite_people(
                f"{_sqlite_person_of('OLD')} OR {_sqlite_person_of('NEW')}", "NEW", conn
            )
            + f" {new_people('OLD', 'NEW')} END",
        ),
        (
            f"{prefix}delete_{table}",
            f"CREATE TRIGGER {prefix}delete_{table} AFTER DELETE ON {table} "
            f"WHEN {counted_old} BEGIN "
            + _sqlite_recompute(_sqlite_group("OLD"))
            + f" {remove_day} "
            + _sqlite_keys(_sqlite_key_of("OLD"), "")
            + " "
            + _sqlite_people(_sqlite_person_of("OLD"), "", conn)
            + f" {new_people('OLD')} END",
        ),
    ]


# --- installing --------------------------------------------------------------------


def trigger_definitions(conn=None) -> tuple[list[str], list[tuple[str, str]]]:
    """(functions to create, [(trigger name, CREATE TRIGGER)]) for the connection's vendor."""
    conn = conn or default_connection
    if conn.vendor == "postgresql":
        functions = [_pg_function(op) for op in ("INSERT", "UPDATE", "DELETE")]
        triggers = [
            _pg_trigger(table, op, c)
            for table, c, _m in ITEM_TABLES
            for op in ("INSERT", "UPDATE", "DELETE")
        ]
        return functions, triggers
    if conn.vendor == "sqlite":
        triggers = []
        for table, c, m in ITEM_TABLES:
            triggers += _sqlite_triggers(table, c, m, conn)
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
