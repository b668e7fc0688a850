"""Search and the document's items and claims: amendments' wording, passage kinds, and
organisations shown and filtered as the author's claim allows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from contributions import passages
from search import indexing, selectors
from search.models import SearchDocument
from search.text import parse_query
from studies.blocks import version_blocks
from studies.models import Role
from studies.services import document_version_publish
from tests.contributions.factories import member
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

DOC = """# Digital assistent

Innbyggerne skal finne hjelp på ett sted, uansett hvilken etat som har svaret.

Assistenten skal forklare vedtak i et klart språk.
"""


@pytest.fixture
def document(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory(slug="konsept", body=DOC)
    coordinator = member(study, role=Role.COORDINATOR)
    version = document_version_publish(
        study=study, number="1.0", body=DOC, change_summary="Første.", by=coordinator
    )
    author = member(study, display_name="Kari Nordmann")
    return study, coordinator, version_blocks(version), author


def found(query: str, *, user=None, study=None, **filters) -> list:
    page = selectors.search(
        user=user or AnonymousUser(),
        query=parse_query(query),
        filters=selectors.SearchFilters(**filters),
        study=study,
    )
    assert page is not None
    return [f"{r.document.source}:{r.document.object_id}" for r in page.results]


def propose(study, author, block, wording="Assistenten skal kvitsymre alle tjenester."):
    return passages.amendment_create(
        study=study,
        author=author,
        anchor=block.anchor,
        wording=wording,
        reason="Trollskog gjør teksten tydeligere.",
    )


# --- S1: an amendment's proposed wording is found -------------------------------------------


def test_an_amendments_proposed_wording_is_found_with_its_contribution(document):
    study, _coordinator, blocks, author = document
    amendment = propose(study, author, blocks[2])
    expected = [f"contribution:{amendment.pk}"]
    assert found("trollskog", study=study) == expected  # the reason
    assert found("kvitsymre", study=study) == expected  # the wording
    assert found("kvitsymre") == expected
    assert found("kvitsymre", user=author, study=study) == expected


def test_an_amendments_decision_reason_is_found_once_decided(document):
    study, coordinator, blocks, author = document
    amendment = propose(study, author, blocks[2])
    assert found("blåbærlyng", study=study) == []
    passages.amendment_decide(
        contribution=amendment,
        by=coordinator,
        status="declined",
        reason="Blåbærlyng passer ikke her.",
    )
    assert found("blåbærlyng", study=study) == [f"contribution:{amendment.pk}"]
    assert found("kvitsymre", study=study) == [f"contribution:{amendment.pk}"]


def test_a_wording_changed_behind_the_index_is_not_shown(document):
    study, _coordinator, blocks, author = document
    amendment = propose(study, author, blocks[2])
    type(amendment.amendment).objects.filter(pk=amendment.amendment.pk).update(
        wording="Noe helt annet."
    )
    assert found("kvitsymre", study=study) == []


def test_a_rebuild_indexes_the_wording_too(document):
    study, _coordinator, blocks, author = document
    amendment = propose(study, author, blocks[2])
    SearchDocument.objects.all().delete()
    indexing.rebuild()
    assert found("kvitsymre", study=study) == [f"contribution:{amendment.pk}"]
