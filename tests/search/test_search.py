"""Search: relevance, permissions, the index kept true, filters and bad input.

Every expectation here is written out, and the file runs on SQLite (FTS5, the
embedded default) and on PostgreSQL (``DATABASE_URL`` set: tsvector, GIN):
passing on both is what "the same results on both" means for this corpus.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Sector
from contributions import services as contribution_services
from contributions.models import Comment, Contribution, ItemState
from search import selectors
from search.models import SearchDocument
from search.text import parse_query, stem
from studies.models import DocumentVersion, Phase, Role, Visibility
from tests.contributions.factories import member
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    MembershipFactory,
    OrganisationFactory,
    SectionFactory,
    StudyFactory,
    UserFactory,
    login_as,
    sign_in_with_second_factor,
)
from tests.search.conftest import found

pytestmark = pytest.mark.django_db


class Corpus:
    """A small Norwegian study, its neighbours, and the people who look."""

    def __init__(self):
        now = timezone.now()
        self.study = StudyFactory(slug="konsept", title="Digital assistent")
        self.other = StudyFactory(slug="annen", title="Annen studie")
        self.private = StudyFactory(slug="lukket", visibility=Visibility.MEMBERS)
        self.section_a = SectionFactory(study=self.study, title="Behov")
        self.section_b = SectionFactory(study=self.study, title="Løsninger")
        self.org = OrganisationFactory(name="Nav", sector=Sector.PUBLIC)
        self.company = OrganisationFactory(name="Firma AS", sector=Sector.PRIVATE)
        self.author = member(self.study)
        self.member = member(self.study)
        self.facilitator = member(self.study, role=Role.FACILITATOR)
        self.outsider = UserFactory()
        self.private_member = member(self.private)
        self.phase = Phase.objects.create(
            study=self.study,
            title="Første runde",
            starts_at=now - dt.timedelta(days=10),
            ends_at=now - dt.timedelta(days=5),
        )

        def item(title, body, **kwargs):
            kwargs.setdefault("study", self.study)
            kwargs.setdefault("author", self.author)
            return ContributionFactory(title=title, body=body, **kwargs)

        self.assistant = item(
            "Digital assistent for innbyggeren",
            "Assistenten hjelper innbyggeren med skjema og søknader.",
            section=self.section_a,
            acted_for=self.org,
            acted_for_sector=Sector.PUBLIC,
            created_at=now - dt.timedelta(days=7),
        )
        self.services = item(
            "Kommunale tjenester",
            "Kommunene tilbyr mange tjenester til innbyggere på nett.",
            section=self.section_b,
            acted_for=self.company,
            acted_for_sector=Sector.PRIVATE,
        )
        self.privacy = item("Personvern", "Samtykke og personvern må ivaretas i alle løsninger.")
        self.english = item(
            "Services for citizens",
            "The assistant should help the citizens find the services that they need.",
        )
        self.comment = CommentFactory(
            contribution=self.assistant,
            author=self.member,
            body="Innbyggeren trenger et enklere språk.",
        )
        self.hidden = item(
            "Skjult",
            "Hemmelig tekst om innbyggeren.",
            state=ItemState.HIDDEN,
            moderation_reason="other",
        )
        self.pending = item("Venter", "Innbyggeren venter på godkjenning.", state=ItemState.PENDING)
        self.withdrawn = item("Trukket", "Innbyggeren trakk dette.", state=ItemState.WITHDRAWN)
        self.removed = item("Fjernet", "Innbyggeren ble fjernet.", state=ItemState.REMOVED)
        self.elsewhere = item("Annet sted", "Innbyggeren i en annen studie.", study=self.other)
        self.secret = item(
            "Lukket",
            "Innbyggeren i en lukket studie.",
            study=self.private,
            author=self.private_member,
        )
        self.version = DocumentVersion.objects.create(
            study=self.study,
            number="1.0",
            body="# Konseptet\n\nEn digital assistent for alle innbyggere.",
            change_summary="Første versjon.",
        )


@pytest.fixture
def corpus() -> Corpus:
    return Corpus()


def key(obj) -> str:
    if isinstance(obj, Contribution):
        return f"contribution:{obj.pk}"
    if isinstance(obj, Comment):
        return f"comment:{obj.pk}"
    return f"document:{obj.pk}"


def shown(body: str, item) -> bool:
    return f'#contribution-{item.pk}"' in body


# --- relevance on a small Norwegian corpus ----------------------------------------------


def test_innbyggere_finds_innbyggeren_in_contributions_comments_and_the_document(corpus):
    assert set(found("innbyggere", study=corpus.study)) == {
        key(corpus.assistant),
        key(corpus.services),
        key(corpus.comment),
        key(corpus.version),
    }


def test_a_title_match_ranks_before_a_match_in_the_text(corpus):
    results = found("digital assistent", study=corpus.study)
    assert results == [key(corpus.assistant), key(corpus.version)]


def test_newest_first_orders_by_time(corpus):
    results = found("innbyggere", study=corpus.study, sort="newest")
    assert results[-1] == key(corpus.assistant)  # posted a week ago
    assert results[0] == key(corpus.version)


def test_a_phrase_must_be_in_order(corpus):
    assert set(found('"digital assistent"', study=corpus.study)) == {
        key(corpus.assistant),
        key(corpus.version),
    }
    assert found('"assistent digital"', study=corpus.study) == []


def test_a_word_can_be_left_out_and_alternatives_given(corpus):
    assert key(corpus.assistant) not in found("innbyggere -skjema", study=corpus.study)
    assert set(found("personvern or kommunene", study=corpus.study)) == {
        key(corpus.privacy),
        key(corpus.services),
    }


def test_an_english_text_is_found_with_english_stems(corpus):
    assert found("citizen service", study=corpus.study) == [key(corpus.english)]


# --- permissions --------------------------------------------------------------------------


def _everything(corpus, user) -> set:
    return set(found("innbyggeren", user=user, state=selectors.ALL_STATES))


def test_anonymous_finds_published_items_of_public_studies_only(corpus):
    assert _everything(corpus, AnonymousUser()) == {
        key(corpus.assistant),
        key(corpus.services),
        key(corpus.comment),
        key(corpus.version),
        key(corpus.elsewhere),
    }


def test_an_outsider_finds_what_anonymous_finds(corpus):
    assert _everything(corpus, corpus.outsider) == _everything(corpus, AnonymousUser())


def test_an_author_also_finds_their_own_unpublished_items_but_not_removed_ones(corpus):
    # As on the study page (contributions.selectors.item_visible_to).
    mine = _everything(corpus, corpus.author) - _everything(corpus, AnonymousUser())
    assert mine == {key(corpus.pending), key(corpus.withdrawn), key(corpus.hidden)}


def test_another_member_finds_no_one_elses_pending_item(corpus):
    assert _everything(corpus, corpus.member) == _everything(corpus, AnonymousUser())


def test_a_facilitator_with_the_second_factor_finds_every_item_of_their_study(corpus, client, rf):
    sign_in_with_second_factor(client, corpus.facilitator)
    response = client.get("/search/", {"q": "innbyggeren", "state": "all"})
    body = response.content.decode()
    for item in (corpus.hidden, corpus.pending, corpus.withdrawn, corpus.removed):
        assert shown(body, item)
    assert not shown(body, corpus.secret)


def test_a_facilitator_without_the_second_factor_in_this_session_finds_only_published(
    corpus, client
):
    client.force_login(corpus.facilitator)
    body = client.get("/search/", {"q": "innbyggeren", "state": "all"}).content.decode()
    assert not shown(body, corpus.hidden) and not shown(body, corpus.pending)
    assert shown(body, corpus.assistant)


def test_a_member_of_a_private_study_finds_its_items_and_no_one_else_does(corpus, client):
    login_as(client, corpus.private_member)
    assert shown(client.get("/search/", {"q": "innbyggeren"}).content.decode(), corpus.secret)
    login_as(client, corpus.outsider)
    assert not shown(client.get("/search/", {"q": "innbyggeren"}).content.decode(), corpus.secret)


def test_a_private_study_cannot_be_searched_by_an_outsider(corpus, client):
    assert client.get("/studies/lukket/search/", {"q": "innbyggeren"}).status_code == 404
    login_as(client, corpus.outsider)
    assert client.get("/studies/lukket/search/", {"q": "innbyggeren"}).status_code == 404
    login_as(client, corpus.private_member)
    assert client.get("/studies/lukket/search/", {"q": "innbyggeren"}).status_code == 200


def test_a_study_search_finds_nothing_of_another_study(corpus):
    assert key(corpus.elsewhere) not in found("innbyggeren", study=corpus.study)
    assert found("innbyggeren", study=corpus.other) == [key(corpus.elsewhere)]


def test_a_blocked_member_of_a_private_study_no_longer_finds_its_items(corpus):
    membership = corpus.private.memberships.get(user=corpus.private_member)
    membership.status = "blocked"
    membership.save()
    assert key(corpus.secret) not in _everything(corpus, corpus.private_member)


# --- the index follows every change, in the same transaction --------------------------


def test_a_hidden_item_is_never_found_and_is_found_again_when_restored(corpus):
    contribution_services.item_change_state(
        item=corpus.assistant, state=ItemState.HIDDEN, reason="off_topic"
    )
    assert found("skjema", study=corpus.study) == []
    assert found("skjema", study=corpus.study, state="hidden") == []
    contribution_services.item_change_state(item=corpus.assistant, state=ItemState.PUBLISHED)
    assert found("skjema", study=corpus.study) == [key(corpus.assistant)]


def test_an_edit_takes_the_old_words_out_of_the_index(corpus):
    contribution_services.contribution_edit(
        contribution=corpus.privacy,
        editor=corpus.author,
        title="Informasjonssikkerhet",
        body="Sikkerhet først.",
    )
    assert found("personvern", study=corpus.study) == []
    assert found("samtykke", study=corpus.study) == []
    assert found("sikkerhet", study=corpus.study) == [key(corpus.privacy)]


def test_an_edited_comment_is_found_by_its_new_words_only(corpus):
    contribution_services.comment_edit(
        comment=corpus.comment, editor=corpus.member, body="Klarspråk er viktig."
    )
    assert key(corpus.comment) not in found("språk", study=corpus.study)
    assert found("klarspråk", study=corpus.study) == [key(corpus.comment)]


def test_a_withdrawn_item_is_no_longer_found(corpus):
    contribution_services.contribution_withdraw(contribution=corpus.privacy, user=corpus.author)
    assert found("personvern", study=corpus.study) == []


def test_deleting_an_item_removes_it_and_its_comments_from_the_index(corpus):
    corpus.assistant.delete()
    assert not SearchDocument.objects.filter(source="comment", object_id=corpus.comment.pk).exists()
    assert set(found("innbyggeren", study=corpus.study)) == {
        key(corpus.services),
        key(corpus.version),
    }


def test_deleting_a_study_removes_its_documents(corpus):
    study_id = corpus.other.pk
    corpus.other.delete()
    assert not SearchDocument.objects.filter(study_id=study_id).exists()
    assert key(corpus.elsewhere) not in found("innbyggeren")


def test_a_change_that_missed_the_index_is_still_not_shown(corpus):
    # A write that bypasses save() (no signal): the page checks the live row.
    Contribution.objects.filter(pk=corpus.services.pk).update(state=ItemState.HIDDEN)
    assert key(corpus.services) not in found("kommunene", study=corpus.study)


def test_a_new_version_of_the_document_is_found(corpus):
    version = DocumentVersion.objects.create(
        study=corpus.study, number="2.0", body="Nå med tolketjeneste.", change_summary="Tolk."
    )
    assert found("tolketjenesten", study=corpus.study) == [key(version)]


def test_rebuild_writes_the_same_index(corpus):
    from search import indexing

    before = found("innbyggere", study=corpus.study)
    SearchDocument.objects.all().delete()
    assert indexing.rebuild() == SearchDocument.objects.count()
    assert found("innbyggere", study=corpus.study) == before


# --- filters ----------------------------------------------------------------------------


def test_filters_narrow_by_section_kind_organisation_sector_and_phase(corpus):
    study = corpus.study
    assert found("innbyggere", study=study, section_id=corpus.section_b.pk) == [
        key(corpus.services)
    ]
    assert found("innbyggere", study=study, kind="comment") == [key(corpus.comment)]
    assert found("innbyggere", study=study, kind="document") == [key(corpus.version)]
    assert found("innbyggere", study=study, organisation_id=corpus.org.pk) == [
        key(corpus.assistant)
    ]
    assert found("innbyggere", study=study, sector=Sector.PRIVATE) == [key(corpus.services)]
    assert found("innbyggere", study=study, phase=corpus.phase) == [key(corpus.assistant)]


def test_the_page_keeps_the_query_and_filters_in_its_links(corpus, client):
    for n in range(25):
        ContributionFactory(study=corpus.study, title=f"Klarspråk {n}", body="Klarspråk.")
    response = client.get(
        "/studies/konsept/search/", {"q": "klarspråk", "kind": "contribution", "sort": "newest"}
    )
    body = response.content.decode()
    assert "25 results" in body or "25 treff" in body
    assert "q=klarspr%C3%A5k&amp;kind=contribution&amp;sort=newest&amp;page=2" in body
    second = client.get(
        "/studies/konsept/search/",
        {"q": "klarspråk", "kind": "contribution", "sort": "newest", "page": "2"},
    )
    assert second.content.decode().count('class="search-result"') == 5


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"q": 'innbyggere & | ! <-> :* ( ) "'},
        {"q": 'NEAR("a" "b") AND OR NOT *'},
        {"q": "'; DROP TABLE search_document; --"},
        {"q": ""},
        {"q": "og i på"},
        {"q": "-innbyggeren"},
        {"q": "innbyggeren", "page": "999"},
    ],
)
def test_odd_queries_get_a_page_never_an_error(corpus, client, params):
    response = client.get("/studies/konsept/search/", params)
    assert response.status_code == 200
    assert SearchDocument.objects.exists()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"q": "x" * 10_000}, "at most 200 characters"),
        ({"q": "innbyggeren", "kind": "nonsense"}, "not one of the choices"),
        ({"q": "innbyggeren", "section": "abc"}, "not one of the choices"),
        ({"q": "innbyggeren", "section": "999999"}, "not one of the choices"),
        ({"q": "innbyggeren", "sector": "moon"}, "not one of the choices"),
        ({"q": "innbyggeren", "state": "secret"}, "not one of the choices"),
        ({"q": "innbyggeren", "sort": "random"}, "not one of the choices"),
        ({"q": "innbyggeren", "page": "abc"}, "whole number"),
        ({"q": "innbyggeren", "page": "-1"}, "whole number"),
        ({"q": "inn\x00byggeren"}, "Null characters are not allowed"),
        ({"q": "innbyggeren", "page": "²"}, "whole number"),
    ],
)
def test_bad_parameters_get_a_clear_error(corpus, client, params, message):
    response = client.get("/studies/konsept/search/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_phase_of_another_study_is_refused(corpus, client):
    other_phase = Phase.objects.create(
        study=corpus.other,
        title="Annen",
        starts_at=timezone.now() - dt.timedelta(days=3),
        ends_at=timezone.now() - dt.timedelta(days=1),
    )
    response = client.get("/studies/konsept/search/", {"q": "x", "phase": other_phase.pk})
    assert response.status_code == 400


def test_text_is_escaped_and_only_matches_are_marked(corpus, client):
    ContributionFactory(
        study=corpus.study,
        title='<img src=x onerror="alert(1)"> klarspråk',
        body='<script>alert("x")</script> klarspråk',
    )
    body = client.get("/studies/konsept/search/", {"q": "klarspråk"}).content.decode()
    assert "<img src=x" not in body and "<script>alert" not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; <mark>klarspråk</mark>" in body


# --- bounded queries ----------------------------------------------------------------------


def test_a_page_of_results_never_reads_the_studies_concept_documents(corpus, client):
    corpus.study.body = "Utkast " * 20_000
    corpus.study.save()
    with CaptureQueriesContext(connection) as context:
        response = client.get("/search/", {"q": "innbyggere"})
    assert response.status_code == 200
    assert response.context["results"].results
    selects = [q["sql"] for q in context.captured_queries if '"studies_study"' in q["sql"]]
    assert selects
    assert not [sql for sql in selects if '"studies_study"."body"' in sql]
    assert "Utkast" not in response.content.decode()


def test_a_page_of_results_reads_a_fixed_number_of_queries(corpus, client):
    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            response = client.get("/search/", {"q": "klarspråk"})
        assert response.status_code == 200
        return len(context.captured_queries)

    ContributionFactory(study=corpus.study, title="Klarspråk", body="Klarspråk.")
    few = count()
    for n in range(30):
        study = corpus.study if n % 2 else corpus.other
        contribution = ContributionFactory(study=study, title=f"Klarspråk {n}", body="Tekst.")
        CommentFactory(contribution=contribution, body="Klarspråk i kommentaren.")
    assert count() == few


# --- the pages ------------------------------------------------------------------------------


def test_every_study_page_has_a_search_field_and_every_page_a_search_link(corpus, client):
    body = client.get("/studies/konsept/").content.decode()
    assert 'action="/studies/konsept/search/"' in body
    assert 'href="/search/"' in body


def test_a_result_links_to_the_item_on_the_study_page(corpus, client):
    body = client.get("/studies/konsept/search/", {"q": "personvern"}).content.decode()
    url = f"/studies/konsept/?before={corpus.privacy.pk + 1}#contribution-{corpus.privacy.pk}"
    assert url in body.replace("&amp;", "&")
    page = client.get(url.split("#")[0]).content.decode()
    assert f'id="contribution-{corpus.privacy.pk}"' in page


def test_the_rebuild_command_indexes_one_study_or_refuses_an_unknown_one(corpus):
    from io import StringIO

    from django.core.management import CommandError, call_command

    SearchDocument.objects.filter(study=corpus.other).delete()
    out = StringIO()
    call_command("rebuild_search_index", "--study", "annen", stdout=out)
    assert "Indexed 1 item(s)." in out.getvalue()
    assert found("innbyggeren", study=corpus.other) == [key(corpus.elsewhere)]
    with pytest.raises(CommandError):
        call_command("rebuild_search_index", "--study", "nothing")


def test_an_organisation_filter_takes_in_its_merged_duplicates(corpus):
    duplicate = OrganisationFactory(name="NAV (duplikat)", merged_into=corpus.org)
    item = ContributionFactory(
        study=corpus.study, title="Innbyggeren", body="Tekst.", acted_for=duplicate
    )
    assert set(found("innbyggere", study=corpus.study, organisation_id=corpus.org.pk)) == {
        key(corpus.assistant),
        key(item),
    }


# --- PostgreSQL and the SQLite index read the same words ------------------------------


def test_postgresql_stems_every_document_as_the_sqlite_index_does(corpus, requires_postgres):
    from search.sources import SOURCES
    from search.text import terms

    with connection.cursor() as cursor:
        for document in SearchDocument.objects.all():
            source = SOURCES[document.source]
            fields = source.document(source.model_class.objects.get(pk=document.object_id))
            text = f"{fields['title']}\n{fields['body']}"
            # The vector search/indexing.py wrote: the words SQLite keeps.
            cursor.execute(
                "SELECT tsvector_to_array(vector) FROM search_document WHERE id = %s",
                [document.pk],
            )
            assert set(cursor.fetchone()[0]) == set(terms(text, document.language).split())


@pytest.mark.parametrize(
    "query",
    ["innbyggere", '"digital assistent" -skjema', "personvern or kommunene", "og tjenestene"],
)
def test_postgresql_reads_a_query_into_the_stems_the_sqlite_query_uses(requires_postgres, query):
    from search.text import NORWEGIAN

    parsed = parse_query(query)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT websearch_to_tsquery('norwegian', %s)::text",
            [parsed.websearch(NORWEGIAN)],
        )
        tree = cursor.fetchone()[0]
    stems = set(re.findall(r"'([^']+)'", tree))
    excluded = {w for c in parsed.clauses for w in c.excluded}
    assert stems == parsed.stems(NORWEGIAN) | {
        s for s in (stem(w, NORWEGIAN) for w in excluded) if s
    }


def test_a_draft_study_is_searched_by_its_facilitators_only(corpus, client):
    from studies.models import StudyStatus

    draft = StudyFactory(slug="utkast", status=StudyStatus.DRAFT)
    MembershipFactory(study=draft, user=corpus.member)
    MembershipFactory(study=draft, user=corpus.facilitator, role=Role.FACILITATOR)
    item = ContributionFactory(study=draft, title="Utkast", body="Innbyggeren i et utkast.")
    assert key(item) in found("innbyggeren", user=corpus.facilitator)
    assert key(item) not in found("innbyggeren", user=corpus.member)
    assert key(item) not in found("innbyggeren")


def test_letters_with_diacritics_are_not_folded_into_others(corpus):
    # "skål" is not "skala" (stem "skal"): PostgreSQL keeps å, and so does the FTS5 table.
    item = ContributionFactory(study=corpus.study, title="Skål", body="En skål for dugnaden.")
    other = ContributionFactory(study=corpus.study, title="Skala", body="En skala.")
    assert found("skål", study=corpus.study) == [key(item)]
    assert found("skala", study=corpus.study) == [key(other)]


def test_a_comment_on_a_hidden_contribution_does_not_show_its_title(corpus, client):
    contribution_services.item_change_state(
        item=corpus.assistant, state=ItemState.HIDDEN, reason="off_topic"
    )
    body = client.get("/studies/konsept/search/", {"q": "språk"}).content.decode()
    assert f"#comment-{corpus.comment.pk}" in body
    assert "Digital assistent for" not in body


def test_the_index_changes_in_the_items_transaction_and_rolls_back_with_it(corpus):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        contribution_services.contribution_edit(
            contribution=corpus.privacy, editor=corpus.author, title="Nytt", body="Helt nytt."
        )
        # Inside the transaction the index already has the new words...
        assert found("helt", study=corpus.study) == [key(corpus.privacy)]
        raise RuntimeError("the edit fails later on")
    # ...and after the rollback the old ones again.
    assert found("helt", study=corpus.study) == []
    assert found("personvern", study=corpus.study) == [key(corpus.privacy)]


def test_the_filters_open_only_when_one_is_in_use(corpus, client):
    closed = client.get("/studies/konsept/search/", {"q": "innbyggere"}).content.decode()
    assert '<details class="search-filters-toggle">' in closed
    used = client.get("/studies/konsept/search/", {"q": "innbyggere", "sector": "public"})
    assert '<details class="search-filters-toggle" open>' in used.content.decode()
