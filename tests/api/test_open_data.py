"""The bulk open-data download of a closed study."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from studies.models import StudyStatus
from tests.api.factories import closed_study, coordinator_of, members_only_study, token_for
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

FILES = {
    "README.md",
    "data-dictionary.csv",
    "studies.csv",
    "sections.csv",
    "contributions.csv",
    "comments.csv",
    "statistics.csv",
}


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.content))


def _rows(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


@pytest.fixture
def closed(db):
    return closed_study()


def test_closed_study_downloads_a_zip_of_csv_files_with_a_data_dictionary(api, closed):
    response = api.get(f"/api/v1/studies/{closed['study'].slug}/open-data/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"{closed['study'].slug}-open-data.zip" in response["Content-Disposition"]
    archive = _zip(response)
    assert set(archive.namelist()) == FILES
    readme = archive.read("README.md").decode()
    assert "Data dictionary" in readme and "contributions.csv" in readme
    assert "Statistics definitions, version 2" in readme and "Counted item" in readme
    dictionary = _rows(archive, "data-dictionary.csv")
    described = {(r["file"], r["column"]) for r in dictionary}
    for name in FILES - {"README.md", "data-dictionary.csv"}:
        header = next(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
        assert {(name, column) for column in header} <= described, name


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_data_dictionary_describes_every_column_in_english_and_bokmal(api, closed, language):
    response = api.get(
        f"/api/v1/studies/{closed['study'].slug}/open-data/", HTTP_ACCEPT_LANGUAGE=language
    )
    dictionary = {(r["file"], r["column"]): r for r in _rows(_zip(response), "data-dictionary.csv")}
    row = dictionary[("sections.csv", "title")]
    assert (row["description"], row["description_nb"]) == (
        "Title of the section.",
        "Delens tittel.",
    )
    assert all(r["description"] and r["description_nb"] for r in dictionary.values())
    untranslated = [key for key, r in dictionary.items() if r["description"] == r["description_nb"]]
    assert untranslated == []


def test_open_data_holds_published_text_and_markers_but_no_pending_items(api, closed):
    archive = _zip(api.get(f"/api/v1/studies/{closed['study'].slug}/open-data/"))
    contributions = {int(r["id"]): r for r in _rows(archive, "contributions.csv")}
    assert set(contributions) == {closed[k].pk for k in ("published", "hidden", "removed")}
    assert contributions[closed["published"].pk]["author"] == "Kari Nordmann"
    hidden = contributions[closed["hidden"].pk]
    assert hidden["reason"] == "spam" and hidden["title"] == "" and hidden["body"] == ""
    content = b"".join(archive.read(name) for name in archive.namelist())
    assert b"secret spam text" not in content
    assert b"Not yet approved" not in content and b"pending words" not in content
    assert b"@example.org" not in content and b"private note" not in content


def test_open_data_escapes_cells_a_spreadsheet_would_read_as_formulas(api, closed):
    archive = _zip(api.get(f"/api/v1/studies/{closed['study'].slug}/open-data/"))
    comments = {int(r["id"]): r for r in _rows(archive, "comments.csv")}
    assert comments[closed["reply"].pk]["body"] == "'=HYPERLINK(1)"


def test_open_data_statistics_carry_the_definitions_version(api, closed):
    archive = _zip(api.get(f"/api/v1/studies/{closed['study'].slug}/open-data/"))
    statistics = _rows(archive, "statistics.csv")
    assert {r["definitions_version"] for r in statistics} == {"2"}
    totals = {r["measure"]: r["value"] for r in statistics if r["table"] == "totals"}
    # One small organisation: withheld, with the totals that would give it away.
    assert totals["contributions"] == "withheld"
    org = [r for r in statistics if r["table"] == "organisation" and r["measure"] == "participants"]
    assert org and org[0]["value"] == "withheld"
    study = _rows(archive, "studies.csv")[0]
    assert study["definitions_version"] == "2" and study["slug"] == closed["study"].slug


def test_archived_study_has_open_data_too(api):
    study = StudyFactory(status=StudyStatus.ARCHIVED)
    assert api.get(f"/api/v1/studies/{study.slug}/open-data/").status_code == 200


def test_open_study_has_no_open_data_yet(api):
    study = StudyFactory(status=StudyStatus.OPEN)
    response = api.get(f"/api/v1/studies/{study.slug}/open-data/")
    assert response.status_code == 409
    assert response.json()["code"] == "not_closed"


def test_open_data_errors_are_json_even_when_a_zip_was_asked_for(api):
    study = StudyFactory(status=StudyStatus.OPEN)
    response = api.get(f"/api/v1/studies/{study.slug}/open-data/", HTTP_ACCEPT="application/zip")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("kind", ["members", "draft"])
def test_closed_members_only_or_draft_study_has_no_open_data(api, kind):
    study = (
        members_only_study(status=StudyStatus.CLOSED)
        if kind == "members"
        else StudyFactory(status=StudyStatus.DRAFT)
    )
    _t, secret = token_for(coordinator_of(study))
    assert api.get(f"/api/v1/studies/{study.slug}/open-data/").status_code == 404
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(f"/api/v1/studies/{study.slug}/open-data/").status_code == 404


def test_open_data_with_revoked_token_is_401(api, closed):
    from django.utils import timezone

    token, secret = token_for(coordinator_of(closed["study"]))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(f"/api/v1/studies/{closed['study'].slug}/open-data/").status_code == 401


def test_open_data_is_reused_until_the_data_changes_and_answers_304(api, closed):
    from tests.factories import CommentFactory

    url = f"/api/v1/studies/{closed['study'].slug}/open-data/"
    first = api.get(url)
    assert first["Last-Modified"] and first["ETag"]
    again = api.get(url)
    assert again.content == first.content
    assert api.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert api.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    CommentFactory(contribution=closed["published"], body="A late remark")
    changed = api.get(url)
    assert changed["ETag"] != first["ETag"]
    assert b"A late remark" in _zip(changed).read("comments.csv")


def test_open_data_asked_for_after_an_account_deletion_has_no_trace_of_the_name(
    api, closed, django_capture_on_commit_callbacks
):
    from accounts.services import account_delete

    url = f"/api/v1/studies/{closed['study'].slug}/open-data/"
    before = api.get(url).content
    assert b"Kari Nordmann" in _zip_content(before)  # and the archive is now kept
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=closed["published"].author)
    after = _zip_content(api.get(url).content)
    assert b"Kari Nordmann" not in after


def _zip_content(raw: bytes) -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(raw))
    return b"".join(archive.read(name) for name in archive.namelist())
