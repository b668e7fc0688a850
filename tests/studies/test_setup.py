"""Creating and editing studies: what is saved, and bad input that saves nothing."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from studies.models import StudyStatus
from tests.factories import SectionFactory, login_as
from tests.studies.factories import formset, study_data

FMT = "%Y-%m-%dT%H:%M"


def with_sections(data: dict, rows: list[dict], initial: int = 0) -> dict:
    return {**data, **formset("sections", rows, initial)}


def _sections(study, *titles: str) -> list:
    """Sections of ``study`` with these titles, in this order."""
    return [
        SectionFactory(study=study, order=order, title=title)
        for order, title in enumerate(titles, start=1)
    ]


def test_coordinator_edits_settings_and_reorders_sections_in_one_save(client, coordinated):
    study, coordinator = coordinated
    first, second = _sections(study, "First", "Second")
    login_as(client, coordinator)
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
    keep, drop = _sections(study, "Keep", "Drop")
    login_as(client, coordinator)
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
    login_as(client, coordinator)
    data = with_sections(
        study_data(), [{"id": foreign.pk, "order": 5, "title": "Hijacked"}], initial=1
    )
    client.post(reverse("studies:settings", args=[study.slug]), data)
    foreign.refresh_from_db()
    assert foreign.title == "Foreign"
    assert study.sections.get().title == "Hijacked"  # a new section of this study instead


def test_bad_sections_leave_the_settings_unchanged_too(client, coordinated):
    study, coordinator = coordinated
    login_as(client, coordinator)
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
    login_as(client, coordinator)
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
    login_as(client, coordinator)
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
    login_as(client, coordinator)
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
    login_as(client, coordinator)
    html = client.get(reverse("studies:settings", args=[study.slug])).content.decode()
    assert "shown only as “fewer than” this number." in html
    assert "<k" not in html


def test_a_new_section_without_an_order_goes_last(client, coordinated):
    study, coordinator = coordinated
    first = SectionFactory(study=study, order=1, title="First")
    client.force_login(coordinator)
    data = with_sections(
        study_data(title=study.title),
        [
            {"id": first.pk, "order": 1, "title": "First"},
            {"order": "", "title": "Added without an order"},
            {"order": "", "title": "And another"},
        ],
        initial=1,
    )
    response = client.post(reverse("studies:settings", args=[study.slug]), data)
    assert response.status_code == 302
    assert list(study.sections.values_list("order", "title")) == [
        (1, "First"),
        (2, "Added without an order"),
        (3, "And another"),
    ]


def test_a_section_row_with_an_order_but_no_title_says_what_is_missing(client, coordinated):
    study, coordinator = coordinated
    client.force_login(coordinator)
    data = with_sections(study_data(title=study.title), [{"order": 4, "title": ""}])
    response = client.post(reverse("studies:settings", args=[study.slug]), data)
    assert response.status_code == 200
    assert "Give the section a title, or leave the row empty." in response.content.decode()
    assert not study.sections.exists()
