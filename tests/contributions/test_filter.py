"""The study page's list narrowed by section and kind: page, load more, reload and live data."""

from __future__ import annotations

import re

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contributions import live, services
from contributions.models import ContributionKind, ItemState
from studies.models import Visibility
from tests.contributions.factories import member
from tests.factories import ContributionFactory, SectionFactory, StudyFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def study_with_items():
    study = StudyFactory()
    problem = SectionFactory(study=study, order=1, title="Problem")
    needs = SectionFactory(study=study, order=2, title="Needs")
    ContributionFactory(study=study, section=problem, kind="idea", title="Problem idea")
    ContributionFactory(study=study, section=problem, kind="concern", title="Problem concern")
    ContributionFactory(study=study, section=needs, kind="idea", title="Needs idea")
    ContributionFactory(study=study, section=None, kind="question", title="General question")
    return study, problem, needs


def page(client, study, **params):
    return client.get(reverse("study_detail", args=[study.slug]), params)


def titles(html: str) -> set[str]:
    names = ("Problem idea", "Problem concern", "Needs idea", "General question")
    return {n for n in names if n in html}


def test_unfiltered_page_shows_everything_and_offers_the_filter(client, study_with_items):
    study, problem, needs = study_with_items
    html = page(client, study).content.decode()
    assert titles(html) == {"Problem idea", "Problem concern", "Needs idea", "General question"}
    assert 'class="filter-form"' in html
    assert f'<option value="{problem.pk}">Problem</option>' in html
    assert '<option value="concern">Concern</option>' in html
    assert 'data-filter-section=""' in html and 'data-filter-kind=""' in html
    assert "Show all contributions" not in html


def test_filter_by_section(client, study_with_items):
    study, problem, _ = study_with_items
    html = page(client, study, section=problem.pk).content.decode()
    assert titles(html) == {"Problem idea", "Problem concern"}
    assert f'data-filter-section="{problem.pk}"' in html
    assert f'data-list-url="/studies/{study.slug}/contributions/?section={problem.pk}"' in html
    assert "Show all contributions" in html


def test_filter_by_kind(client, study_with_items):
    study, _, _ = study_with_items
    html = page(client, study, kind="idea").content.decode()
    assert titles(html) == {"Problem idea", "Needs idea"}
    assert 'data-filter-kind="idea"' in html


def test_filter_by_section_and_kind_together(client, study_with_items):
    study, problem, _ = study_with_items
    html = page(client, study, section=problem.pk, kind="concern").content.decode()
    assert titles(html) == {"Problem concern"}


def test_a_filter_that_matches_nothing_says_so(client, study_with_items):
    study, _, needs = study_with_items
    html = page(client, study, section=needs.pk, kind="concern").content.decode()
    assert titles(html) == set()
    assert "No contributions match this filter." in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"section": "not-a-number"}, "Choose a section of this study."),
        ({"section": "999999"}, "Choose a section of this study."),
        ({"kind": "rant"}, "Choose one of the listed kinds."),
    ],
)
def test_bad_filter_input_is_explained_and_shows_everything(
    client, study_with_items, params, message
):
    study, _, _ = study_with_items
    response = page(client, study, **params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert len(titles(html)) == 4


def test_a_section_of_another_study_does_not_filter(client, study_with_items):
    study, _, _ = study_with_items
    foreign = SectionFactory(study=StudyFactory(), order=1, title="Foreign")
    html = page(client, study, section=foreign.pk).content.decode()
    assert "Choose a section of this study." in html
    assert len(titles(html)) == 4


def test_load_more_and_reload_keep_the_filter(client):
    study = StudyFactory()
    section = SectionFactory(study=study, order=1)
    for n in range(25):
        ContributionFactory(study=study, section=section, kind="idea", title=f"Idea {n:03}")
        ContributionFactory(study=study, kind="concern", title=f"Concern {n:03}")
    html = page(client, study, kind="idea").content.decode()
    assert "Concern 0" not in html
    more = re.search(r'hx-get="([^"]*before=\d+[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "kind=idea" in more
    rest = client.get(more, **HTMX).content.decode()
    assert "Idea 014" in rest and "Concern 0" not in rest
    # The list the client reloads past the replay limit is filtered the same way.
    reload = client.get(
        reverse("contribution_list", args=[study.slug]), {"section": section.pk}, **HTMX
    )
    assert reload["X-Dugnad-Last-Seq"] == str(study.last_event_seq)
    assert "Idea 024" in reload.content.decode() and "Concern 0" not in reload.content.decode()


def test_filtered_page_reads_as_many_queries_as_the_plain_one(client, study_with_items):
    from django.db import connection

    study, problem, _ = study_with_items
    client.force_login(UserFactory())
    # Warm up once-per-process lookups (kept per event number and filter) for both.
    page(client, study)
    page(client, study, section=problem.pk, kind="idea")
    with CaptureQueriesContext(connection) as plain:
        page(client, study)
    with CaptureQueriesContext(connection) as filtered:
        page(client, study, section=problem.pk, kind="idea")
    assert len(filtered) == len(plain)


def test_members_only_study_filter_is_not_found_for_outsiders(client):
    study = StudyFactory(visibility=Visibility.MEMBERS)
    section = SectionFactory(study=study, order=1)
    client.force_login(UserFactory())
    assert page(client, study, section=section.pk).status_code == 404
    assert (
        client.get(
            reverse("contribution_list", args=[study.slug]), {"section": section.pk}, **HTMX
        ).status_code
        == 404
    )


def test_contribution_events_carry_section_and_kind_for_filtered_pages():
    study = StudyFactory()
    section = SectionFactory(study=study, order=1)
    author = member(study)
    contribution = services.contribution_create(
        study=study, author=author, title="T", body="b", kind="concern", section=section
    )
    event = study.events.get()
    assert event.data["section_id"] == section.pk
    assert event.data["kind"] == ContributionKind.CONCERN
    comment = services.comment_create(contribution=contribution, author=author, body="c")
    payload = live.item_payload(item=comment, kind=live.CREATED)
    assert "section_id" not in payload["data"]  # comments follow their contribution
    assert contribution.state == ItemState.PUBLISHED
