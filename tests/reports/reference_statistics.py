"""The statistics as they were computed before the summaries: straight from the items.

These are the item-table queries of reports/statistics.py before issue 6
(one statement over counted contributions UNION ALL counted comments), kept
word for word as the reference the summary-based figures must equal after
every kind of change. Only the tests use them.
"""

from __future__ import annotations

from django.db import connection

from reports.sql import items_sql, local_date_sql
from reports.statistics import (
    DEFINITIONS_VERSION,
    ParticipantRow,
    StudyStatistics,
    Totals,
    _assemble,
    participant_rows,
)


def _statistics_sql(*, study_id: int | None) -> tuple[str, list]:
    """Every figure in one statement: rows of (kind, key, n1..n5, t1..t3).

    The kinds: total, members, sector, org (with the organisation's name,
    number and sector), first (new participants per day), day (counted items
    per day) and, for the platform, status (studies per status).
    """
    if study_id is None:
        where, params = "1 = 1", []
    else:
        where, params = "study_id = %s", [study_id]
    grouped, grouped_params = items_sql(
        where,
        params,
        "author_id, acted_for_id, acted_for_sector, {c} AS c, {m} AS m, created_at",
    )
    first_day, first_params = local_date_sql("f.first_at")
    item_day, day_params = local_date_sql("created_at")
    per_day, per_day_params = items_sql(
        where, params, f"{item_day} AS day, {{c}} AS c, {{m}} AS m", day_params
    )
    studies = (
        ""
        if study_id is not None
        else """
        UNION ALL
        SELECT 'status', status, COUNT(*), 0, 0, 0, 0, NULL, NULL, NULL
        FROM studies_study GROUP BY status"""
    )
    # raw: counted items grouped once per (person, organisation acted for, sector).
    # g: the same, resolved to the canonical organisation. One level is enough:
    # reports.registry keeps merged_into pointing at an organisation that is not
    # itself merged. The sector is the snapshot's; the organisation's own sector
    # only fills in a snapshot that lacks one. No organisation: sector "".
    # Constant SQL text only (table names, the counted rule, vendor date
    # expressions); every value is a bound parameter.
    sql = f"""
        WITH raw AS (
            SELECT author_id, acted_for_id, acted_for_sector,
                   SUM(c) AS contributions, SUM(m) AS comments,
                   MIN(created_at) AS first_at
            FROM ({grouped}) AS items
            GROUP BY author_id, acted_for_id, acted_for_sector
        ),
        g AS (
            SELECT r.author_id, COALESCE(o.merged_into_id, o.id) AS org_id,
                   CASE WHEN o.id IS NULL THEN ''
                        ELSE COALESCE(NULLIF(r.acted_for_sector, ''), o.sector) END AS sector,
                   r.contributions, r.comments, r.first_at
            FROM raw r LEFT JOIN accounts_organisation o ON o.id = r.acted_for_id
        )
        SELECT 'total' AS kind, NULL AS k, COUNT(DISTINCT author_id) AS n1,
               COUNT(DISTINCT org_id) AS n2,
               COUNT(DISTINCT CASE WHEN org_id IS NULL THEN author_id END) AS n3,
               SUM(contributions) AS n4, SUM(comments) AS n5,
               NULL AS t1, NULL AS t2, NULL AS t3
        FROM g
        UNION ALL
        SELECT 'members', NULL, COUNT(DISTINCT user_id), 0, 0, 0, 0, NULL, NULL, NULL
        FROM studies_membership WHERE {where}
        UNION ALL
        SELECT 'sector', sector, COUNT(DISTINCT org_id), COUNT(DISTINCT author_id), 0,
               SUM(contributions), SUM(comments), NULL, NULL, NULL
        FROM g GROUP BY sector
        UNION ALL
        SELECT 'org', CAST(x.org_id AS TEXT), 0, x.participants, 0, x.contributions,
               x.comments, oo.name, oo.org_number, oo.sector
        FROM (
            SELECT org_id, COUNT(DISTINCT author_id) AS participants,
                   SUM(contributions) AS contributions, SUM(comments) AS comments
            FROM g WHERE org_id IS NOT NULL GROUP BY org_id
        ) AS x JOIN accounts_organisation oo ON oo.id = x.org_id
        UNION ALL
        SELECT 'first', CAST(d AS TEXT), COUNT(*), 0, 0, 0, 0, NULL, NULL, NULL FROM (
            SELECT {first_day} AS d FROM (
                SELECT author_id, MIN(first_at) AS first_at FROM g GROUP BY author_id
            ) AS f
        ) AS firsts GROUP BY d
        UNION ALL
        SELECT 'day', CAST(day AS TEXT), 0, 0, 0, SUM(c), SUM(m), NULL, NULL, NULL
        FROM ({per_day}) AS days GROUP BY day{studies}
    """  # noqa: S608 (constant SQL text; values are parameters)
    return sql, grouped_params + params + list(first_params) + per_day_params


def _run(study_id: int | None) -> list[tuple]:
    sql, params = _statistics_sql(study_id=study_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def reference_statistics(study_id: int | None) -> StudyStatistics:
    """Every figure of a study (or the platform, None) from the items."""
    statistics = StudyStatistics(
        definitions_version=DEFINITIONS_VERSION,
        generated_at="",
        study_id=study_id,
        study_slug="",
        study_title="",
        small_count_threshold=0,
        totals=Totals(),
    )
    return _assemble(_run(study_id), statistics)


def reference_study_rows() -> dict[int, tuple[int, int, int, int]]:
    """Per study: participants, organisations, contributions, comments, from the items."""
    grouped, params = items_sql(
        "1 = 1", [], "study_id, author_id, acted_for_id, {c} AS c, {m} AS m"
    )
    sql = f"""
        SELECT i.study_id, COUNT(DISTINCT i.author_id),
               COUNT(DISTINCT COALESCE(o.merged_into_id, o.id)), SUM(i.c), SUM(i.m)
        FROM (
            SELECT study_id, author_id, acted_for_id, SUM(c) AS c, SUM(m) AS m
            FROM ({grouped}) AS items GROUP BY study_id, author_id, acted_for_id
        ) AS i LEFT JOIN accounts_organisation o ON o.id = i.acted_for_id
        GROUP BY i.study_id
    """  # noqa: S608 (constant SQL text; no values in it)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        figures = {row[0]: row[1:] for row in cursor.fetchall()}
    return {k: tuple(int(v or 0) for v in row) for k, row in figures.items()}


def reference_participant_rows(study_id: int) -> list[ParticipantRow]:
    """study_participant_rows from the items."""
    grouped, params = items_sql(
        "study_id = %s",
        [study_id],
        "author_id, acted_for_id, acted_for_sector, {c} AS c, {m} AS m, created_at",
    )
    sql = f"""
        SELECT r.author_id, COALESCE(o.merged_into_id, o.id) AS org_id,
               SUM(r.c), SUM(r.m), MIN(r.first_at), MAX(r.last_at)
        FROM (
            SELECT author_id, acted_for_id, SUM(c) AS c, SUM(m) AS m,
                   MIN(created_at) AS first_at, MAX(created_at) AS last_at
            FROM ({grouped}) AS items GROUP BY author_id, acted_for_id
        ) AS r LEFT JOIN accounts_organisation o ON o.id = r.acted_for_id
        GROUP BY r.author_id, COALESCE(o.merged_into_id, o.id)
        ORDER BY r.author_id, org_id
    """  # noqa: S608 (constant SQL text; the study is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Rows are assembled as the module does; only the SQL is the reference.
        return participant_rows(cursor.fetchall())
