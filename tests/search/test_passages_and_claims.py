"""Search and the document's items and claims: amendments' wording, passage kinds, and
organisations shown and filtered as the author's claim allows."""

from __future__ import annotations

import pytest
from django.test import TestCase

from accounts.models import ClaimState, Sector
from accounts.services import claim_decide
from contributions import passages
from contributions.models import Contribution, ItemState
from search import indexing, sources
from search.models import SearchDocument
from search.sources import SOURCES, source_for_model
from studies.blocks import version_blocks
from studies.models import DocumentVersion, Role, Visibility
from studies.services import document_version_publish
from tests.contributions.factories import member, organisation
from tests.factories import (
    AffiliationFactory,
    CommentFactory,
    ContributionFactory,
    StudyFactory,
    UserFactory,
    login_as,
)
from tests.search.conftest import found

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager_celery(eager_celery):
    """A posted item's search task runs where it is queued, also with a broker."""


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


def propose(study, author, block, wording="Assistenten skal kvitsymre alle tjenester."):
    # A posted item's search document is written after commit (search/indexing.py).
    with TestCase.captureOnCommitCallbacks(execute=True):
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


# --- claims: the organisation as the author's claim allows -----------------------------------


class Claims:
    """Items for Alfa etat (confirmed), Beta AS (pending) and Gamma forening (refused)."""

    def __init__(self):
        self.study = StudyFactory(slug="liten")
        self.alfa = organisation(name="Alfa etat", sector=Sector.PUBLIC)
        self.beta = organisation(name="Beta AS", sector=Sector.PRIVATE)
        self.gamma = organisation(name="Gamma forening", sector=Sector.CIVIL)

        def item(org, claim, title):
            return ContributionFactory(
                study=self.study,
                title=title,
                body="Vi kommenterer utkastet.",
                acted_for=org,
                acted_for_sector=org.sector,
                acted_for_claim=claim,
            )

        self.confirmed = item(self.alfa, ClaimState.CONFIRMED, "Bekreftet")
        self.pending = item(self.beta, ClaimState.PENDING, "Venter")
        self.refused = item(self.gamma, ClaimState.REFUSED, "Avvist")
        self.plain = ContributionFactory(study=self.study, title="Uten organisasjon", body="Tekst.")
        self.comment = CommentFactory(
            contribution=self.plain,
            body="Vi kommenterer kommentaren.",
            acted_for=self.beta,
            acted_for_sector=Sector.PRIVATE,
            acted_for_claim=ClaimState.PENDING,
        )


@pytest.fixture
def claims() -> Claims:
    return Claims()


def _result_of(body: str, title: str) -> str:
    """The markup of the result whose heading is ``title``."""
    for part in body.split('<li class="search-result">')[1:]:
        if f">{title}</a>" in part:
            return part.split("</li>")[0]
    raise AssertionError(f"no result {title!r}")


@pytest.mark.parametrize("path", ["/search/", "/studies/liten/search/"])
def test_a_result_names_the_organisation_as_the_authors_claim_allows(claims, client, path):
    client.cookies["django_language"] = "en"
    body = client.get(path, {"q": "kommenterer"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    confirmed = _result_of(body, "Bekreftet")
    assert '<span class="organisation">Alfa etat</span>' in confirmed
    pending = _result_of(body, "Venter")
    assert "says they represent Beta AS" in pending
    assert '<span class="organisation">Beta AS</span>' not in pending
    assert "Gamma forening" not in _result_of(body, "Avvist")
    comment = _result_of(body, "Uten organisasjon")
    assert "says they represent Beta AS" in comment


def test_a_result_reads_oppgir_a_representere_in_bokmal_and_drops_a_refused_name(claims, client):
    client.cookies["django_language"] = "nb"
    body = client.get("/studies/liten/search/", {"q": "kommenterer"}).content.decode()
    assert "oppgir å representere Beta AS" in body
    assert "Gamma forening" not in body.split('class="search-results"')[1]


# --- S3: the organisation and sector filters follow the claim --------------------------------


def test_the_organisation_and_sector_filters_find_only_items_of_confirmed_claims(claims):
    study = claims.study
    assert found("kommenterer", study=study, organisation_id=claims.alfa.pk) == [
        f"contribution:{claims.confirmed.pk}"
    ]
    assert found("kommenterer", study=study, sector=Sector.PUBLIC) == [
        f"contribution:{claims.confirmed.pk}"
    ]
    # Refused: the person's own, under no organisation or sector.
    assert found("kommenterer", study=study, organisation_id=claims.gamma.pk) == []
    assert found("kommenterer", study=study, sector=Sector.CIVIL) == []
    # Pending: not under the organisation until someone confirms the claim.
    assert found("kommenterer", study=study, organisation_id=claims.beta.pk) == []
    assert found("kommenterer", study=study, sector=Sector.PRIVATE) == []
    # Without the filters every one of them is found.
    assert len(found("kommenterer", study=study)) == 4


def test_a_claims_decision_moves_the_items_into_and_out_of_the_filters_at_once(claims):
    study, beta = claims.study, claims.beta
    claim = AffiliationFactory(
        user=claims.pending.author, organisation=beta, state=ClaimState.PENDING
    )
    administrator = UserFactory(is_administrator=True)
    claim_decide(claim_id=claim.pk, by=administrator, confirm=True)
    assert found("kommenterer", study=study, organisation_id=beta.pk) == [
        f"contribution:{claims.pending.pk}"
    ]
    claim_decide(claim_id=claim.pk, by=administrator, confirm=False, reason="Sluttet.")
    assert found("kommenterer", study=study, organisation_id=beta.pk) == []
    assert found("kommenterer", study=study, sector=Sector.PRIVATE) == []


# --- S4: the organisation filter lists only organisations items name -------------------------


def _options(client, path, **params) -> str:
    body = client.get(path, {"q": "x", **params}).content.decode()
    return body.split('name="organisation"')[1].split("</select>")[0]


def test_the_organisation_filter_lists_only_organisations_confirmed_items_name(claims, client):
    organisation(name="Kari Nordmann er en svindler AS")  # anyone may add one
    hidden_only = organisation(name="Skjult etat")
    ContributionFactory(
        study=claims.study, acted_for=hidden_only, state=ItemState.HIDDEN, body="Skjult."
    )
    other = StudyFactory(slug="annen")
    elsewhere = organisation(name="Annen etat")
    ContributionFactory(study=other, acted_for=elsewhere, body="Annen.")
    closed = StudyFactory(slug="lukket", visibility=Visibility.MEMBERS)
    secret = organisation(name="Lukket etat")
    ContributionFactory(study=closed, acted_for=secret, body="Lukket.")
    everywhere = _options(client, "/search/")
    assert ">Alfa etat</option>" in everywhere and ">Annen etat</option>" in everywhere
    for name in ("svindler", "Beta AS", "Gamma forening", "Skjult etat", "Lukket etat"):
        assert name not in everywhere
    in_study = _options(client, "/studies/liten/search/")
    assert ">Alfa etat</option>" in in_study
    assert "Annen etat" not in in_study and "Beta AS" not in in_study
    # A member of the closed study finds its items, and so its organisation.
    insider = member(closed)
    login_as(client, insider)
    assert ">Lukket etat</option>" in _options(client, "/search/")


def test_an_organisation_the_filter_does_not_list_is_refused(claims, client):
    response = client.get("/studies/liten/search/", {"q": "x", "organisation": claims.beta.pk})
    assert response.status_code == 400
    response = client.get("/studies/liten/search/", {"q": "x", "organisation": claims.alfa.pk})
    assert response.status_code == 200


def test_a_merged_duplicate_is_listed_as_the_organisation_it_was_merged_into(claims, client):
    duplicate = organisation(name="Alfa etat (duplikat)", merged_into=claims.beta)
    ContributionFactory(study=claims.study, acted_for=duplicate, body="Duplikat.")
    options = _options(client, "/studies/liten/search/")
    assert ">Beta AS</option>" in options and "duplikat" not in options


# --- S5: passage comments and amendments are kinds of their own ------------------------------


def test_passage_comments_and_amendments_have_their_own_kind_and_label(document, client):
    study, _coordinator, blocks, author = document
    amendment = propose(study, author, blocks[2])
    with TestCase.captureOnCommitCallbacks(execute=True):
        comment = passages.passage_comment_create(
            study=study, author=author, anchor=blocks[1].anchor, body="Trollskog i avsnittet."
        )
    idea = ContributionFactory(study=study, title="Trollskog", body="Et vanlig innspill.")
    assert found("trollskog", study=study, kind="amendment") == [f"contribution:{amendment.pk}"]
    assert found("trollskog", study=study, kind="passage") == [f"contribution:{comment.pk}"]
    assert found("trollskog", study=study, kind="contribution") == [f"contribution:{idea.pk}"]
    client.cookies["django_language"] = "nb"
    body = client.get("/studies/konsept/search/", {"q": "trollskog"}).content.decode()
    assert '<option value="passage">Kommentar til et avsnitt</option>' in body
    assert '<option value="amendment">Endringsforslag</option>' in body
    results = body.split('class="search-results"')[1]
    assert results.count('<span class="ds-tag badge">Endringsforslag</span>') == 1
    assert results.count('<span class="ds-tag badge">Kommentar til et avsnitt</span>') == 1
    assert results.count('<span class="ds-tag badge">Innspill</span>') == 1
    response = client.get(
        "/studies/konsept/search/",
        {"q": "trollskog", "kind": "amendment"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200


# --- a result's text is the text its document was indexed from ------------------------------


def test_every_sources_snippet_text_is_its_documents_body(document):
    study, coordinator, blocks, author = document
    amendment = propose(study, author, blocks[2])
    passages.amendment_decide(
        contribution=amendment, by=coordinator, status="declined", reason="Passer *ikke* her."
    )
    contribution = ContributionFactory(study=study, body="## Behov\n\n**Fet** & <b>rå</b>")
    comment = CommentFactory(study=study, contribution=contribution, body="- ett\n- to _tre_")
    rows = [
        Contribution.objects.get(pk=amendment.pk),
        contribution,
        comment,
        DocumentVersion.objects.get(study=study),
    ]
    for row in rows:
        source = source_for_model(type(row))
        assert source.body is not None
        assert source.text(row) == source.document(row)["body"]
    assert "Passer *ikke* her." in SOURCES["contribution"].text(rows[0])


def test_a_results_page_cuts_its_snippets_without_reading_whole_documents(document, monkeypatch):
    study, _coordinator, blocks, author = document
    propose(study, author, blocks[2])
    CommentFactory(study=study, contribution=ContributionFactory(study=study), body="Assistenten")
    monkeypatch.setattr(sources, "detect_language", lambda text: pytest.fail("a whole document"))
    assert len(found("assistenten", study=study)) == 3  # the document, the amendment, a comment
