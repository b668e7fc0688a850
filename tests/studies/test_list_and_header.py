"""The study list and the study header partial."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from studies.access import study_for_user
from studies.models import StudyStatus, Visibility
from studies.selectors import study_header_context
from tests.factories import MembershipFactory, SectionFactory, StudyFactory, UserFactory
from tests.studies.factories import DocumentVersionFactory, PhaseFactory


def test_list_groups_open_upcoming_and_closed_studies(client, db):
    StudyFactory(title="Open one")
    StudyFactory(title="Upcoming one", opens_at=timezone.now() + timedelta(days=3))
    StudyFactory(title="Closed one", status=StudyStatus.CLOSED)
    StudyFactory(title="Draft one", status=StudyStatus.DRAFT)
    listing = client.get(reverse("home")).context["listing"]
    assert [s.title for s in listing.open] == ["Open one"]
    assert [s.title for s in listing.upcoming] == ["Upcoming one"]
    assert [s.title for s in listing.closed] == ["Closed one"]
    assert "Draft one" not in client.get(reverse("home")).content.decode()


def test_search_by_title(client, db):
    StudyFactory(title="Digital assistent")
    StudyFactory(title="Parking permits")
    html = client.get(reverse("home") + "?q=assist").content.decode()
    assert "Digital assistent" in html
    assert "Parking permits" not in html


def test_search_does_not_reveal_members_only_studies(client, db):
    StudyFactory(title="Secret assistant", visibility=Visibility.MEMBERS)
    client.force_login(UserFactory())
    assert "Secret assistant" not in client.get(reverse("home") + "?q=Secret").content.decode()


def test_the_list_takes_the_same_number_of_queries_for_many_studies(client, db):
    for _ in range(3):
        StudyFactory()
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for _ in range(15):
        StudyFactory()
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many) == len(few)


def _render_header(study, user, **extra) -> tuple[str, int]:
    request = RequestFactory().get("/")
    request.user = user
    access = study_for_user(user, study.slug)
    context = {"study": study, "access": access, "request": request, **extra}
    with CaptureQueriesContext(connection) as queries:
        html = render_to_string("studies/_study_header.html", context)
    return html, len(queries)


@pytest.fixture
def rich_study(db):
    study = StudyFactory(title="Digital assistent", summary="Sketch of a concept.")
    for n in range(1, 4):
        SectionFactory(study=study, order=n, title=f"Section {n}")
    now = timezone.now()
    past = PhaseFactory(
        study=study, title="Problem and needs", starts_at=now - timedelta(days=20), ends_at=now
    )
    current = PhaseFactory(
        study=study,
        title="Feedback on draft 0.8",
        starts_at=now,
        ends_at=now + timedelta(days=10),
    )
    past.sections.set(study.sections.all()[:1])
    current.sections.set(study.sections.all())
    DocumentVersionFactory(study=study, number="0.8")
    return study


def test_header_shows_title_phases_sections_and_current_version(rich_study):
    html, _ = _render_header(rich_study, UserFactory())
    assert "Digital assistent" in html and "Sketch of a concept." in html
    assert "Feedback on draft 0.8" in html and 'aria-current="step"' in html
    assert "Section 3" in html
    assert "version 0.8" in html
    assert "Join the study" in html


def test_header_queries_do_not_grow_with_phases_and_sections(rich_study):
    user = UserFactory()
    _, before = _render_header(rich_study, user)
    for n in range(4, 12):
        section = SectionFactory(study=rich_study, order=n)
        phase = PhaseFactory(
            study=rich_study,
            starts_at=timezone.now() + timedelta(days=10 * n),
            ends_at=timezone.now() + timedelta(days=10 * n + 5),
        )
        phase.sections.set([section])
    _, after = _render_header(rich_study, user)
    assert after == before <= 6


def test_header_uses_the_data_the_page_passed(rich_study):
    user = UserFactory()
    MembershipFactory(study=rich_study, user=user)
    access = study_for_user(user, rich_study.slug)
    given = study_header_context(access, user=user)
    html, queries = _render_header(rich_study, user, **given)
    assert queries == 0
    assert "You take part as yourself" in html


def test_header_fills_in_the_viewer_when_the_page_gave_only_the_study_part(rich_study):
    user = UserFactory()
    access = study_for_user(user, rich_study.slug)
    given = study_header_context(access)  # no viewer
    html, queries = _render_header(rich_study, user, **given)
    assert "Join the study" in html
    assert queries <= 1


def test_study_pages_speak_bokmal_by_default(client, db, settings):
    settings.LANGUAGE_CODE = "nb"
    study = StudyFactory(title="Digital assistent")
    with translation.override("nb"):
        client.force_login(UserFactory())
        html = client.get(reverse("study_detail", args=[study.slug])).content.decode()
        assert "Bli med i studien" in html
        join = client.get(reverse("studies:join", args=[study.slug])).content.decode()
        assert "Jeg godtar å bli navngitt i studiens deltakereksport" in join
