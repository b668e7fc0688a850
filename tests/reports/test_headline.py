"""The headline is true for people who took part as themselves, in English and bokmål.

0, 1 and many people, organisations, sectors and individuals; figures written by hand.
"""

from __future__ import annotations

import pytest

from accounts.models import Sector
from reports.statistics import SectorRow, StudyStatistics, Totals, headline


def figures(people, organised, organisations, sectors, contributions=3, comments=1):
    rows = [SectorRow(code, 1, 1, 1, 0) for code in sectors]
    if people > organised:
        rows.append(SectorRow("", 0, people - organised, 1, 0))
    totals = Totals(
        participants=people,
        members=people,
        organisations=organisations,
        individuals=people - organised,
        contributions=contributions,
        comments=comments,
        for_organisations=organised,
    )
    return StudyStatistics(2, "2026-03-31T00:00:00+00:00", 1, "s", "S", 3, totals, rows)


CASES = [
    # (people, organised, organisations, sectors, contributions, comments), English, bokmål
    (
        (0, 0, 0, [], 0, 0),
        "No one has contributed yet.",
        "Ingen har bidratt ennå.",
    ),
    (
        (1, 0, 0, [], 1, 0),
        "1 person contributed 1 contribution and 0 comments",
        "1 person bidro med 1 innspill og 0 kommentarer",
    ),
    (
        (7, 0, 0, [], 9, 2),
        "7 people contributed 9 contributions and 2 comments",
        "7 personer bidro med 9 innspill og 2 kommentarer",
    ),
    (
        (1, 1, 1, [Sector.CIVIL], 1, 1),
        "1 person contributed for 1 organisation in civil society, with 1 contribution and "
        "1 comment",
        "1 person bidro for 1 organisasjon i sivilsamfunnet, med 1 innspill og 1 kommentar",
    ),
    (
        (7, 7, 3, [Sector.PUBLIC, Sector.ACADEMIA], 8, 0),
        "7 people contributed, all of them for 3 organisations in the public sector and "
        "academia, with 8 contributions and 0 comments",
        "7 personer bidro, alle for 3 organisasjoner i offentlig sektor og akademia, med "
        "8 innspill og 0 kommentarer",
    ),
    (
        # The "7 people from 3 organisations" when 3 of the 7 took part as themselves.
        (7, 4, 3, [Sector.PRIVATE], 7, 5),
        "7 people contributed, 4 of them for 3 organisations in the private sector, with "
        "7 contributions and 5 comments",
        "7 personer bidro, 4 av dem for 3 organisasjoner i privat sektor, med 7 innspill og "
        "5 kommentarer",
    ),
    (
        (2, 1, 1, [Sector.OTHER], 2, 0),
        "2 people contributed, 1 of them for 1 organisation in other sectors, with "
        "2 contributions and 0 comments",
        "2 personer bidro, 1 av dem for 1 organisasjon i andre sektorer, med 2 innspill og "
        "0 kommentarer",
    ),
    (
        (
            104,
            93,
            16,
            [Sector.PUBLIC, Sector.PRIVATE, Sector.ACADEMIA, Sector.CIVIL],
            1204,
            1,
        ),
        "104 people contributed, 93 of them for 16 organisations in the public sector, the "
        "private sector, academia and civil society, with 1,204 contributions and 1 comment",
        "104 personer bidro, 93 av dem for 16 organisasjoner i offentlig sektor, privat "
        "sektor, akademia og sivilsamfunnet, med 1\u202f204 innspill og 1 kommentar",
    ),
]


@pytest.mark.parametrize(("shape", "english", "bokmal"), CASES)
def test_headline_for_people_organisations_sectors_and_individuals(shape, english, bokmal):
    people, organised, organisations, sectors, contributions, comments = shape
    statistics = figures(people, organised, organisations, sectors, contributions, comments)
    assert headline(statistics, "en") == english
    assert headline(statistics, "nb") == bokmal


def test_a_report_frozen_before_the_count_of_people_for_organisations_falls_back():
    statistics = figures(7, 4, 3, [Sector.PRIVATE])
    statistics.totals.for_organisations = None  # reports frozen under version 1
    assert headline(statistics, "en").startswith("7 people contributed, 4 of them for 3 ")
