# ruff: noqa: F811  (the fixtures come from test_exports_helpers; tests name them as arguments)
"""Closing a study freezes its participation report; later changes never touch it."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from accounts.services import account_delete
from contributions.models import Contribution, ItemState
from moderation.services import item_hide
from reports.exports import BY_ORGANISATION, BY_SECTOR, SUMMARY
from reports.models import ParticipationReport
from reports.services import report_freeze, report_statistics
from reports.statistics import DEFINITIONS_VERSION, headline, study_statistics
from studies.models import StudyStatus, Visibility
from studies.services import study_set_status
from tests.reports.test_exports_helpers import (  # noqa: F401 (fixtures)
    _english_and_eager,
    client,
    read_csv,
    read_json,
    read_xlsx,
    unescape,
    world,
)


def main_part(response) -> str:
    """The page's main content (the header carries a per-request CSRF token)."""
    content = response.content.decode()
    return content[content.index("<main") : content.index("</main>")]


def close(world):
    return study_set_status(study=world.study, status=StudyStatus.CLOSED, by=world.coordinator)


def figures(statistics) -> dict:
    """Everything but the time it was computed."""
    data = statistics.to_dict()
    data.pop("generated_at")
    return data


def report_url(study):
    return reverse("reports:report", args=[study.slug])


def download(client, study, fmt) -> bytes:
    response = client.get(reverse("reports:report_download", args=[study.slug, fmt]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    return b"".join(response.streaming_content)


def test_closing_a_study_freezes_its_figures_and_definitions_version(world):
    live = study_statistics(study=world.study)
    close(world)
    report = ParticipationReport.objects.get(study=world.study)
    assert report.definitions_version == DEFINITIONS_VERSION
    assert report.frozen_by == world.coordinator
    assert figures(report_statistics(report)) == figures(live)
    assert report.headline_en == headline(live, "en")
    assert report.headline_nb == headline(live, "nb")
    assert report.headline_nb != report.headline_en
    assert {"nb", "en"} <= set(report.data["definitions"])


def test_closing_through_the_status_page_freezes_the_report(client, world, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    client.force_login(world.coordinator)
    response = client.post(
        reverse("studies:status", args=[world.study.slug]), {"status": "closed", "confirm": "yes"}
    )
    assert response.status_code == 302
    assert ParticipationReport.objects.filter(study=world.study).exists()


def test_opening_or_archiving_does_not_freeze_or_refreeze(world):
    world.study.status = StudyStatus.DRAFT
    world.study.save()
    study_set_status(study=world.study, status=StudyStatus.OPEN, by=world.coordinator)
    assert not ParticipationReport.objects.exists()
    close(world)
    frozen = ParticipationReport.objects.get().data
    Contribution.objects.filter(study=world.study).update(state=ItemState.PENDING)
    study_set_status(study=world.study, status=StudyStatus.ARCHIVED, by=world.coordinator)
    assert ParticipationReport.objects.get().data == frozen


def test_freezing_twice_keeps_the_first_figures(world):
    close(world)
    first = ParticipationReport.objects.get()
    Contribution.objects.filter(study=world.study).update(state=ItemState.PENDING)
    again = report_freeze(study=world.study, by=world.facilitator)
    assert again.pk == first.pk
    assert again.data == first.data
    assert again.frozen_by == world.coordinator
    assert ParticipationReport.objects.count() == 1


def test_refused_close_freezes_nothing(world):
    world.study.status = StudyStatus.DRAFT
    world.study.save()
    with pytest.raises(Exception):  # noqa: B017 (ValidationError: draft cannot close)
        close(world)
    assert not ParticipationReport.objects.exists()


def _later_changes(world):
    """Account deletion, an organisation merge and hiding an item as spam, after closing."""
    account_delete(user=world.people["alice"])
    world.org_b.merged_into = world.org_a
    world.org_b.save(update_fields=["merged_into"])
    bob_item = Contribution.objects.get(study=world.study, author=world.people["bob"])
    item_hide(study=world.study, actor=world.facilitator, item=bob_item, reason="spam")


def test_frozen_report_is_unchanged_by_deletion_merge_and_spam(client, world):
    close(world)
    report = ParticipationReport.objects.get()
    before = {fmt: download(client, world.study, fmt) for fmt in ("csv", "xlsx", "json")}
    page_before = main_part(client.get(report_url(world.study)))
    live_before = figures(study_statistics(study=world.study))

    _later_changes(world)

    live_after = figures(study_statistics(study=world.study))
    assert live_after != live_before  # the changes do move the live figures
    assert live_after["totals"]["organisations"] == 1
    report.refresh_from_db()
    assert figures(report_statistics(report)) == live_before
    after_json = read_json(download(client, world.study, "json"))
    before_json = read_json(before["json"])
    for payload in (after_json, before_json):
        payload.pop("exported_at")
    assert after_json == before_json
    assert (
        read_csv(download(client, world.study, "csv"))[BY_ORGANISATION]
        == (read_csv(before["csv"])[BY_ORGANISATION])
    )
    assert (
        read_xlsx(download(client, world.study, "xlsx"))[BY_SECTOR]
        == (read_xlsx(before["xlsx"])[BY_SECTOR])
    )
    page_after = main_part(client.get(report_url(world.study)))
    assert page_after == page_before


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_report_downloads_are_made_from_the_frozen_figures(client, world, fmt):
    close(world)
    stored = report_statistics(ParticipationReport.objects.get())
    data = download(client, world.study, fmt)
    if fmt == "json":
        payload = read_json(data)
        assert payload["tier"] == "aggregate"
        assert payload["definitions_version"] == DEFINITIONS_VERSION
        assert payload["generated_at"] == stored.generated_at
        assert payload["totals"] == {
            k: v for k, v in stored.to_dict()["totals"].items() if k in payload["totals"]
        }
        assert "participants" not in payload
        organisations = [(r["organisation"], r["participants"]) for r in payload["organisations"]]
    else:
        sheets = read_csv(data) if fmt == "csv" else read_xlsx(data)
        summary = {r["field"]: r["value"] for r in sheets[SUMMARY]}
        assert str(summary["definitions_version"]) == str(DEFINITIONS_VERSION)
        assert summary["generated_at"] == stored.generated_at
        assert str(summary["participants"]) == str(stored.totals.participants)
        assert "Participants" not in sheets
        organisations = [
            (unescape(r["organisation"]), r["participants"]) for r in sheets[BY_ORGANISATION]
        ]
    assert [(n, str(p)) for n, p in organisations] == [
        (r.name, stored.participant_display(r)) for r in stored.organisations
    ]


def test_report_page_shows_headline_tables_and_downloads(client, world):
    close(world)
    report = ParticipationReport.objects.get()
    response = client.get(report_url(world.study))
    assert response.status_code == 200
    content = response.content.decode()
    assert report.headline_en in content
    assert "Bedrift AS" in content
    assert "By sector" in content and "Over time" in content
    for fmt in ("csv", "xlsx", "json"):
        assert reverse("reports:report_download", args=[world.study.slug, fmt]) in content
    assert f"definitions version {DEFINITIONS_VERSION}" in content


def test_report_page_in_bokmaal_shows_the_bokmaal_headline(client, world):
    close(world)
    report = ParticipationReport.objects.get()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nb"
    response = client.get(report_url(world.study))
    assert report.headline_nb in response.content.decode()


def test_report_of_a_study_not_yet_closed_is_not_found_with_an_explanation(client, world):
    response = client.get(report_url(world.study))
    assert response.status_code == 404
    assert "published when a coordinator closes the study" in response.content.decode()
    url = reverse("reports:report_download", args=[world.study.slug, "csv"])
    assert client.get(url).status_code == 404


def test_unknown_report_format_is_not_found(client, world):
    close(world)
    url = reverse("reports:report_download", args=[world.study.slug, "pdf"])
    assert client.get(url).status_code == 404


def test_report_of_a_members_only_study_is_only_for_its_members(client, world):
    world.study.visibility = Visibility.MEMBERS
    world.study.save()
    close(world)
    assert client.get(report_url(world.study)).status_code == 404
    url = reverse("reports:report_download", args=[world.study.slug, "json"])
    assert client.get(url).status_code == 404
    client.force_login(world.other_coordinator)
    assert client.get(report_url(world.study)).status_code == 404
    client.force_login(world.contributor)
    assert client.get(report_url(world.study)).status_code == 200
    assert client.get(url).status_code == 200


def test_report_of_a_public_study_is_public(client, world):
    close(world)
    assert client.get(report_url(world.study)).status_code == 200
    read_json(download(client, world.study, "json"))


def test_report_bytes_parse_as_a_workbook(client, world):
    from openpyxl import load_workbook

    close(world)
    workbook = load_workbook(io.BytesIO(download(client, world.study, "xlsx")), read_only=True)
    assert workbook.sheetnames[0] == SUMMARY
