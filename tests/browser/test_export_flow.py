"""A coordinator exports XLSX; the workbook holds the figures the statistics page shows."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from accounts.models import Sector
from contributions import services as contribution_services
from studies.models import Role
from tests.browser.conftest import in_thread, sign_in_as
from tests.contributions.factories import member
from tests.factories import OrganisationFactory, StudyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPORT_TIMEOUT = 30_000


def _study_with_figures():
    study = StudyFactory(title="Shared registry", small_count_threshold=1)
    county = OrganisationFactory(name="Nordland County Council", sector=Sector.PUBLIC)
    vendor = OrganisationFactory(name="Fjord Software AS", sector=Sector.PRIVATE)
    university = OrganisationFactory(name="University of Tromsø", sector=Sector.ACADEMIA)
    a1, a2 = member(study, organisation=county), member(study, organisation=county)
    b, c = member(study, organisation=vendor), member(study, organisation=university)
    solo = member(study)
    member(study)  # a member who never posts: a member, not a participant
    coordinator = member(study, role=Role.COORDINATOR)
    create = contribution_services.contribution_create
    first = in_thread(create, study=study, author=a1, title="One door", body="x")
    in_thread(create, study=study, author=a1, title="Two doors", body="x")
    in_thread(create, study=study, author=b, title="APIs first", body="x")
    in_thread(create, study=study, author=c, title="Evaluate it", body="x")
    in_thread(create, study=study, author=solo, title="As a citizen", body="x")
    comment = contribution_services.comment_create
    in_thread(comment, contribution=first, author=a2, body="Yes")
    in_thread(comment, contribution=first, author=a2, body="And more")
    in_thread(comment, contribution=first, author=b, body="Agreed")
    return study, coordinator


def _table(page, caption: str) -> dict[str, list[str]]:
    """A statistics table on the page: row header -> its cells, as shown."""
    table = page.locator("table", has=page.locator("caption", has_text=caption)).first
    expect(table).to_be_visible()
    rows = {}
    for row in table.locator("tbody tr").all():
        header = row.locator("th").first.inner_text().strip()
        rows[header] = [cell.inner_text().strip() for cell in row.locator("td").all()]
    return rows


def _number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_the_downloaded_xlsx_holds_the_figures_of_the_statistics_page(new_page, tmp_path):
    study, coordinator = _study_with_figures()
    page = new_page(language="en", accept_downloads=True)
    page.goto("/health/")
    sign_in_as(page, coordinator)

    page.goto(f"/reports/{study.slug}/statistics/")
    totals = {k: _number(v[0]) for k, v in _table(page, "Totals").items()}
    assert totals == {
        "Participants": 5,
        "Members": 7,
        "Confirmed organisations": 3,
        "Unconfirmed organisations": 0,
        "Participants under unconfirmed claims": 0,
        "Individuals": 1,
        "Contributions": 5,
        "Comments": 3,
    }
    sectors = _table(page, "Organisations and participants by sector")

    page.goto(f"/reports/{study.slug}/exports/")
    page.get_by_label("Aggregate").check()
    page.get_by_label("XLSX").check()
    page.get_by_role("button", name="Make the export").click()
    link = page.locator(".export-status a[download]").first
    expect(link).to_be_visible(timeout=EXPORT_TIMEOUT)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    workbook = load_workbook(path, read_only=True)
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert summary["study"] == "Shared registry"
    keys = {
        "Confirmed organisations": "organisations",
        "Unconfirmed organisations": "unconfirmed_organisations",
        "Participants under unconfirmed claims": "unconfirmed_participants",
    }
    for field, shown in totals.items():
        assert summary[keys.get(field, field.lower())] == shown, field
    by_sector = list(workbook["By sector"].iter_rows(values_only=True))
    header, rows = by_sector[0], by_sector[1:]
    label = header.index("sector_label")
    exported = {
        row[label]: [
            row[header.index(c)]
            for c in ("organisations", "participants", "contributions", "comments")
        ]
        for row in rows
    }
    assert set(exported) == set(sectors)
    for name, cells in sectors.items():
        # The page shows "–" for the organisations of people who posted for none.
        shown = [None if c == "–" else _number(c) for c in cells]
        exported_row = exported[name]
        if shown[0] is None:
            exported_row = [None, *exported_row[1:]]
        assert exported_row == shown, name
    organisations = {
        row[0]: row for row in list(workbook["By organisation"].iter_rows(values_only=True))[1:]
    }
    assert set(organisations) == {
        "Nordland County Council",
        "Fjord Software AS",
        "University of Tromsø",
    }
    assert page.console_errors == []
