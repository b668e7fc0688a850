"""The index keeps the words of a document, not its text (search 0003).

A result's snippet and heading come from the live row; the migration takes the
text columns away keeping every document findable, and gives them back.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contributions import services as contribution_services
from search import selectors
from search.models import SearchDocument
from search.text import parse_query
from tests.contributions.factories import member
from tests.factories import ContributionFactory, StudyFactory
from tests.search.conftest import found

BEFORE = [("search", "0002_study_vector_index")]
AFTER = [("search", "0003_no_stored_text")]


def _columns() -> set[str]:
    with connection.cursor() as cursor:
        return {
            column.name
            for column in connection.introspection.get_table_description(cursor, "search_document")
        }


def _page(query: str, study):
    return selectors.search(
        user=AnonymousUser(),
        query=parse_query(query),
        filters=selectors.SearchFilters(),
        study=study,
    )


@pytest.mark.django_db
def test_the_document_has_no_text_columns():
    assert {"title", "body"}.isdisjoint(f.name for f in SearchDocument._meta.fields)
    assert {"title", "body"}.isdisjoint(_columns())


@pytest.mark.django_db
def test_postgresql_writes_the_vector_instead_of_generating_it(requires_postgres):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT is_generated FROM information_schema.columns "
            "WHERE table_name = 'search_document' AND column_name = 'vector'"
        )
        assert cursor.fetchone() == ("NEVER",)


@pytest.mark.django_db
def test_a_snippet_is_cut_from_the_live_row_as_it_is_after_an_edit():
    study = StudyFactory()
    item = ContributionFactory(
        study=study,
        author=member(study),
        title="Skjema",
        body="Skjemaet er for langt og for vanskelig.",
    )
    contribution_services.contribution_edit(
        contribution=item, editor=item.author, title="Skjema", body="Skjemaet er kort nå."
    )
    page = _page("skjema", study)
    assert [r.document.object_id for r in page.results] == [item.pk]
    snippet = str(page.results[0].snippet)
    assert "kort nå" in snippet
    assert "vanskelig" not in snippet
    assert "vanskelig" not in str(page.results[0].heading)
    assert found("vanskelig", study=study) == []


@pytest.fixture
def _latest_migrations_afterwards():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_latest_migrations_afterwards")
def test_the_migration_drops_the_text_and_keeps_every_document_findable_both_ways():
    study = StudyFactory()
    item = ContributionFactory(
        study=study, author=member(study), title="Tolketjeneste", body="Tolk på telefon."
    )
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    # Back: the text columns again, filled from the live rows.
    assert {"title", "body"} <= _columns()
    with connection.cursor() as cursor:
        cursor.execute("SELECT title, body FROM search_document WHERE object_id = %s", [item.pk])
        assert cursor.fetchone() == ("Tolketjeneste", "Tolk på telefon.")
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    assert {"title", "body"}.isdisjoint(_columns())
    # The words stayed with the document (the vector kept its values).
    assert found("telefon", study=study) == [f"contribution:{item.pk}"]
    assert found("tolketjeneste", study=study) == [f"contribution:{item.pk}"]
    # And are written anew on the next edit.
    contribution_services.contribution_edit(
        contribution=item, editor=item.author, title="Tolketjeneste", body="Tolk i chat."
    )
    assert found("telefon", study=study) == []
    assert found("chat", study=study) == [f"contribution:{item.pk}"]
