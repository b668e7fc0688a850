"""The participation summaries' triggers on SQLite: row-level (installed and
checked by reports/summaries.py)."""

# Every statement here is constant SQL text built from table and column names
# and the counted rule; the only values (a study id) are bound parameters.
# ruff: noqa: S608

from __future__ import annotations

from reports.sql import ITEM_TABLES, STATISTICS_TIME_ZONE, counted_sql
from reports.summary_keys import (
    DAY,
    GROUP,
    KEY,
    KEY_COLUMNS,
    MULTI,
    PERSON,
    SUMMARY,
    TRIGGER_PREFIX,
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


def sqlite_triggers(table: str, c: int, m: int, conn) -> list[tuple[str, str]]:
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
