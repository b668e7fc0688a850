"""What the public may see of a study's figures: complementary suppression with an audit.

Every published surface that is not for the study's own team (the public
statistics page, the API and open data, the aggregate export and the frozen
report) is built by ``public_tables`` from one StudyStatistics. The method
(docs/statistics.md, "Small counts"):

1. **Primary cells**: organisations with 1 to k-1 participants (k is the
   study's small-count threshold). Their participants, contributions and
   comments are withheld: items bound participants (each participant has at
   least one item), so they go together.
2. **Every withheld cell looks the same** ("withheld", null in JSON), so a
   reader cannot tell a small organisation from one withheld to protect it.
3. **Audit and complementary suppression**: ``attack`` plays the reader. It
   writes down every relation between the published cells that holds in the
   data (sector = sum of its organisations, total = sum of the sectors,
   individuals = the individuals row, the days sum to the totals, participants
   <= items, each listed organisation has at least one participant, a withheld
   organisation has no more participants than the smallest shown one of its
   sector) and narrows each unknown cell's range by subtraction until nothing
   changes. While a primary cell is pinned to one value, one more cell is
   withheld, in this order: the smallest shown organisation of its sector;
   the sector's row; the smallest shown organisation of another sector; the
   smallest other sector row (individuals included); and last the totals
   with the daily series, which leaves nothing to subtract from.

``attack`` is also what the tests run against every table one viewer sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from reports.statistics import (
    INDIVIDUALS,
    UNCONFIRMED,
    StudyStatistics,
    people_for_organisations,
)

INF = 10**9
Cell = tuple


@dataclass
class Withheld:
    """Which cells the public does not see."""

    organisations: set[int] = field(default_factory=set)
    sectors: set[str] = field(default_factory=set)
    totals: bool = False

    @property
    def any(self) -> bool:
        return bool(self.organisations or self.sectors or self.totals)


def primary_cells(statistics: StudyStatistics) -> set[int]:
    k = statistics.small_count_threshold
    if k <= 1:
        return set()
    return {row.id for row in statistics.organisations if 0 < row.participants < k}


# --- the reader's derivations ----------------------------------------------------


@dataclass
class System:
    """Unknowns with integer ranges and linear relations (+1/-1 coefficients) between them."""

    bounds: dict[Cell, list[int]] = field(default_factory=dict)
    relations: list[tuple[list[tuple[int, Cell]], str, int]] = field(default_factory=list)

    def known(self, cell: Cell, value: int) -> None:
        self.bounds[cell] = [value, value]

    def unknown(self, cell: Cell, lo: int = 0, hi: int = INF) -> None:
        self.bounds[cell] = [lo, hi]

    def relate(self, terms: list[tuple[int, Cell]], op: str, rhs: int = 0) -> None:
        self.relations.append((terms, op, rhs))

    def sum_equals(self, whole: Cell, parts: list[Cell]) -> None:
        self.relate([(1, whole), *((-1, p) for p in parts)], "=", 0)

    def solve(self, rounds: int = 200) -> dict[Cell, tuple[int, int]]:
        """Narrow every range by subtraction until nothing changes (interval propagation).

        Each relation is one pass: the sums of the other terms' bounds are the
        relation's sums less the term's own part (INF parts are counted apart).
        Bounds only narrow, so a pass that reads a bound narrowed earlier in the
        same pass stays sound.
        """
        b = self.bounds
        for _round in range(rounds):
            changed = False
            for terms, op, rhs in self.relations:
                parts = []
                lo_sum = hi_sum = lo_inf = hi_inf = 0
                for a, x in terms:
                    lo, hi = b[x]
                    # a*x ranges over [lo_c, hi_c]; None is infinite (-INF / +INF).
                    lo_c = a * lo if a > 0 else (None if hi >= INF else a * hi)
                    hi_c = (None if hi >= INF else a * hi) if a > 0 else a * lo
                    parts.append((lo_c, hi_c))
                    if lo_c is None:
                        lo_inf += 1
                    else:
                        lo_sum += lo_c
                    if hi_c is None:
                        hi_inf += 1
                    else:
                        hi_sum += hi_c
                for (a, x), (lo_c, hi_c) in zip(terms, parts, strict=True):
                    rest_lo_inf = lo_inf - (lo_c is None)
                    rest_hi_inf = hi_inf - (hi_c is None)
                    upper = None if rest_lo_inf else rhs - (lo_sum - (lo_c or 0))  # a*x <= upper
                    lower = (
                        None if rest_hi_inf or op != "=" else rhs - (hi_sum - (hi_c or 0))
                    )  # a*x >= lower
                    lo_x, hi_x = b[x]
                    new_lo, new_hi = lo_x, hi_x
                    if a > 0:
                        if upper is not None:
                            new_hi = min(hi_x, upper)
                        if lower is not None:
                            new_lo = max(lo_x, lower)
                    else:
                        if upper is not None:
                            new_lo = max(lo_x, -upper)
                        if lower is not None:
                            new_hi = min(hi_x, -lower)
                    if (new_lo, new_hi) != (lo_x, hi_x):
                        b[x] = [new_lo, new_hi]
                        changed = True
            if not changed:
                break
        return {cell: (lo, hi) for cell, (lo, hi) in b.items()}


def _sum_relation(system: System, whole: Cell, parts: list[Cell], exact: bool) -> None:
    """whole = sum(parts) when that holds in the data, else max(parts) <= whole <= sum(parts)."""
    if exact:
        system.sum_equals(whole, parts)
        return
    system.relate([(1, whole), *((-1, p) for p in parts)], "<=", 0)
    for part in parts:
        system.relate([(1, part), (-1, whole)], "<=", 0)


def reader_system(statistics: StudyStatistics, withheld: Withheld) -> System:
    """What a reader of the public tables knows: published cells and the relations that hold."""
    s, t = System(), statistics.totals
    orgs_by_sector: dict[str, list] = {}
    for row in statistics.organisations:
        orgs_by_sector.setdefault(row.sector, []).append(row)

    def put(cell: Cell, value: int, hidden: bool, lo: int = 0) -> None:
        if hidden:
            s.unknown(cell, lo)
        else:
            s.known(cell, value)

    def put_row(kind: str, key, row, hidden: bool) -> None:
        """A table row's three cells; each participant has at least one item."""
        for measure, value in (
            ("p", row.participants),
            ("c", row.contributions),
            ("m", row.comments),
        ):
            put((kind, key, measure), value, hidden, 1 if measure == "p" else 0)
        s.relate([(1, (kind, key, "p")), (-1, (kind, key, "c")), (-1, (kind, key, "m"))], "<=")

    for row in statistics.organisations:
        put_row("org", row.id, row, row.id in withheld.organisations)
        # A listed organisation has a participant.
        s.relate([(-1, ("org", row.id, "c")), (-1, ("org", row.id, "m"))], "<=", -1)
    for rows in orgs_by_sector.values():
        shown = [r.participants for r in rows if r.id not in withheld.organisations]
        if shown:  # withheld organisations are never larger than the smallest shown one
            for r in rows:
                if r.id in withheld.organisations:
                    s.relate([(1, ("org", r.id, "p"))], "<=", min(shown))
    sector_rows = {row.sector: row for row in statistics.sectors}
    for row in statistics.sectors:
        put_row("sector", row.sector, row, row.sector in withheld.sectors)
        orgs = orgs_by_sector.get(row.sector, [])
        if row.sector != INDIVIDUALS and orgs:
            exact = row.participants == sum(r.participants for r in orgs)
            _sum_relation(s, ("sector", row.sector, "p"), [("org", r.id, "p") for r in orgs], exact)
            for measure, attr in (("c", "contributions"), ("m", "comments")):
                if getattr(row, attr) == sum(getattr(r, attr) for r in orgs):
                    s.sum_equals(
                        ("sector", row.sector, measure), [("org", r.id, measure) for r in orgs]
                    )
    hide_totals = withheld.totals
    for measure, value in (
        ("p", t.participants),
        ("c", t.contributions),
        ("m", t.comments),
        ("i", t.individuals),
        ("h", people_for_organisations(statistics)),
    ):
        hidden = hide_totals or (measure == "i" and INDIVIDUALS in withheld.sectors)
        put(("total", measure), value, hidden)
    unconfirmed = t.unconfirmed_participants or 0
    put(
        ("total", "u"),
        unconfirmed,
        hide_totals or UNCONFIRMED in withheld.sectors,
    )
    if UNCONFIRMED in sector_rows:
        s.sum_equals(("total", "u"), [("sector", UNCONFIRMED, "p")])
    else:
        s.relate([(1, ("total", "u"))], "<=", 0)
    if INDIVIDUALS in sector_rows:
        s.sum_equals(("total", "i"), [("sector", INDIVIDUALS, "p")])
    else:
        s.relate([(1, ("total", "i"))], "<=", 0)
    codes = [row.sector for row in statistics.sectors]
    _sum_relation(
        s,
        ("total", "p"),
        [("sector", c, "p") for c in codes],
        t.participants == sum(row.participants for row in statistics.sectors),
    )
    for measure in ("c", "m"):
        s.sum_equals(("total", measure), [("sector", c, measure) for c in codes])
    # The sector rows of confirmed organisations (not individuals, not unconfirmed claims).
    org_codes = [c for c in codes if c not in (INDIVIDUALS, UNCONFIRMED)]
    if org_codes:
        h = people_for_organisations(statistics)
        _sum_relation(
            s,
            ("total", "h"),
            [("sector", c, "p") for c in org_codes],
            h == sum(sector_rows[c].participants for c in org_codes),
        )
    # people = people for organisations + people who posted as themselves + people
    # under unconfirmed claims, when no one is in two of these (else at most that)
    s.relate([(1, ("total", "h")), (-1, ("total", "p"))], "<=")
    s.relate([(1, ("total", "i")), (-1, ("total", "p"))], "<=")
    s.relate([(1, ("total", "u")), (-1, ("total", "p"))], "<=")
    parts = [("total", "h"), ("total", "i"), ("total", "u")]
    if t.participants == people_for_organisations(statistics) + t.individuals + unconfirmed:
        s.sum_equals(("total", "p"), parts)
    else:
        s.relate([(1, ("total", "p")), *((-1, part) for part in parts)], "<=")
    # The daily series: new participants and items per day add up to the totals.
    for day in statistics.days:
        for measure, value in (
            ("p", day.new_participants),
            ("c", day.contributions),
            ("m", day.comments),
        ):
            put(("day", day.day, measure), value, hide_totals)
    for measure in ("p", "c", "m"):
        if statistics.days:
            s.sum_equals(("total", measure), [("day", d.day, measure) for d in statistics.days])
    return s


def attack(statistics: StudyStatistics, withheld: Withheld) -> dict[Cell, tuple[int, int]]:
    """Every range a reader can derive for every cell of the public tables."""
    return reader_system(statistics, withheld).solve()


def disclosed(statistics: StudyStatistics, withheld: Withheld) -> list[int]:
    """Primary cells (organisations below k) whose participant count a reader can pin down."""
    ranges = attack(statistics, withheld)
    return [
        org_id
        for org_id in sorted(primary_cells(statistics))
        if ranges[("org", org_id, "p")][0] == ranges[("org", org_id, "p")][1]
    ]


def protect(statistics: StudyStatistics) -> Withheld:
    """The primary cells plus the fewest further cells (greedily) that make none derivable."""
    withheld = Withheld(organisations=primary_cells(statistics))
    if not withheld.organisations:
        return withheld
    by_id = {row.id: row for row in statistics.organisations}

    def smallest_org(same: bool, sector: str):
        rows = [
            r
            for r in statistics.organisations
            if (r.sector == sector) == same and r.id not in withheld.organisations
        ]
        return min(
            rows,
            key=lambda r: (r.participants, r.contributions + r.comments, r.name.casefold(), r.id),
            default=None,
        )

    for _step in range(2 * (len(statistics.organisations) + len(statistics.sectors)) + 2):
        found = disclosed(statistics, withheld)
        if not found:
            return withheld
        # One more cell in every sector with a pinned cell; across sectors
        # only when a sector has nothing left of its own to withhold.
        progressed = False
        for sector in sorted({by_id[org_id].sector for org_id in found}):
            if (row := smallest_org(True, sector)) is not None:
                withheld.organisations.add(row.id)
                progressed = True
            elif sector not in withheld.sectors:
                withheld.sectors.add(sector)
                progressed = True
        if progressed:
            continue
        sector = by_id[found[0]].sector
        other_sectors = sorted(
            (r for r in statistics.sectors if r.sector not in withheld.sectors),
            key=lambda r: (r.participants, r.contributions + r.comments, r.sector),
        )
        if (row := smallest_org(False, sector)) is not None:
            withheld.organisations.add(row.id)
        elif other_sectors:
            withheld.sectors.add(other_sectors[0].sector)
        else:
            break
    # Nothing is left to subtract from: only the organisation counts remain.
    withheld.totals = True
    withheld.sectors |= {r.sector for r in statistics.sectors}
    return withheld


# --- the published tables --------------------------------------------------------


# In files and the API (stable for programs); pages show withheld_label().
WITHHELD = "withheld"


def withheld_label() -> str:
    return str(_("withheld"))


def _published_counts(row, hidden: bool) -> dict:
    """A sector's or organisation's three counts as published: None where withheld."""
    return {
        key: None if hidden else getattr(row, key)
        for key in ("participants", "contributions", "comments")
    }


def public_tables(statistics: StudyStatistics) -> dict[str, Any]:
    """The figures the public sees, as JSON-ready data: withheld cells are None.

    The one source for the public statistics page, the API, open data, the
    aggregate export and the frozen report's public page and downloads.
    """
    from reports.statistics import headline

    withheld = protect(statistics)
    t = statistics.totals
    hide_totals = withheld.totals
    hide_individuals = hide_totals or INDIVIDUALS in withheld.sectors
    hide_unconfirmed = hide_totals or UNCONFIRMED in withheld.sectors
    totals = {
        "participants": None if hide_totals else t.participants,
        "members": t.members,
        "organisations": t.organisations,
        # Version 2: organisations named only in unconfirmed claims, and the people
        # who posted under such claims (None in figures frozen under version 1).
        "unconfirmed_organisations": t.unconfirmed_organisations,
        "unconfirmed_participants": (
            None
            if hide_unconfirmed or t.unconfirmed_participants is None
            else t.unconfirmed_participants
        ),
        "individuals": None if hide_individuals else t.individuals,
        "contributions": None if hide_totals else t.contributions,
        "comments": None if hide_totals else t.comments,
    }
    sectors = []
    for row in statistics.sectors:
        hidden = row.sector in withheld.sectors
        sectors.append(
            {
                "sector": row.sector,
                "organisations": row.organisations,
                **_published_counts(row, hidden),
            }
        )
    organisations = []
    for row in statistics.organisations:
        hidden = row.id in withheld.organisations
        entry = {
            "name": row.name,
            "org_number": row.org_number or "",
            "sector": row.sector,
            **_published_counts(row, hidden),
        }
        entry["participants_display"] = WITHHELD if hidden else str(row.participants)
        organisations.append(entry)
    days = []
    for day in statistics.days:
        days.append(
            {
                "day": day.day,
                "contributions": None if hide_totals else day.contributions,
                "comments": None if hide_totals else day.comments,
                "new_participants": None if hide_totals else day.new_participants,
                "cumulative_items": None if hide_totals else day.cumulative_items,
                "cumulative_participants": None if hide_totals else day.cumulative_participants,
            }
        )
    return {
        "definitions_version": statistics.definitions_version,
        "generated_at": statistics.generated_at,
        "small_count_threshold": statistics.small_count_threshold,
        "headline": {
            "nb": headline(statistics, "nb", withheld=withheld),
            "en": headline(statistics, "en", withheld=withheld),
        },
        "totals": totals,
        "sectors": sectors,
        "organisations": organisations,
        "days": days,
        "withheld": {
            "organisations": len(withheld.organisations),
            "sectors": sorted(withheld.sectors),
            "totals": withheld.totals,
        },
    }
