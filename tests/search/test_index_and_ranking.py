"""Search: how the newest matches are read and ranked, and the PostgreSQL index behind it.

Runs on SQLite and on PostgreSQL (``DATABASE_URL`` set); the plan tests need
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from search import selectors
from search.text import parse_query
from tests.factories import ContributionFactory, StudyFactory

pytestmark = pytest.mark.django_db


def _page(query: str, *, study=None, page: int = 1, sort: str = "relevance"):
    result = selectors.search(
        user=AnonymousUser(),
        query=parse_query(query),
        filters=selectors.SearchFilters(sort=sort),
        page=page,
        study=study,
    )
    assert result is not None
    return result


def _ids(page) -> list[int]:
    return [result.document.object_id for result in page.results]


def _items(study, *, title: str, count: int, start: int) -> list:
    """``count`` items with the same title and text, one minute apart, the last newest."""
    now = timezone.now()
    return [
        ContributionFactory(
            study=study,
            title=title,
            body="Et forslag om klarspråk i brevene.",
            created_at=now - dt.timedelta(minutes=start + count - n),
        )
        for n in range(count)
    ]


def test_equal_ranks_come_newest_first_and_the_pages_follow_the_ranking():
    study = StudyFactory()
    # The word in the title ranks first; the same text ranks the same, then newest first.
    in_title = _items(study, title="Klarspråk", count=3, start=100)
    in_text = _items(study, title="Brevene", count=22, start=0)
    expected = [c.pk for c in reversed(in_title)] + [c.pk for c in reversed(in_text)]

    first, second = _page("klarspråk", study=study), _page("klarspråk", study=study, page=2)

    assert (first.total, first.pages) == (25, 2)
    assert _ids(first) + _ids(second) == expected
    assert _ids(_page("klarspråk")) == expected[:20]  # across studies alike


def test_newest_first_pages_by_time_alone():
    study = StudyFactory()
    in_title = _items(study, title="Klarspråk", count=3, start=100)
    in_text = _items(study, title="Brevene", count=22, start=0)
    newest = [c.pk for c in reversed(in_title + in_text)]

    first = _page("klarspråk", study=study, sort="newest")
    second = _page("klarspråk", study=study, sort="newest", page=2)

    assert _ids(first) + _ids(second) == newest


def test_only_the_newest_matches_up_to_the_limit_are_counted_and_ranked(monkeypatch):
    monkeypatch.setattr(selectors, "MAX_RESULTS", 5)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    study = StudyFactory()
    # The oldest match would rank first (the word in its title) but is past the limit.
    oldest = _items(study, title="Klarspråk", count=1, start=100)[0]
    in_text = _items(study, title="Brevene", count=7, start=0)

    pages = [_page("klarspråk", study=study, page=n) for n in (1, 2, 3)]

    assert pages[0].total == 6 and pages[0].more_than_max and pages[0].shown_total == 5
    assert pages[0].pages == 3
    shown = [pk for page in pages for pk in _ids(page)]
    assert shown == [c.pk for c in reversed(in_text)][:5]
    assert oldest.pk not in shown


# --- PostgreSQL: one index for the study and the words -----------------------------------


def _index_definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'search_document'"
        )
        return dict(cursor.fetchall())


def test_postgresql_has_one_gin_index_on_the_study_and_the_words(requires_postgres):
    definitions = _index_definitions()
    assert "USING gin (study_id, vector)" in definitions["search_document_study_vector"]
    assert "search_document_vector" not in definitions  # replaced by the composite one
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'btree_gin'")
        assert cursor.fetchone() is not None


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        # As with many items: no whole-table reads, no reading every row in time order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def _matches_sql(**search) -> str:
    with CaptureQueriesContext(connection) as context:
        selectors.search(
            user=AnonymousUser(),
            query=parse_query("klarspråk brevene"),
            filters=selectors.SearchFilters(),
            **search,
        )
    return next(q["sql"] for q in context.captured_queries if "ts_rank" in q["sql"])


def test_postgresql_reads_a_study_search_from_the_study_and_words_index(requires_postgres):
    study = StudyFactory()
    _items(study, title="Brevene", count=3, start=0)
    # With a few rows any index will do; without the btree indexes holding the study
    # (dropped in the test's transaction, which is rolled back) what is left to
    # show is whether the query's study condition can be read from the GIN index:
    # it can only as a bigint, as btree_gin has no bigint = integer operator.
    with connection.cursor() as cursor:
        for name, definition in _index_definitions().items():
            if "study_id" in definition and name != "search_document_study_vector":
                cursor.execute(f"DROP INDEX {name}")

    plan = _plan(_matches_sql(study=study))

    # The study is a condition of the composite index itself, not a second index
    # combined with it (or a filter on every match).
    index_scans = [line for line in plan.splitlines() if "Bitmap Index Scan" in line]
    assert index_scans and all("search_document_study_vector" in line for line in index_scans)
    assert f"study_id = '{study.pk}'::bigint" in plan.split("Index Cond", 1)[1]
    assert "BitmapAnd" not in plan


def test_postgresql_reads_a_search_across_studies_from_the_same_index(requires_postgres):
    _items(StudyFactory(), title="Brevene", count=3, start=0)

    plan = _plan(_matches_sql())

    assert "search_document_study_vector" in plan


def test_postgresql_time_index_holds_the_study_after_the_time(requires_postgres):
    definitions = _index_definitions()
    assert "(created_at, study_id)" in definitions["search_document_time_study"]
    assert "search_document_created" not in definitions  # replaced by it


def test_postgresql_a_study_read_in_time_order_skips_other_studies_in_the_index(
    requires_postgres,
):
    study = StudyFactory()
    _items(study, title="Brevene", count=3, start=0)
    _items(StudyFactory(), title="Brevene", count=3, start=0)
    sql = _matches_sql(study=study)
    # As a frequent word in a big study: PostgreSQL reads the newest rows in time
    # order from the index of every study and keeps the study's matches. Without
    # the other ways to read them (dropped in the test's transaction), the plan
    # shows where the study is tested: in the index, before any row is fetched,
    # not as a filter on every row of every study.
    with connection.cursor() as cursor:
        for name in _index_definitions():
            if name.startswith("search_document_study"):
                cursor.execute(f"DROP INDEX {name}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Scan Backward using search_document_time_study" in plan
    index_cond = plan.split("Index Cond: ", 1)[1].splitlines()[0]
    assert f"study_id = '{study.pk}'::bigint" in index_cond


def test_postgresql_gin_index_writes_new_documents_at_once(requires_postgres):
    # No pending list that every search reads through (search 0005).
    assert "WITH (fastupdate=off)" in _index_definitions()["search_document_study_vector"]
