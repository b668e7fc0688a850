"""Benchmark: participation statistics on PostgreSQL at the size of issue 6.

    .venv/bin/python bench/statistics_bench.py            # 1,000,000 items, then drop
    .venv/bin/python bench/statistics_bench.py --items 100000 --runs 3   # a quick look

Creates its own database (dugnad_bench_stats on 127.0.0.1, dropped at the end
unless --keep), migrates it, and generates with INSERT ... SELECT over
generate_series (never the ORM row by row):

- one study with ``--items`` counted items (a quarter contributions, the rest
  comments) by ``--participants`` people acting for ``--organisations``
  organisations (plus 5 % merged duplicates), every tenth person for two
  organisations, every fifth as an individual; 5 % extra items that do not
  count (pending, removed as spam);
- nine smaller studies with a tenth of that between them, for the platform.

The participation summaries (reports/summaries.py) are kept by the item
tables' triggers, which fire on these INSERT ... SELECT statements like on any
other write: the generation times include them. After the timings below, it
checks that the summaries equal a rebuild from the items (``rebuild_statistics
--check``) and times that check, one study's rebuild, and single writes that
pass through the triggers: a post, and hiding a person's first published
comment as spam (which recomputes that group from the items).

Then it times reports.statistics.study_statistics for the big study and
platform_statistics (median of ``--runs`` after one warm-up run) and prints
the plan of the study query: which indexes it reads, whether any item table
is read sequentially. Prints one JSON document at the end. Talks only to
127.0.0.1; stops by itself after ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics as stats
import sys
import time
from pathlib import Path

from bench import harness

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST_URL = "postgres://postgres@127.0.0.1:5432"
TARGETS_MS = {"study": 100, "platform": 2000}


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{HOST_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = f"{HOST_URL}/{database}"
    os.environ.pop("REDIS_URL", None)  # statistics need no Redis; stay off shared services
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def generate(*, items: int, participants: int, organisations: int) -> dict:
    """Fill the database; returns the id of the big study and the counts written."""
    from django.db import connection

    contributions = items // 4
    comments = items - contributions
    extra = max(items // 20, 1)  # uncounted: pending or removed as spam
    duplicates = max(organisations // 20, 1)
    small = max(items // 10 // 9, 1)  # items per other study
    sectors = "(ARRAY['public','private','academia','civil','other'])"
    steps = []

    def run(label: str, sql: str) -> None:
        """Execute without parameters (numbers are inlined), so % is SQL's modulo."""
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql)
        steps.append((label, round(time.perf_counter() - started, 2)))

    run(
        "organisations",
        f"""
        INSERT INTO accounts_organisation (name, sector, website, verified, created_at)
        SELECT 'Organisation ' || g, {sectors}[1 + g % 5], '', g % 3 = 0, now()
        FROM generate_series(1, {organisations + duplicates}) AS g
        """,
    )
    # The last ``duplicates`` organisations were merged into earlier ones.
    run(
        "merges",
        f"""
        WITH o AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM accounts_organisation)
        UPDATE accounts_organisation a SET merged_into_id = (
            SELECT id FROM o WHERE o.n = 1 + (d.n % {organisations})
        ) FROM o d WHERE a.id = d.id AND d.n > {organisations}
        """,
    )
    run(
        "people",
        f"""
        INSERT INTO accounts_user (password, is_superuser, is_staff, is_active, date_joined,
                                   email, display_name, digest_frequency, language)
        SELECT '!', false, false, true, now(), 'p' || g || '@bench.example', 'Person ' || g,
               'daily', ''
        FROM generate_series(1, {participants}) AS g
        """,
    )
    run(
        "studies",
        """
        INSERT INTO studies_study (slug, title, summary, body, status, visibility, joining,
            moderation_mode, flag_threshold, small_count_threshold, last_event_seq,
            created_at, updated_at, opens_at)
        SELECT 'bench-' || g, 'Bench study ' || g, '', '', 'open', 'public', 'open', 'post',
               3, 3, 0, now(), now(), now() - interval '120 days'
        FROM generate_series(1, 10) AS g
        """,
    )
    study_ids, first_user, first_org = harness.seeded_ids(connection)
    big = study_ids[0]
    run(
        "memberships",
        f"""
        INSERT INTO studies_membership (role, consent_named, status, blocked_reason, joined_at,
            updated_at, user_id, study_id, organisation_id)
        SELECT 'contributor', g % 2 = 0, 'active', '', now(), now(), {first_user} + g, {big}, NULL
        FROM generate_series(0, {participants} - 1) AS g
        """,
    )
    # Person p (0-based) is an individual when p % 5 = 0; the others are numbered
    # without gaps (n = p - p/5 - 1) and act for organisation n % (orgs +
    # duplicates), so every organisation gets people; every tenth item of a
    # person with p % 10 = 1 (every third round of items) goes to a second one.
    author = f"({first_user} + (g::bigint * 7919) % {participants})"
    person = f"((g::bigint * 7919) % {participants})"
    numbered = f"({person} - {person} / 5 - 1)"
    total_orgs = organisations + duplicates
    org = (
        f"(CASE WHEN {person} % 5 = 0 THEN NULL "
        f"WHEN {person} % 10 = 1 AND (g / {participants}) % 3 = 0 "
        f"THEN {first_org} + ({numbered} + 7) % {total_orgs} "
        f"ELSE {first_org} + {numbered} % {total_orgs} END)"
    )
    created = "(now() - interval '90 days' + (g % 129600) * interval '1 minute')"

    def item_rows(study: int, count: int, state: str, reason: str, start: int = 0) -> str:
        return f"""
            SELECT {study}, {author}, 'Bench text', '<p>Bench text</p>', {state},
                   {reason}, '', o.id, COALESCE(o.sector, ''), {created}, now(), 1, g
            FROM generate_series({start}, {start} + {count} - 1) AS g
            LEFT JOIN accounts_organisation o ON o.id = {org}
        """

    columns = (
        "study_id, author_id, body, body_html, state, moderation_reason, moderation_note, "
        "acted_for_id, acted_for_sector, created_at, updated_at, revision"
    )
    published, no_reason = "'published'", "''"
    per_study = [(big, contributions)] + [(s, max(small // 4, 1)) for s in study_ids[1:]]
    for study, count in per_study:
        rows = item_rows(study, count, published, no_reason)
        run(
            f"contributions of study {study}",
            f"INSERT INTO contributions_contribution ({columns}, title, kind) "
            f"SELECT {columns}, 'Bench', 'idea' FROM ({rows}) AS i({columns}, g)",
        )
    uncounted = item_rows(
        big,
        extra,
        "CASE WHEN g % 2 = 0 THEN 'pending' ELSE 'removed' END",
        "CASE WHEN g % 2 = 0 THEN '' ELSE 'spam' END",
        start=contributions,
    )
    run(
        "uncounted contributions",
        f"INSERT INTO contributions_contribution ({columns}, title, kind) "
        f"SELECT {columns}, 'Bench', 'idea' FROM ({uncounted}) AS i({columns}, g)",
    )
    comment_state = (
        "CASE WHEN g % 50 = 0 THEN 'withdrawn' WHEN g % 97 = 0 THEN 'hidden' ELSE 'published' END"
    )
    comment_reason = "CASE WHEN g % 97 = 0 AND g % 50 <> 0 THEN 'off_topic' ELSE '' END"
    per_study = [(big, comments)] + [(s, small - max(small // 4, 1)) for s in study_ids[1:]]
    for study, count in per_study:
        with connection.cursor() as cursor:
            # Each study's published contributions were inserted in one statement:
            # their ids run without gaps from the first.
            cursor.execute(
                "SELECT min(id), count(*) FROM contributions_contribution "
                "WHERE study_id = %s AND state = 'published'",
                [study],
            )
            first_contribution, how_many = cursor.fetchone()
        rows = item_rows(study, count, comment_state, comment_reason)
        run(
            f"comments of study {study}",
            f"INSERT INTO contributions_comment ({columns}, official, contribution_id) "
            f"SELECT {columns}, false, {first_contribution} + (g * 31) % {how_many} "
            f"FROM ({rows}) AS i({columns}, g)",
        )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) contributions_contribution")
        cursor.execute("VACUUM (ANALYZE) contributions_comment")
        cursor.execute("VACUUM (ANALYZE) accounts_organisation")
        cursor.execute("VACUUM (ANALYZE) studies_membership")
        # The summaries the triggers filled (autovacuum would analyse them soon).
        for table in (
            "reports_participationsummary",
            "reports_participationorganisation",
            "reports_participationperson",
            "reports_participationmultigroup",
            "reports_participationday",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    steps.append(("vacuum analyze", round(time.perf_counter() - started, 2)))
    return {"study_id": big, "steps": steps}


COUNTED = (
    "(state IN ('published', 'withdrawn') "
    "OR (state = 'hidden' AND moderation_reason NOT IN ('spam', 'abuse')))"
)


def experiments(study, runs: int) -> dict:
    """What an index or a summary table would change; for the statistics module's owner.

    (a) the study query with sequential scans off, so PostgreSQL must read the
    partial covering indexes of reports/migrations/0002 (index-only scans);
    (b) the same figures from two summary tables, one row per (study, person,
    organisation, sector) and one per (study, day), as a write-time rollup
    would keep them: the cost that remains when 1,000,000 items are not
    re-aggregated on every request.
    """
    from django.db import connection

    from reports.statistics import study_statistics

    found: dict = {}
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        median, runs_ms = median_ms(lambda: study_statistics(study=study), max(3, runs // 2))
        found["index_only_ms"] = {"median": median, "runs": runs_ms}
        found["index_only_plan"] = plan_summary(lambda: study_statistics(study=study))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")
    items = " UNION ALL ".join(
        f"SELECT study_id, author_id, acted_for_id, acted_for_sector, {c} AS c, {m} AS m, "
        f"created_at FROM {table} WHERE {COUNTED}"
        for table, c, m in (("contributions_contribution", 1, 0), ("contributions_comment", 0, 1))
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_rollup_people, bench_rollup_days")
        cursor.execute(
            "CREATE TABLE bench_rollup_people AS SELECT study_id, author_id, acted_for_id, "
            "acted_for_sector, SUM(c) AS contributions, SUM(m) AS comments, "
            f"MIN(created_at) AS first_at FROM ({items}) AS i GROUP BY 1, 2, 3, 4"
        )
        cursor.execute(
            "CREATE TABLE bench_rollup_days AS SELECT study_id, "
            "(created_at AT TIME ZONE 'Europe/Oslo')::date AS day, SUM(c) AS contributions, "
            f"SUM(m) AS comments FROM ({items}) AS i GROUP BY 1, 2"
        )
        cursor.execute("CREATE INDEX ON bench_rollup_people (study_id)")
        cursor.execute("CREATE INDEX ON bench_rollup_days (study_id, day)")
        cursor.execute("VACUUM ANALYZE bench_rollup_people")
        cursor.execute("VACUUM ANALYZE bench_rollup_days")
        cursor.execute("SELECT count(*) FROM bench_rollup_people WHERE study_id = %s", [study.pk])
        found["rollup_rows"] = cursor.fetchone()[0]
    found["rollup_build_s"] = round(time.perf_counter() - started, 1)
    query = """
        WITH g AS (
            SELECT r.author_id, COALESCE(o.merged_into_id, o.id) AS org_id,
                   r.acted_for_sector AS sector, r.contributions, r.comments, r.first_at
            FROM bench_rollup_people r LEFT JOIN accounts_organisation o ON o.id = r.acted_for_id
            WHERE r.study_id = %(study)s
        )
        SELECT 'total', NULL, COUNT(DISTINCT author_id), COUNT(DISTINCT org_id),
               COUNT(DISTINCT CASE WHEN org_id IS NULL THEN author_id END),
               SUM(contributions), SUM(comments) FROM g
        UNION ALL
        SELECT 'sector', CASE WHEN org_id IS NULL THEN '' ELSE sector END,
               COUNT(DISTINCT org_id), COUNT(DISTINCT author_id), 0,
               SUM(contributions), SUM(comments)
        FROM g GROUP BY CASE WHEN org_id IS NULL THEN '' ELSE sector END
        UNION ALL
        SELECT 'org', CAST(org_id AS TEXT), 0, COUNT(DISTINCT author_id), 0,
               SUM(contributions), SUM(comments) FROM g WHERE org_id IS NOT NULL GROUP BY org_id
        UNION ALL
        SELECT 'first', CAST(d AS TEXT), COUNT(*), 0, 0, 0, 0 FROM (
            SELECT (MIN(first_at) AT TIME ZONE 'Europe/Oslo')::date AS d FROM g GROUP BY author_id
        ) AS f GROUP BY d
        UNION ALL
        SELECT 'day', CAST(day AS TEXT), 0, 0, 0, SUM(contributions), SUM(comments)
        FROM bench_rollup_days WHERE study_id = %(study)s GROUP BY day
    """

    def from_rollup() -> None:
        with connection.cursor() as cursor:
            cursor.execute(query, {"study": study.pk})
            cursor.fetchall()

    median, runs_ms = median_ms(from_rollup, runs)
    found["rollup_query_ms"] = {"median": median, "runs": runs_ms}
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_rollup_people, bench_rollup_days")
    return found


def summaries_check(study) -> dict:
    """The summaries the triggers kept equal a rebuild; the cost of checks and writes."""
    from django.db import connection, transaction

    from reports import summaries
    from reports.models import ParticipationDay, ParticipationSummary

    found: dict = {
        "summary_rows": ParticipationSummary.objects.count(),
        "summary_rows_of_study": ParticipationSummary.objects.filter(study=study).count(),
        "day_rows": ParticipationDay.objects.count(),
        "triggers": sorted(summaries.installed_triggers()),
    }
    started = time.perf_counter()
    differences = summaries.differences(limit=10)
    found["check_all_s"] = round(time.perf_counter() - started, 1)
    found["differences"] = differences
    started = time.perf_counter()
    found["rebuild_study_groups_days"] = summaries.rebuild(study_id=study.pk)
    found["rebuild_study_s"] = round(time.perf_counter() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT author_id, acted_for_id, acted_for_sector FROM reports_participationsummary "
            "WHERE study_id = %s ORDER BY id LIMIT 1",
            [study.pk],
        )
        author_id, org_id, sector = cursor.fetchone()

    def post() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO contributions_contribution (study_id, author_id, body, body_html, "
                "state, moderation_reason, moderation_note, acted_for_id, acted_for_sector, "
                "created_at, updated_at, revision, title, kind) VALUES (%s, %s, 'x', 'x', "
                "'published', '', '', %s, %s, now(), now(), 1, 'x', 'idea') RETURNING id",
                [study.pk, author_id, org_id, sector],
            )
            return cursor.fetchone()[0]

    def timed(function, runs: int = 20) -> float:
        times = []
        for _ in range(runs):
            with transaction.atomic():
                started = time.perf_counter()
                function()
                times.append((time.perf_counter() - started) * 1000)
        return round(stats.median(times), 2)

    found["post_ms"] = timed(post)

    hidden = []
    with connection.cursor() as cursor:
        # Twenty people with comments: each run hides a different person's first one.
        cursor.execute(
            "SELECT DISTINCT author_id FROM reports_participationsummary "
            "WHERE study_id = %s AND comments > 1 ORDER BY author_id LIMIT 20",
            [study.pk],
        )
        authors = [row[0] for row in cursor.fetchall()]

    def hide_first() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE contributions_comment SET state = 'hidden', moderation_reason = 'spam' "
                "WHERE id = (SELECT id FROM contributions_comment WHERE study_id = %s "
                "AND author_id = %s AND state = 'published' ORDER BY created_at LIMIT 1)",
                [study.pk, authors[len(hidden) % len(authors)]],
            )
            hidden.append(cursor.rowcount)

    found["hide_first_item_as_spam_ms"] = timed(hide_first)
    found["items_hidden"] = sum(hidden)
    found["differences_after_writes"] = summaries.differences(study_id=study.pk, limit=10)
    return found


def median_ms(function, runs: int) -> tuple[float, list[float]]:
    function()  # warm-up: caches, plans, the pool's first connection
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return round(stats.median(times), 1), [round(t, 1) for t in times]


def plan_summary(function) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) the slowest statement ``function`` runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        function()
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + slowest["sql"])
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    nodes: list[dict] = []

    def walk(node: dict) -> None:
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    scans = sorted(
        {
            (n["Node Type"], n.get("Relation Name", ""), n.get("Index Name", ""))
            for n in nodes
            if "Scan" in n["Node Type"] and n.get("Relation Name")
        }
    )
    return {
        "queries": len(captured.captured_queries),
        "execution_ms": round(plan["Execution Time"], 1),
        "planning_ms": round(plan["Planning Time"], 1),
        "scans": [" ".join(filter(None, s)) for s in scans],
        "sequential_item_scans": [
            s[1] for s in scans if s[0] == "Seq Scan" and s[1].startswith("contributions_")
        ],
        "heap_fetches": sum(n.get("Heap Fetches", 0) for n in nodes),
        "workers": max((n.get("Workers Launched", 0) for n in nodes), default=0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--participants", type=int, default=50_000)
    parser.add_argument("--organisations", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", default="dugnad_bench_stats")
    parser.add_argument("--timeout", type=int, default=1500, help="seconds before giving up")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--experiments",
        action="store_true",
        help="also time forced index-only scans and a summary-table rollup",
    )
    args = parser.parse_args()
    harness.bench_database_checked(parser, args.database, args.timeout)
    admin(f'DROP DATABASE IF EXISTS "{args.database}"')
    admin(f'CREATE DATABASE "{args.database}"')
    admin(f"ALTER DATABASE \"{args.database}\" SET statement_timeout = '600s'")
    result: dict = {"database": args.database}
    try:
        setup_django(args.database)
        from django.core.management import call_command
        from django.db import connection

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        result["migrate_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        generated = generate(
            items=args.items, participants=args.participants, organisations=args.organisations
        )
        result["generate_s"] = round(time.perf_counter() - started, 1)
        result["generate_steps"] = generated["steps"]

        from reports.statistics import platform_statistics, study_statistics
        from studies.models import Study

        study = Study.objects.get(pk=generated["study_id"])
        figures = study_statistics(study=study)
        platform = platform_statistics()
        result["study"] = {
            "counted_items": figures.totals.contributions + figures.totals.comments,
            "participants": figures.totals.participants,
            "organisations": figures.totals.organisations,
            "individuals": figures.totals.individuals,
            "days": len(figures.days),
        }
        result["platform"] = {
            "counted_items": platform.totals.contributions + platform.totals.comments,
            "participants": platform.totals.participants,
            "organisations": platform.totals.organisations,
        }
        median, runs = median_ms(lambda: study_statistics(study=study), args.runs)
        result["study_statistics_ms"] = {"median": median, "runs": runs}
        median, runs = median_ms(platform_statistics, max(3, args.runs // 2))
        result["platform_statistics_ms"] = {"median": median, "runs": runs}
        result["study_plan"] = plan_summary(lambda: study_statistics(study=study))
        result["platform_plan"] = plan_summary(platform_statistics)
        # After the timings: the check's rebuild leaves dead rows behind.
        result["summaries"] = summaries_check(study)
        if args.experiments:
            result["experiments"] = experiments(study, args.runs)
        result["targets_ms"] = TARGETS_MS
        result["meets_targets"] = {
            "study": result["study_statistics_ms"]["median"] <= TARGETS_MS["study"],
            "platform": result["platform_statistics_ms"]["median"] <= TARGETS_MS["platform"],
        }
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            result["postgresql"] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename IN "
                "('contributions_contribution', 'contributions_comment') ORDER BY 1"
            )
            result["item_indexes"] = [row[0] for row in cursor.fetchall()]
        connection.close()
        from django.db import connections

        connections.close_all()
        for conn in connections.all():
            pool = getattr(conn, "pool", None)
            if pool is not None:
                pool.close()
    finally:
        signal.alarm(0)
        if not args.keep:
            admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            result["dropped"] = True
    result["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
