"""Complementary suppression: no withheld figure can be worked out from what one viewer sees.

The attacker (reports.disclosure.attack) writes down every relation between the
published cells that holds in the data — organisations to sector, sectors to
totals, individuals, the headline's "of them", the daily series to the totals,
participants bounded by items — and narrows every unknown by subtraction until
nothing changes. Each study shape below is hand-made; the test checks that
before the method the attacker does recover a small count (so it is a real
attacker), and that after it no small count has a single possible value.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from reports.disclosure import (
    Withheld,
    attack,
    disclosed,
    primary_cells,
    protect,
    public_tables,
    withheld_label,
)
from reports.statistics import DayRow, OrganisationRow, SectorRow, StudyStatistics, Totals


def study(orgs, individuals=0, k=3, days=1):
    """orgs: (name, sector, participants, contributions); individuals: people, one item each."""
    organisations = [
        OrganisationRow(i, name, "", sector, people, items, 0)
        for i, (name, sector, people, items) in enumerate(orgs, 1)
    ]
    sectors: dict[str, SectorRow] = {}
    for row in organisations:
        s = sectors.setdefault(row.sector, SectorRow(row.sector, 0, 0, 0, 0))
        s.organisations += 1
        s.participants += row.participants
        s.contributions += row.contributions
    if individuals:
        sectors[""] = SectorRow("", 0, individuals, individuals, 0)
    people = sum(s.participants for s in sectors.values())
    items = sum(s.contributions for s in sectors.values())
    totals = Totals(
        participants=people,
        members=people + 2,
        organisations=len(organisations),
        individuals=individuals,
        contributions=items,
        comments=0,
        for_organisations=people - individuals,
    )
    # The daily series: everyone on the first day but one person a day after.
    series, left_people, left_items = [], people, items
    for n in range(days):
        new = left_people if n == days - 1 else min(1, left_people)
        its = left_items if n == days - 1 else min(1, left_items)
        left_people, left_items = left_people - new, left_items - its
        series.append(
            DayRow(f"2026-03-{n + 1:02d}", its, 0, new, items - left_items, people - left_people)
        )
    return StudyStatistics(
        2,
        "2026-03-31T00:00:00+00:00",
        1,
        "s",
        "S",
        k,
        totals,
        list(sectors.values()),
        organisations,
        series,
    )


SHAPES = {
    # The issue's: civil society 4 = Seniornett Norge 3 + one organisation shown "<3".
    "the reported leak": ([("Seniornett Norge", "civil", 3, 5), ("Lag", "civil", 1, 1)], 0),
    "one organisation": ([("Alene", "civil", 2, 2)], 0),
    "one organisation and individuals": ([("Alene", "civil", 2, 3)], 4),
    "one sector": ([("A", "public", 1, 2), ("B", "public", 2, 2), ("C", "public", 6, 8)], 3),
    "one small organisation per sector": (
        [("A", "public", 2, 2), ("B", "private", 5, 5), ("C", "academia", 1, 4)],
        2,
    ),
    "two small organisations that add up": ([("A", "civil", 1, 1), ("B", "civil", 1, 1)], 1),
    "one person": ([("A", "civil", 1, 1)], 0),
    "one person as themselves": ([], 1),
    "many": (
        [
            (f"O{i}", s, p, p + 1)
            for i, (s, p) in enumerate(
                [
                    ("public", 1),
                    ("public", 7),
                    ("private", 2),
                    ("private", 3),
                    ("private", 9),
                    ("academia", 4),
                    ("civil", 1),
                    ("civil", 2),
                    ("other", 12),
                ]
            )
        ],
        6,
    ),
}


@pytest.mark.parametrize("days", [1, 3])
@pytest.mark.parametrize("shape", SHAPES)
def test_no_small_count_can_be_worked_out_from_any_published_table(shape, days):
    orgs, individuals = SHAPES[shape]
    figures = study(orgs, individuals, days=days)
    withheld = protect(figures)
    ranges = attack(figures, withheld)
    for org_id in primary_cells(figures):
        lo, hi = ranges[("org", org_id, "p")]
        assert lo < hi, (shape, org_id, lo, hi)
    # Nothing shown exactly is below k, and every withheld cell is absent from the tables.
    tables = public_tables(figures)
    for row, original in zip(tables["organisations"], figures.organisations, strict=True):
        if original.id in primary_cells(figures):
            assert row["participants"] is None and row["contributions"] is None
        elif row["participants"] is not None:
            assert row["participants"] >= figures.small_count_threshold


@pytest.mark.parametrize(
    "shape", ["the reported leak", "one organisation", "one small organisation per sector"]
)
def test_the_attacker_recovers_a_small_count_withheld_alone(shape):
    """Withholding only the small organisations (as version 1 did) is undone by subtraction."""
    figures = study(*SHAPES[shape])
    assert disclosed(figures, Withheld(organisations=primary_cells(figures)))


def test_the_reported_subtraction_no_longer_works():
    figures = study(*SHAPES["the reported leak"])
    tables = public_tables(figures)
    civil = next(r for r in tables["sectors"] if r["sector"] == "civil")
    shown = {r["name"]: r["participants"] for r in tables["organisations"]}
    # Both organisations are withheld: "civil society 4 minus Seniornett Norge 3" has no operand.
    assert shown == {"Seniornett Norge": None, "Lag": None}
    assert civil["participants"] == 4


def test_a_study_too_small_to_publish_says_so_in_both_languages():
    figures = study(*SHAPES["one organisation"])
    tables = public_tables(figures)
    assert tables["withheld"]["totals"] is True
    assert tables["totals"]["participants"] is None
    assert all(d["new_participants"] is None for d in tables["days"])
    assert tables["headline"]["en"] == "The figures of this study are too small to publish"
    assert tables["headline"]["nb"] == "Tallene for denne studien er for små til å publiseres"


def test_nothing_is_withheld_without_small_organisations():
    figures = study([("A", "civil", 3, 3), ("B", "public", 4, 4)], 1)
    assert protect(figures) == Withheld()
    assert public_tables(figures)["totals"]["participants"] == 8


def test_a_threshold_of_one_withholds_nothing():
    figures = study(*SHAPES["one organisation"], k=1)
    assert not protect(figures).any


def test_withheld_is_a_stable_key_in_data_and_reads_in_bokmal_on_pages():
    figures = study(*SHAPES["the reported leak"])
    with translation.override("nb"):
        assert public_tables(figures)["organisations"][0]["participants_display"] == "withheld"
        assert withheld_label() == "skjult"


# --- every surface one viewer sees -------------------------------------------------------


@pytest.fixture
def reported_leak(db):
    """The issue's study: civil society 4 = Seniornett Norge 3 + Lag 1."""
    from accounts.models import Sector
    from tests.factories import (
        ContributionFactory,
        OrganisationFactory,
        StudyFactory,
        UserFactory,
    )

    study = StudyFactory(small_count_threshold=3)
    seniornett = OrganisationFactory(name="Seniornett Norge", sector=Sector.CIVIL)
    lag = OrganisationFactory(name="Lag", sector=Sector.CIVIL)
    for org, people in ((seniornett, 3), (lag, 1)):
        for _n in range(people):
            ContributionFactory(
                study=study, author=UserFactory(), acted_for=org, acted_for_sector=Sector.CIVIL
            )
    return study


def test_api_page_and_aggregate_export_withhold_the_same_cells(client, reported_leak):
    import io
    import json

    from django.urls import reverse
    from rest_framework.test import APIClient

    from api.exports import study_export

    study = reported_leak
    body = APIClient().get(f"/api/v1/studies/{study.slug}/statistics/").json()
    assert {o["name"]: o["participants"] for o in body["organisations"]} == {
        "Lag": None,
        "Seniornett Norge": None,
    }
    assert [s["participants"] for s in body["sectors"]] == [4]
    exported = json.load(
        io.BytesIO(study_export(study=study, tier="aggregate", fmt="json").content)
    )
    assert {o["organisation"]: o["participants"] for o in exported["organisations"]} == {
        "Lag": "withheld",
        "Seniornett Norge": "withheld",
    }
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(reverse("reports:statistics", args=[study.slug])).content.decode()
    table = page.split('statistics-organisations">')[1].split("</table>")[0]
    assert table.count('<td class="num">withheld</td>') == 6  # participants, items of both
