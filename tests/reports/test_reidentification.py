"""A pseudonymous export cannot be joined with the study's public pages to name anyone.

The join that worked before: a row's ``first_activity`` equals the public time
of the person's first item (113 of 115 pseudonyms were named that way). The
test plays it against the public API with every person's first item public.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from rest_framework.test import APIClient

from accounts.models import Sector
from reports.exports import document_for, write
from reports.statistics import study_participant_rows, study_statistics
from tests.factories import ContributionFactory, OrganisationFactory, StudyFactory, UserFactory

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday


@pytest.fixture
def study(db):
    study = StudyFactory(small_count_threshold=3)
    big = OrganisationFactory(name="Stor etat", sector=Sector.PUBLIC)
    lone = OrganisationFactory(name="Eneste forening", sector=Sector.CIVIL)
    for n in range(10):
        person = UserFactory(display_name=f"Person {n}")
        org = big if n < 6 else (lone if n == 6 else None)
        for i in range(n % 3 + 1):  # 1 to 3 items, first ones at distinct times
            ContributionFactory(
                study=study,
                author=person,
                acted_for=org,
                acted_for_sector=org.sector if org else "",
                created_at=START + dt.timedelta(hours=7 * n + 50 * i),
            )
    return study


def pseudonymous(study) -> dict:
    document = document_for(
        statistics=study_statistics(study=study),
        tier="pseudonymous",
        participants=study_participant_rows(study=study),
    )
    out = io.BytesIO()
    write(document, "json", out)
    return json.loads(out.getvalue())


def public_items(study) -> list[dict]:
    response = APIClient().get(f"/api/v1/studies/{study.slug}/contributions/?page_size=100")
    assert response.status_code == 200
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def test_first_activity_links_no_pseudonym_to_a_public_item(study):
    items = public_items(study)
    assert len(items) == 19  # every item is public, with its author and time
    times = {}
    for item in items:
        times.setdefault(item["created_at"], set()).add(item["author"])
    rows = pseudonymous(study)["participants"]
    assert len({r["pseudonym"] for r in rows}) == 10
    linked = set()
    for row in rows:
        for value in (row["first_activity"], row["last_activity"]):
            for when, authors in times.items():
                if value == when or value[:16] == when[:16] or value[:10] == when[:10]:
                    linked |= authors
    assert linked == set()


def test_participant_rows_hold_weeks_bands_and_no_organisation_of_one(study):
    rows = pseudonymous(study)["participants"]
    assert {r["first_activity"] for r in rows} <= {"2026-W10", "2026-W11"}
    assert {r["contributions"] for r in rows} <= {"1", "2–4"}
    # "Eneste forening" has one participant: its name would name them.
    assert "Eneste forening" not in {r["organisation"] for r in rows}
    assert {r["sector"] for r in rows if not r["organisation"]} == {Sector.CIVIL, ""}
    assert {r["organisation"] for r in rows} == {"Stor etat", ""}
    assert [r["pseudonym"] for r in rows] == sorted(r["pseudonym"] for r in rows)


def test_no_combination_of_a_row_singles_out_a_public_author_by_its_counts(study):
    """Each row's (organisation, contributions band) fits at least two public authors."""
    items = public_items(study)
    per_author: dict[tuple, int] = {}
    for item in items:
        key = (
            item["author"],
            (item.get("organisation") or {}).get("name", "")
            if isinstance(item.get("organisation"), dict)
            else item.get("organisation") or "",
        )
        per_author[key] = per_author.get(key, 0) + 1
    from reports.exports import count_band

    for row in pseudonymous(study)["participants"]:
        if not row["organisation"]:
            continue
        fits = [
            a
            for (a, org), n in per_author.items()
            if org == row["organisation"] and count_band(n) == row["contributions"]
        ]
        assert len(fits) >= 2, row
