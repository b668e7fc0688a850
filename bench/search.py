"""Benchmark: search on PostgreSQL at 1,000,000 items (issue 21).

    .venv/bin/python -m bench.search                       # 1,000,000 items, then drop
    .venv/bin/python -m bench.search --items 100000 --queries 50   # a quick look
    .venv/bin/python -m bench.search --keep --reuse        # time again on a kept database
    .venv/bin/python -m bench.search --server postgres://postgres@127.0.0.1:5439
                                            # another PostgreSQL here (e.g. other settings)

Creates its own database (dugnad_bench_search on 127.0.0.1, dropped at the end
unless --keep), migrates it and generates the texts in Python (copied in
with COPY) and the rows with INSERT ... SELECT (never the ORM row by row):

- 50 studies, 10 of them members-only; the first ("big") study holds 30 % of
  the items, the others share the rest;
- ``--items`` items, a quarter contributions and the rest comments, of 12 to
  40 words drawn from a Norwegian vocabulary of about 25,000 word forms
  (nouns, their endings and compounds) by Zipf's law, so a few words are in
  most items and most are rare; 3 % hidden, 2 % pending, 1 % withdrawn;
- their search documents, written by one INSERT ... SELECT with the tsvector
  search/indexing.py would write (the words only, no text), and the GIN index
  (study_id, vector) built afterwards, as a first indexing of an existing installation would.

Then it times ``search.selectors.search`` (the newest matches with their rank,
the page of 20, and the live rows behind it: what the page runs) for
``--queries`` two-word queries, as an anonymous visitor: within the big study,
within a study of ordinary size (about 14,000 items), both by relevance and
newest first, and across all public studies. "typical" queries draw their
words by the same law as the texts; "common" ones take two of the 20 most
frequent words (most items match). Prints p50, p95 and the maximum, the
statement that finds the newest matches for the first query of each kind with
its plan (EXPLAIN ANALYZE, BUFFERS), the load average at the start and the
end, and the server's shared_buffers and work_mem. Talks only to 127.0.0.1;
stops by itself after ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import harness

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST_URL = "postgres://postgres@127.0.0.1:5432"  # --server changes it (loopback only)
TARGETS_MS = {"study": 50, "public": 200}

# Base words of concept studies; each also appears with Norwegian endings.
_NOUN_TEXT = """
innbygger tjeneste kommune skjema søknad vedtak assistent løsning behov bruker veileder
saksbehandler etat direktorat departement rettighet plikt tilgang samtykke personvern
sikkerhet identitet innlogging postkasse varsel melding dokument arkiv register datadeling
grensesnitt standard arkitektur plattform modell prosess rutine avtale anskaffelse
leverandør marked konkurranse innovasjon forskning universitet student lærer skole
barnehage helse pasient lege sykehus omsorg pleie bolig trygd pensjon skatt avgift toll
grense reise transport vei bane buss ferje havn fiske landbruk skog klima miljø energi
strøm vann avløp avfall beredskap politi domstol advokat frist klage anke gebyr betaling
faktura kvittering konto bank lån forsikring arbeid jobb stilling lønn ferie permisjon
familie foreldre barn ungdom eldre funksjon hjelpemiddel språk tolk oversettelse nettside
app mobil telefon kanal chat robot algoritme kunstig intelligens data kvalitet statistikk
analyse rapport evaluering gevinst kostnad budsjett finansiering prosjekt program
portefølje ledelse styring organisasjon samarbeid dialog høring innspill forslag endring
versjon kapittel avsnitt
"""
_OTHER_TEXT = """
digital digitale enkel enkle trygg trygge rask raske felles offentlig offentlige privat
private nasjonal nasjonale lokal lokale bedre beste ny nye gammel viktig viktige tydelig
åpen åpne lukket sammen hjelpe hjelper hjalp bruke bruker brukte finne finner fant søke
søker søkte dele deler delte lagre lagrer varsle varsler godkjenne godkjenner signere
signerer betale betaler klage klager spørre spør svare svarer forstå forstår lese leser
skrive skriver starte starter avslutte avslutter endre endrer
"""
_STOP_TEXT = "og i på av for til med som det er en et at den de har ikke om"
NOUNS, OTHERS, STOP = _NOUN_TEXT.split(), _OTHER_TEXT.split(), _STOP_TEXT.split()


def vocabulary() -> list[str]:
    """About 25,000 word forms: nouns with their endings, compounds of them (as Norwegian
    makes them: "innbyggertjeneste"), and other words."""
    rng = random.Random(21)
    simple = list(OTHERS)
    for noun in NOUNS:
        simple += [noun, noun + "en", noun + "er", noun + "ene"]
    compounds = []
    for first in NOUNS:
        for second in NOUNS[:60]:
            if first != second:
                compounds += [first + second, first + second + "en", first + second + "er"]
    # The simple words are the frequent ones, the compounds the long tail.
    rng.shuffle(simple)
    rng.shuffle(compounds)
    return simple + compounds


def set_server(url: str) -> None:
    global HOST_URL
    HOST_URL = url.rstrip("/")


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{HOST_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = f"{HOST_URL}/{database}"
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def generate(*, items: int, words: list[str]) -> dict:
    from django.db import connection

    steps = []

    def run(label: str, sql: str, params=None) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        steps.append((label, round(time.perf_counter() - started, 1)))

    people, organisations = 20_000, 500
    sectors = "(ARRAY['public','private','academia','civil','other'])"
    run(
        "organisations",
        f"""INSERT INTO accounts_organisation (name, sector, website, verified, created_at)
        SELECT 'Organisasjon ' || g, {sectors}[1 + g % 5], '', true, now()
        FROM generate_series(1, {organisations}) AS g""",
    )
    run(
        "people",
        f"""INSERT INTO accounts_user (password, is_superuser, is_staff, is_active, date_joined,
            email, display_name, digest_frequency, language)
        SELECT '!', false, false, true, now(), 'p' || g || '@bench.example', 'Person ' || g,
            'daily', '' FROM generate_series(1, {people}) AS g""",
    )
    run(
        "studies",
        """INSERT INTO studies_study (slug, title, summary, body, status, visibility, joining,
            moderation_mode, flag_threshold, small_count_threshold, last_event_seq,
            created_at, updated_at, opens_at)
        SELECT 'bench-' || g, 'Bench study ' || g, '', '', 'open',
            CASE WHEN g % 5 = 0 THEN 'members' ELSE 'public' END, 'open', 'post',
            3, 3, 0, now(), now(), now() - interval '400 days'
        FROM generate_series(1, 50) AS g""",
    )
    study_ids, first_user, first_org = harness.seeded_ids(connection)
    big = study_ids[0]
    # g picks the study: 30 % go to the big one, the rest round the others.
    study = (
        f"(CASE WHEN g % 10 < 3 THEN {big} "
        f"ELSE (ARRAY{study_ids[1:]})[1 + (g / 10) % {len(study_ids) - 1}] END)"
    )
    body = "t.body"
    state = (
        "CASE WHEN g % 33 = 0 THEN 'hidden' WHEN g % 50 = 1 THEN 'pending' "
        "WHEN g % 100 = 2 THEN 'withdrawn' ELSE 'published' END"
    )
    org = f"CASE WHEN g % 4 = 0 THEN NULL ELSE {first_org} + g % {organisations} END"
    columns = (
        "study_id, author_id, body, body_html, state, moderation_reason, moderation_note, "
        "acted_for_id, acted_for_sector, acted_for_claim, created_at, updated_at, revision"
    )
    contributions = items // 4
    author = f"{first_user} + (g::bigint * 7919) % {people}"
    select = f"""SELECT {study}, {author}, {body}, '', {state}, '', '', o.id,
            COALESCE(o.sector, ''), CASE WHEN o.id IS NULL THEN '' ELSE 'confirmed' END,
            now() - interval '365 days' + (g % 525600) * interval '1 minute', now(), 1, g
        FROM generate_series(0, {contributions} - 1) AS g
        JOIN bench_texts t ON t.n = g.g
        LEFT JOIN accounts_organisation o ON o.id = {org}"""
    started = time.perf_counter()
    write_texts(connection, items=items, words=words)
    steps.append(("texts (Python, COPY)", round(time.perf_counter() - started, 1)))
    run(
        "contributions",
        f"INSERT INTO contributions_contribution ({columns}, title, kind) "
        f"SELECT {columns}, split_part(body, ' ', 1) || ' ' || split_part(body, ' ', 2), 'idea' "
        f"FROM ({select}) AS i({columns}, g)",
    )
    comments = select.replace(
        f"generate_series(0, {contributions} - 1)", f"generate_series({contributions}, {items} - 1)"
    )
    assert comments != select
    run(
        "comments",
        f"""INSERT INTO contributions_comment ({columns}, official, contribution_id)
        SELECT i.study_id, i.author_id, i.body, i.body_html, i.state, '', '', i.acted_for_id,
            i.acted_for_sector, i.acted_for_claim, i.created_at, i.updated_at, 1, false, f.first
        FROM ({comments}) AS i({columns}, g)
        JOIN (SELECT study_id, min(id) AS first FROM contributions_contribution
              GROUP BY study_id) AS f ON f.study_id = i.study_id""",
    )
    # The GIN indexes the migrations made, dropped and built again after the rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'search_document' "
            "AND indexdef LIKE '%USING gin%' ORDER BY indexname"
        )
        gin_indexes = cursor.fetchall()
    for name, _definition in gin_indexes:
        run(f"drop {name}", f"DROP INDEX {name}")
    for source, table, title in (
        ("contribution", "contributions_contribution", "title"),
        ("comment", "contributions_comment", "''"),
    ):
        run(
            f"search documents: {source}s",
            f"""INSERT INTO search_document (source, object_id, study_id, section_id,
                organisation_id, sector, state, author_id, language, vector, created_at,
                fingerprint)
            SELECT '{source}', id, study_id, NULL, acted_for_id, acted_for_sector, state,
                author_id, 'norwegian', setweight(to_tsvector('norwegian', {title}), 'A')
                    || setweight(to_tsvector('norwegian', body), 'B'), created_at,
                left(encode(sha256(convert_to(state, 'UTF8') || '\\x00'::bytea
                    || convert_to({title}, 'UTF8') || '\\x00'::bytea
                    || convert_to(body, 'UTF8')), 'hex'), 32)
            FROM {table}""",
        )
    for name, definition in gin_indexes:
        run(f"GIN index {name}", definition)
    run("vacuum analyze", "VACUUM (ANALYZE)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('search_document')) "
            "FROM search_document"
        )
        count, size = cursor.fetchone()
    return {"study_id": big, "steps": steps, "documents": count, "table_size": size}


def write_texts(connection, *, items: int, words: list[str]) -> None:
    """bench_texts(n, body): item n's text, 12 to 40 words drawn by Zipf's law (the
    r-th word 1/r as often as the first), made in Python and copied in."""
    rng = random.Random(2021)
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(words) + 1)))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_texts (n int PRIMARY KEY, body text)")
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy("COPY bench_texts (n, body) FROM STDIN") as copy:
            for g in range(items):
                count = 12 + (g * 7) % 29
                copy.write_row((g, " ".join(rng.choices(words, cum_weights=weights, k=count))))
        cursor.execute("ANALYZE bench_texts")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index], 1)


def timings(function, queries: list[str]) -> dict:
    function(queries[0])  # warm the connection and caches once
    runs, found = [], []
    for query in queries:
        started = time.perf_counter()
        total = function(query)
        runs.append((time.perf_counter() - started) * 1000)
        found.append(total)
    return {
        "p50": percentile(runs, 50),
        "p95": percentile(runs, 95),
        "max": round(max(runs), 1),
        "median_results": statistics.median(found),
    }


def plan(query: str, study_id: int | None) -> list[str]:
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search import selectors
    from search.text import parse_query

    with CaptureQueriesContext(connection) as context:
        selectors.search(
            user=AnonymousUser(),
            query=parse_query(query),
            filters=selectors.SearchFilters(),
            study=None if study_id is None else _study(study_id),
        )
    # The first ordered query: the newest matches with their rank (the one that
    # reads the index), as the selector sent it.
    page_sql = [q["sql"] for q in context.captured_queries if "ORDER BY" in q["sql"]][0]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + page_sql)
        return [page_sql] + [row[0] for row in cursor.fetchall()]


def _study(pk: int):
    from studies.models import Study

    return Study.objects.get(pk=pk)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--database", default="dugnad_bench_search")
    parser.add_argument("--timeout", type=int, default=3000, help="seconds before giving up")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--reuse", action="store_true", help="time a kept database again")
    parser.add_argument(
        "--server",
        default=HOST_URL,
        help="PostgreSQL to use, on this machine (default %(default)s)",
    )
    args = parser.parse_args()
    if urlsplit(args.server).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--server must be a PostgreSQL on this machine (127.0.0.1)")
    set_server(args.server)
    harness.bench_database_checked(parser, args.database, args.timeout)
    words = vocabulary()
    result: dict = {"database": args.database, "items": args.items, "vocabulary": len(words)}
    result["load_at_start"] = [round(value, 2) for value in os.getloadavg()]
    if not args.reuse:
        admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{args.database}"')
    try:
        setup_django(args.database)
        from django.contrib.auth.models import AnonymousUser
        from django.core.management import call_command

        from search import selectors
        from search.text import parse_query
        from studies.models import Study

        if args.reuse:
            call_command("migrate", verbosity=0)  # a database kept by an earlier version
            big = Study.objects.order_by("pk").values_list("pk", flat=True).first()
        else:
            started = time.perf_counter()
            call_command("migrate", verbosity=0)
            result["migrate_s"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            generated = generate(items=args.items, words=words)
            result["generate_s"] = round(time.perf_counter() - started, 1)
            result.update({k: v for k, v in generated.items() if k != "study_id"})
            big = generated["study_id"]
        study = Study.objects.get(pk=big)
        # A study of ordinary size too: the second one (public, about 14,000 items).
        small = Study.objects.filter(visibility="public").exclude(pk=big).order_by("pk").first()
        rng = random.Random(2026)

        def zipf_word() -> str:
            # Words searched for as often as they are written (the texts' own law).
            return words[int(len(words) ** rng.random()) - 1]

        query_sets = {
            "typical": [f"{zipf_word()} {zipf_word()}" for _ in range(args.queries)],
            # Two of the 20 most frequent words: most items match.
            "common": [" ".join(rng.sample(words[:20], 2)) for _ in range(args.queries // 2)],
        }
        result["example_queries"] = {k: v[:5] for k, v in query_sets.items()}
        anonymous = AnonymousUser()

        def hits(scope=None, filters=None):
            """How many items a query finds in ``scope`` (every public study when None)."""
            filters = filters or selectors.SearchFilters()

            def count(query: str) -> int:
                page = selectors.search(
                    user=anonymous, query=parse_query(query), filters=filters, study=scope
                )
                return page.total

            return count

        within, within_small, across = hits(study), hits(small), hits()
        within_newest = hits(study, selectors.SearchFilters(sort="newest"))
        within_small_newest = hits(small, selectors.SearchFilters(sort="newest"))

        for name, queries in query_sets.items():
            result[f"{name}_within_study_ms"] = timings(within, queries)
            result[f"{name}_within_small_study_ms"] = timings(within_small, queries)
            result[f"{name}_across_public_ms"] = timings(across, queries)
            result[f"{name}_within_study_newest_ms"] = timings(within_newest, queries)
            result[f"{name}_within_small_study_newest_ms"] = timings(within_small_newest, queries)
            result[f"{name}_plan_within"] = plan(queries[0], big)
            result[f"{name}_plan_across"] = plan(queries[0], None)
        result["targets_ms"] = TARGETS_MS
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT version(), current_setting('shared_buffers'), current_setting('work_mem')"
            )
            result["server"] = list(cursor.fetchone())
        result["load_at_end"] = [round(value, 2) for value in os.getloadavg()]
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
