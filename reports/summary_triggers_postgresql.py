"""The participation summaries' triggers on PostgreSQL: statement-level, with
transition tables and upserts (installed and checked by reports/summaries.py)."""

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
    KEY_GROUP,
    MULTI,
    PERSON,
    SUMMARY,
    TRIGGER_PREFIX,
    same_group,
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


def pg_function(operation: str) -> str:
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
            f"WHERE {same_group('s', 'd')};"
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
            f"WHERE {same_group('s', 'f')};"
        )
        steps.append(
            f"DELETE FROM {SUMMARY} s USING {groups} g WHERE {same_group('s', 'g')} "
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


def pg_trigger(table: str, operation: str, is_contribution: int) -> tuple[str, str]:
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
