"""Creating and editing studies: what is saved, and bad input that saves nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from studies.models import Membership, Role, Section, Study, StudyStatus
from tests.factories import MembershipFactory, SectionFactory, StudyFactory, UserFactory

FMT = "%Y-%m-%dT%H:%M"


def study_data(**overrides) -> dict:
    data = {
        "title": "Digital assistant",
        "summary": "A concept for a digital assistant.",
        "body": "# Concept\n\nText.",
        "opens_at": "",
        "closes_at": "",
        "visibility": "public",
        "joining": "open",
        "moderation_mode": "post",
        "flag_threshold": 3,
        "small_count_threshold": 3,
        "sections-TOTAL_FORMS": 0,
        "sections-INITIAL_FORMS": 0,
    }
    data.update(overrides)
    return data


def with_sections(data: dict, rows: list[dict], initial: int = 0) -> dict:
    data = dict(data)
    data["sections-TOTAL_FORMS"] = len(rows)
    data["sections-INITIAL_FORMS"] = initial
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"sections-{i}-{key}"] = value
    return data


@pytest.fixture
def staff(db):
    return UserFactory(is_administrator=True)


@pytest.fixture
def coordinated(db, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory()
    coordinator = MembershipFactory(study=study, role=Role.COORDINATOR).user
    return study, coordinator


def test_staff_create_a_draft_study_with_sections_and_coordinate_it(client, staff):
    client.force_login(staff)
    data = with_sections(
        study_data(),
        [
            {"order": 1, "title": "Problem og behov", "prompt": "What is the problem?"},
            {"order": 2, "title": "Brukerreiser"},
        ],
    )
    response = client.post(reverse("studies:create"), data)
    assert response.status_code == 302
    study = Study.objects.get(title="Digital assistant")
    assert study.status == StudyStatus.DRAFT
    assert study.slug == "digital-assistant"
    assert list(study.sections.values_list("order", "title")) == [
        (1, "Problem og behov"),
        (2, "Brukerreiser"),
    ]
    assert Membership.objects.get(study=study, user=staff).role == Role.COORDINATOR


def test_staff_can_make_someone_else_coordinator_of_a_new_study(client, staff):
    person = UserFactory(email="coordinator@example.org")
    client.force_login(staff)
    response = client.post(
        reverse("studies:create"), study_data(coordinator_email="Coordinator@example.org")
    )
    assert response.status_code == 302
    study = Study.objects.get()
    assert Membership.objects.get(study=study).user == person
    assert Membership.objects.get(study=study).role == Role.COORDINATOR
    assert not Membership.objects.filter(study=study, user=staff).exists()
    assert Notification.objects.filter(user=person, kind="study_coordinator").exists()


def test_creating_for_an_unknown_coordinator_saves_nothing(client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("studies:create"), study_data(coordinator_email="nobody@example.org")
    )
    assert response.status_code == 200
    assert "No one has an account with this address" in response.content.decode()
    assert not Study.objects.exists()


def test_slugs_never_collide_with_the_studies_own_addresses(client, staff):
    client.force_login(staff)
    client.post(reverse("studies:create"), study_data(title="New"))
    client.post(reverse("studies:create"), study_data(title="New"))
    assert sorted(Study.objects.values_list("slug", flat=True)) == ["new-study", "new-study-2"]


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"title": "   "}, "title", "Please give the study a title."),
        ({"title": ""}, "title", "Please give the study a title."),
        (
            {"opens_at": "2030-05-02T10:00", "closes_at": "2030-05-01T10:00"},
            "closes_at",
            "The study must close after it opens.",
        ),
        ({"flag_threshold": 0}, "flag_threshold", "At least one flag is needed"),
        ({"visibility": "secret"}, "visibility", "Select a valid choice"),
    ],
)
def test_bad_settings_get_a_clear_error_and_create_nothing(
    client, staff, overrides, field, message
):
    client.force_login(staff)
    response = client.post(
        reverse("studies:create"),
        with_sections(study_data(**overrides), [{"order": 1, "title": "Problem"}]),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Study.objects.exists()
    assert not Section.objects.exists()


def test_duplicate_section_order_creates_nothing(client, staff):
    client.force_login(staff)
    data = with_sections(
        study_data(), [{"order": 1, "title": "Problem"}, {"order": 1, "title": "Journeys"}]
    )
    response = client.post(reverse("studies:create"), data)
    assert response.status_code == 200
    assert "Two sections cannot share a place in the order" in response.content.decode()
    assert not Study.objects.exists()


def test_coordinator_edits_settings_and_reorders_sections_in_one_save(client, coordinated):
    study, coordinator = coordinated
    first = SectionFactory(study=study, order=1, title="First")
    second = SectionFactory(study=study, order=2, title="Second")
    client.force_login(coordinator)
    data = with_sections(
        study_data(title="Renamed", joining="approval", moderation_mode="pre"),
        [
            {"id": first.pk, "order": 2, "title": "First"},
            {"id": second.pk, "order": 1, "title": "Second, renamed"},
            {"order": 3, "title": "Third", "prompt": "Anything else?"},
        ],
        initial=2,
    )
    response = client.post(reverse("studies:settings", args=[study.slug]), data)
    assert response.status_code == 302
    study.refresh_from_db()
    assert (study.title, study.joining, study.moderation_mode) == ("Renamed", "approval", "pre")
    assert list(study.sections.values_list("title", flat=True)) == [
        "Second, renamed",
        "First",
        "Third",
    ]


def test_coordinator_deletes_a_section(client, coordinated):
    study, coordinator = coordinated
    keep = SectionFactory(study=study, order=1, title="Keep")
    drop = SectionFactory(study=study, order=2, title="Drop")
    client.force_login(coordinator)
    data = with_sections(
        study_data(),
        [
            {"id": keep.pk, "order": 1, "title": "Keep"},
            {"id": drop.pk, "order": 2, "title": "Drop", "DELETE": "on"},
        ],
        initial=2,
    )
    client.post(reverse("studies:settings", args=[study.slug]), data)
    assert list(study.sections.values_list("title", flat=True)) == ["Keep"]


def test_section_of_another_study_cannot_be_edited_through_this_one(client, coordinated):
    study, coordinator = coordinated
    foreign = SectionFactory(title="Foreign", order=1)
    client.force_login(coordinator)
    data = with_sections(
        study_data(), [{"id": foreign.pk, "order": 5, "title": "Hijacked"}], initial=1
    )
    client.post(reverse("studies:settings", args=[study.slug]), data)
    foreign.refresh_from_db()
    assert foreign.title == "Foreign"
    assert study.sections.get().title == "Hijacked"  # a new section of this study instead


def test_bad_sections_leave_the_settings_unchanged_too(client, coordinated):
    study, coordinator = coordinated
    client.force_login(coordinator)
    data = with_sections(
        study_data(title="Should not be saved"),
        [{"order": 4, "title": "A"}, {"order": 4, "title": "B"}],
    )
    response = client.post(reverse("studies:settings", args=[study.slug]), data)
    assert response.status_code == 200
    study.refresh_from_db()
    assert study.title != "Should not be saved"
    assert not study.sections.exists()


def test_an_open_study_cannot_get_a_close_date_in_the_past(client, coordinated):
    study, coordinator = coordinated
    client.force_login(coordinator)
    past = (timezone.localtime() - timedelta(hours=2)).strftime(FMT)
    longer_past = (timezone.localtime() - timedelta(days=2)).strftime(FMT)
    response = client.post(
        reverse("studies:settings", args=[study.slug]),
        study_data(title="Changed", opens_at=longer_past, closes_at=past),
    )
    assert response.status_code == 200
    assert "close date has passed" in " ".join(response.context["form"].errors["closes_at"])
    study.refresh_from_db()
    assert study.title != "Changed"


def test_a_draft_may_keep_a_past_close_date_until_it_opens(client, coordinated):
    study, coordinator = coordinated
    study.status = StudyStatus.DRAFT
    study.save()
    client.force_login(coordinator)
    past = (timezone.localtime() - timedelta(hours=2)).strftime(FMT)
    longer_past = (timezone.localtime() - timedelta(days=2)).strftime(FMT)
    response = client.post(
        reverse("studies:settings", args=[study.slug]),
        study_data(opens_at=longer_past, closes_at=past),
    )
    assert response.status_code == 302


def test_closed_study_settings_are_read_only(client, coordinated):
    study, coordinator = coordinated
    study.status = StudyStatus.CLOSED
    study.save()
    client.force_login(coordinator)
    page = client.get(reverse("studies:settings", args=[study.slug]))
    assert "can no longer change" in page.content.decode()
    response = client.post(
        reverse("studies:settings", args=[study.slug]), study_data(title="Changed")
    )
    assert response.status_code == 302
    study.refresh_from_db()
    assert study.title != "Changed"


def test_every_help_text_on_the_settings_page_is_shown_whole(client, coordinated):
    study, coordinator = coordinated
    client.force_login(coordinator)
    html = client.get(reverse("studies:settings", args=[study.slug])).content.decode()
    assert "shown only as “fewer than” this number." in html
    assert "<k" not in html
