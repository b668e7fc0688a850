"""Phases and open sections; the versioned concept document and its diffs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from studies.models import DocumentVersion, MembershipStatus, Phase, StudyStatus
from studies.selectors import current_phase, open_sections, version_diff
from tests.factories import (
    ContributionFactory,
    MembershipFactory,
    SectionFactory,
)
from tests.studies.factories import DocumentVersionFactory, PhaseFactory, formset

FMT = "%Y-%m-%dT%H:%M"


def test_without_phases_every_section_is_open(coordinated):
    study, _ = coordinated
    a, b = SectionFactory(study=study), SectionFactory(study=study)
    assert set(open_sections(study)) == {a, b}
    assert set(open_sections(study=study)) == {a, b}


def test_the_running_phase_decides_which_sections_are_open(coordinated):
    study, _ = coordinated
    problem, journeys = SectionFactory(study=study), SectionFactory(study=study)
    now = timezone.now()
    first = PhaseFactory(study=study, starts_at=now - timedelta(days=10), ends_at=now)
    second = PhaseFactory(study=study, starts_at=now, ends_at=now + timedelta(days=10))
    first.sections.set([problem])
    second.sections.set([problem, journeys])
    assert set(open_sections(study, at=now - timedelta(days=5))) == {problem}
    assert set(open_sections(study, at=now + timedelta(days=1))) == {problem, journeys}
    assert list(open_sections(study, at=now + timedelta(days=30))) == []  # after the last
    assert current_phase(study, at=now - timedelta(days=5)) == first
    assert current_phase(study, at=now + timedelta(days=30)) is None


def phase_data(rows: list[dict], initial: int = 0) -> dict:
    return formset("phases", rows, initial)


def test_coordinator_saves_phases_with_their_sections(client, coordinated):
    study, coordinator = coordinated
    section = SectionFactory(study=study)
    now = timezone.localtime()
    client.force_login(coordinator)
    response = client.post(
        reverse("studies:phases", args=[study.slug]),
        phase_data(
            [
                {
                    "title": "Problem and needs",
                    "starts_at": (now - timedelta(days=1)).strftime(FMT),
                    "ends_at": (now + timedelta(days=5)).strftime(FMT),
                    "sections": [section.pk],
                }
            ]
        ),
    )
    assert response.status_code == 302
    phase = Phase.objects.get(study=study)
    assert list(phase.sections.all()) == [section]
    header = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert "Problem and needs" in header
    assert 'aria-current="step"' in header


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            [
                {
                    "title": "Backwards",
                    "starts_at": "2030-01-05T10:00",
                    "ends_at": "2030-01-01T10:00",
                }
            ],
            "must end after it starts",
        ),
        (
            [
                {"title": "A", "starts_at": "2030-01-01T10:00", "ends_at": "2030-01-10T10:00"},
                {"title": "B", "starts_at": "2030-01-05T10:00", "ends_at": "2030-01-20T10:00"},
            ],
            "overlap",
        ),
    ],
)
def test_bad_phases_save_nothing(client, coordinated, rows, message):
    study, coordinator = coordinated
    client.force_login(coordinator)
    response = client.post(reverse("studies:phases", args=[study.slug]), phase_data(rows))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Phase.objects.exists()


def test_sections_of_another_study_cannot_open_in_a_phase(client, coordinated):
    study, coordinator = coordinated
    foreign = SectionFactory()
    client.force_login(coordinator)
    client.post(
        reverse("studies:phases", args=[study.slug]),
        phase_data(
            [
                {
                    "title": "A",
                    "starts_at": "2030-01-01T10:00",
                    "ends_at": "2030-01-10T10:00",
                    "sections": [foreign.pk],
                }
            ]
        ),
    )
    assert not Phase.objects.exists()


def test_publishing_a_version_takes_up_contributions_and_tells_the_members(client, coordinated):
    study, coordinator = coordinated
    member = MembershipFactory(study=study).user
    left = MembershipFactory(study=study, status=MembershipStatus.LEFT).user
    idea = ContributionFactory(study=study, title="Use the national ID")
    ContributionFactory(study=study, title="Pending idea", state="pending")
    client.force_login(coordinator)
    page = client.get(reverse("studies:version_create", args=[study.slug]))
    assert "Use the national ID" in page.content.decode()
    assert "Pending idea" not in page.content.decode()
    response = client.post(
        reverse("studies:version_create", args=[study.slug]),
        {
            "number": "0.9",
            "change_summary": "Took up the ID idea.",
            "body": "# Concept\n\nNow with ID.",
            "taken_up": [idea.pk],
        },
    )
    version = DocumentVersion.objects.get(study=study)
    assert response["Location"] == reverse("studies:version_detail", args=[study.slug, version.pk])
    assert list(idea.taken_up_in.values_list("number", flat=True)) == ["0.9"]
    study.refresh_from_db()
    assert study.body == "# Concept\n\nNow with ID."
    assert Notification.objects.filter(user=member, kind="document_version").count() == 1
    assert not Notification.objects.filter(user=left).exists()
    assert not Notification.objects.filter(user=coordinator).exists()
    detail = client.get(response["Location"]).content.decode()
    assert "Use the national ID" in detail
    assert "<h2>Concept</h2>" in detail
    # The contribution itself says what was done with it, on the study page.
    study_page = client.get(reverse("study_detail", args=[study.slug])).content.decode()
    assert "Taken up in version" in study_page
    assert f'<a href="{response["Location"]}">0.9</a>' in study_page


def test_a_contribution_of_another_study_cannot_be_taken_up(client, coordinated):
    study, coordinator = coordinated
    ContributionFactory(study=study)
    foreign = ContributionFactory()
    client.force_login(coordinator)
    response = client.post(
        reverse("studies:version_create", args=[study.slug]),
        {"number": "1.0", "change_summary": "x", "body": "y", "taken_up": [foreign.pk]},
    )
    assert response.status_code == 200
    assert not DocumentVersion.objects.exists()


def test_a_version_number_is_used_once(client, coordinated):
    study, coordinator = coordinated
    DocumentVersionFactory(study=study, number="0.9")
    client.force_login(coordinator)
    response = client.post(
        reverse("studies:version_create", args=[study.slug]),
        {"number": "0.9", "change_summary": "again", "body": "z"},
    )
    assert "exists already" in response.content.decode()
    assert DocumentVersion.objects.count() == 1


def test_versions_can_be_published_after_closing_but_not_once_archived(client, coordinated):
    study, coordinator = coordinated
    client.force_login(coordinator)
    data = {"number": "1.0", "change_summary": "Final", "body": "Final text"}
    study.status = StudyStatus.CLOSED
    study.save()
    client.post(reverse("studies:version_create", args=[study.slug]), data)
    assert DocumentVersion.objects.count() == 1
    study.status = StudyStatus.ARCHIVED
    study.save()
    client.post(reverse("studies:version_create", args=[study.slug]), {**data, "number": "1.1"})
    assert DocumentVersion.objects.count() == 1


def test_diff_marks_added_and_removed_lines_in_words_not_only_colour(client, coordinated):
    study, _ = coordinated
    old = DocumentVersionFactory(study=study, number="0.8", body="Intro\nOld line\nEnd")
    new = DocumentVersionFactory(study=study, number="0.9", body="Intro\nNew <line>\nEnd")
    response = client.get(
        reverse("studies:version_compare", args=[study.slug]) + f"?old={old.pk}&new={new.pk}"
    )
    html = response.content.decode()
    assert "What changed from version 0.8 to 0.9" in html
    assert '<del><span class="visually-hidden">Removed: </span>Old line</del>' in html
    assert '<ins><span class="visually-hidden">Added: </span>New &lt;line&gt;</ins>' in html


def test_version_diff_gives_line_numbers_and_context():
    lines = version_diff(old="a\nb\nc", new="a\nB\nc\nd")
    kinds = [(line.kind, line.old_number, line.new_number, line.text) for line in lines]
    assert kinds == [
        ("same", 1, 1, "a"),
        ("removed", 2, None, "b"),
        ("added", None, 2, "B"),
        ("same", 3, 3, "c"),
        ("added", None, 4, "d"),
    ]


def test_comparing_versions_of_another_study_is_refused(client, coordinated):
    study, _ = coordinated
    mine = DocumentVersionFactory(study=study)
    foreign = DocumentVersionFactory()
    response = client.get(
        reverse("studies:version_compare", args=[study.slug]) + f"?old={mine.pk}&new={foreign.pk}"
    )
    assert response.context["diff"] is None
    assert foreign.body not in response.content.decode() or foreign.body == mine.body


def test_version_of_another_study_is_not_found_under_this_one(client, coordinated):
    study, _ = coordinated
    foreign = DocumentVersionFactory()
    url = reverse("studies:version_detail", args=[study.slug, foreign.pk])
    assert client.get(url).status_code == 404
