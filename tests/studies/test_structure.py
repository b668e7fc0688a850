"""The study page keeps a study's sections, phases and newest version in memory.

Every way of changing them moves the study's ``updated_at``, so the page never
shows what was kept from before the change; and a page served from memory
reads none of them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from studies.models import DocumentVersion, Phase, Section, Study
from studies.selectors import study_structure
from studies.services import PhaseData, SectionData, phases_save, study_update
from tests.factories import (
    MembershipFactory,
    SectionFactory,
    StudyFactory,
    login_as,
    use_second_factor,
)
from tests.studies.factories import DocumentVersionFactory, PhaseFactory

pytestmark = pytest.mark.django_db


def _page(client, study) -> str:
    response = client.get(reverse("study_detail", args=[study.slug]))
    assert response.status_code == 200
    return response.content.decode()


def _fresh(study) -> Study:
    return Study.objects.get(pk=study.pk)


@pytest.fixture
def viewed(client):
    study = StudyFactory()
    section = SectionFactory(study=study, title="Needs and rights")
    login_as(client, MembershipFactory(study=study).user)
    assert "Needs and rights" in _page(client, study)  # kept from here on
    return study, section


def test_a_page_served_from_memory_reads_no_section_phase_or_version(client, viewed):
    study, _ = viewed
    with CaptureQueriesContext(connection) as queries:
        _page(client, study)
    sql = " ".join(q["sql"] for q in queries)
    assert 'FROM "studies_section"' not in sql
    assert 'FROM "studies_phase"' not in sql
    assert 'FROM "studies_documentversion"' not in sql
    assert '"studies_study"' in sql  # the study row itself is always read (with the membership)


def test_renaming_sections_through_the_settings_shows_at_once(client, viewed):
    study, section = viewed
    study_update(
        study=_fresh(study),
        sections=[SectionData(id=section.pk, order=1, title="Trust and consent")],
    )
    html = _page(client, study)
    assert "Trust and consent" in html
    assert "Needs and rights" not in html


def test_a_section_added_or_deleted_directly_shows_at_once(client, viewed):
    """The admin saves and deletes rows one by one: the signals move the study on."""
    study, section = viewed
    SectionFactory(study=study, title="Data sharing")
    assert "Data sharing" in _page(client, study)
    Section.objects.filter(pk=section.pk).delete()
    assert "Needs and rights" not in _page(client, study)


def test_phases_saved_and_their_sections_changed_show_at_once(client, viewed):
    study, section = viewed
    now = timezone.now()
    phases_save(
        study=_fresh(study),
        phases=[
            PhaseData(
                title="Discovery",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=5),
                section_ids=[section.pk],
            )
        ],
    )
    assert "Discovery" in _page(client, study)
    phase = Phase.objects.get(study=study)
    other = SectionFactory(study=study, title="Open data")
    _page(client, study)
    phase.sections.set([other])  # an m2m change only
    header = study_structure(_fresh(study))
    assert header.phases[0][1] == ("Open data",)


def test_a_phase_deleted_directly_leaves_the_header(client, viewed):
    study, _ = viewed
    phase = PhaseFactory(study=study, title="Drafting")
    assert "Drafting" in _page(client, study)
    phase.delete()
    assert "Drafting" not in _page(client, study)


def test_a_published_version_shows_at_once(client, viewed):
    study, _ = viewed
    DocumentVersionFactory(study=study, number="2.0")
    assert study_structure(_fresh(study)).latest_version.number == "2.0"
    DocumentVersion.objects.filter(study=study).delete()
    assert study_structure(_fresh(study)).latest_version is None


def test_a_study_row_read_before_a_change_never_gets_the_new_structure_wrong():
    """The key is the row as read: an old row finds the old structure, a new row the new."""
    study = StudyFactory()
    SectionFactory(study=study, title="First")
    before = _fresh(study)
    assert [s.title for s in study_structure(before).sections] == ["First"]
    SectionFactory(study=study, title="Second")
    after = _fresh(study)
    assert after.updated_at > before.updated_at
    assert [s.title for s in study_structure(after).sections] == ["First", "Second"]


def test_the_settings_bulk_section_updates_move_the_study_on_by_themselves():
    """_save_sections renames with QuerySet.update(), which sends no signal."""
    from studies.services import _save_sections

    study = StudyFactory()
    section = SectionFactory(study=study, title="First", order=1)
    before = _fresh(study).updated_at
    _save_sections(study=study, sections=[SectionData(id=section.pk, order=1, title="Renamed")])
    after = _fresh(study)
    assert after.updated_at > before
    assert [s.title for s in study_structure(after).sections] == ["Renamed"]


def test_the_admin_change_of_a_phase_moves_the_study_on(admin_client, admin_user):
    use_second_factor(admin_client, admin_user)
    study = StudyFactory()
    phase = PhaseFactory(study=study, title="Before")
    before = _fresh(study).updated_at
    assert study_structure(_fresh(study)).phases[0][0].title == "Before"  # kept
    url = reverse(f"{site.name}:studies_phase_change", args=[phase.pk])
    response = admin_client.post(
        url,
        {
            "study": study.pk,
            "title": "After",
            "description": "",
            "starts_at_0": phase.starts_at.strftime("%Y-%m-%d"),
            "starts_at_1": phase.starts_at.strftime("%H:%M:%S"),
            "ends_at_0": phase.ends_at.strftime("%Y-%m-%d"),
            "ends_at_1": phase.ends_at.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _fresh(study).updated_at > before
    assert study_structure(_fresh(study)).phases[0][0].title == "After"


def test_anonymous_viewers_of_a_public_study_get_the_changed_header_too(client):
    study = StudyFactory()
    SectionFactory(study=study, title="Old title")
    assert "Old title" in _page(client, study)
    Section.objects.get(study=study).delete()
    SectionFactory(study=study, title="New title")
    html = _page(client, study)
    assert "New title" in html and "Old title" not in html


def test_the_filter_reads_its_sections_from_the_kept_structure(client, viewed):
    study, section = viewed
    response = client.get(reverse("study_detail", args=[study.slug]), {"section": section.pk})
    assert response.status_code == 200
    assert response.context["filters"] == {"section_id": section.pk}
    response = client.get(reverse("study_detail", args=[study.slug]), {"section": 999999})
    assert response.context["filters"] == {}
    assert "Choose a section of this study." in response.content.decode()


def test_open_sections_from_the_kept_structure_follow_the_same_rule_as_the_query():
    from studies.selectors import open_sections

    study = StudyFactory()
    a, b, c = (SectionFactory(study=study, title=t) for t in ("A", "B", "C"))
    assert study_structure(_fresh(study)).open_section_rows() == (
        (a.pk, "A"),
        (b.pk, "B"),
        (c.pk, "C"),
    )
    now = timezone.now()
    first = PhaseFactory(
        study=study, starts_at=now - timedelta(days=10), ends_at=now - timedelta(days=2)
    )
    first.sections.set([a])
    second = PhaseFactory(
        study=study, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=5)
    )
    second.sections.set([b, c])
    kept = study_structure(_fresh(study))
    for at in (
        now - timedelta(days=5),
        now - timedelta(days=1, hours=12),
        now,
        now + timedelta(days=9),
    ):
        expected = {s.pk for s in open_sections(study, at=at)}
        assert {pk for pk, _title in kept.open_section_rows(at)} == expected, at
