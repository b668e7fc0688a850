"""Participation statistics, definitions version 1: the one module that computes figures.

Every page, export and frozen report gets its numbers from here, computed in
SQL aggregates over the items' snapshots (never a person's current
organisation). The rules, as in DESIGN.md and docs/statistics.md:

- a counted item is a contribution or comment that is published, hidden for a
  reason other than spam or abuse, or withdrawn (see COUNTED_SQL, which must
  say the same as ``ItemQuerySet.counted()``);
- a participant is a distinct person with at least one counted item; deleted
  accounts stay counted;
- a member is a person who joined the study (any membership status);
- an organisation counts when a counted item carries it in its snapshot;
  merged organisations count once, as the organisation they were merged into;
- by sector: distinct organisations and participants per snapshot sector;
  individuals are participants with counted items posted for no organisation;
- over time: per day in Europe/Oslo, new counted items, new participants and
  cumulative totals.

The figures are read from summary tables, not from the items: the counted
items grouped by (study, person, organisation acted for, snapshot sector)
with their counts and first and last times (``reports.ParticipationSummary``),
those summed per (study, organisation, sector) (``ParticipationOrganisation``),
each participant's number of such groups and first day
(``ParticipationPerson``), the groups of people with several
(``ParticipationMultiGroup``) and the counted items and new participants per
study and Oslo day (``ParticipationDay``). Database triggers on the item tables keep them exact
at every write (reports/summaries.py); ``rebuild_statistics`` recomputes or
checks them from the items with the grouping this module defines
(``reports.sql.items_sql``). Merges are resolved when reading, so a merge rewrites
nothing. The work is one statement per study over that small set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.formatting import number
from accounts.models import ClaimState, Organisation, Sector
from reports.sql import (
    AFFILIATION_TABLE,
    DAY_TABLE,
    KEY_TABLE,
    MULTI_TABLE,
    ORGANISATION_TABLE,
    SUMMARY_TABLE,
    iso_utc,
    local_date_sql,
)
from studies.models import Study

DEFINITIONS_VERSION = 2
# Versions whose definitions texts can still be shown (reports frozen under them).
DEFINITIONS_VERSIONS = (1, 2)
CACHE_SECONDS = 60  # cached_study_statistics, for pages
# The order sectors are listed in tables and in the headline.
SECTOR_ORDER = [Sector.PUBLIC, Sector.PRIVATE, Sector.ACADEMIA, Sector.CIVIL, Sector.OTHER]
INDIVIDUALS = ""  # the snapshot sector of items posted for no organisation

# An organisation's current sector fills in a snapshot without one; no
# organisation is the sector "" (individuals). {s}: the summary's alias.
RESOLVED_SECTOR = (
    "CASE WHEN o.id IS NULL THEN '' ELSE COALESCE(NULLIF({s}.acted_for_sector, ''), o.sector) END"
)


@dataclass
class Totals:
    participants: int = 0
    members: int = 0
    organisations: int = 0
    individuals: int = 0
    contributions: int = 0
    comments: int = 0
    # People with at least one counted item for an organisation (the headline's
    # "93 of them"); None in reports frozen before it was kept.
    for_organisations: int | None = None
    # Definitions version 2: people with counted items under unconfirmed claims,
    # and the organisations named only in such claims (not counted among
    # ``organisations``); None under version 1.
    unconfirmed_participants: int | None = None
    unconfirmed_organisations: int | None = None

    @property
    def items(self) -> int:
        return self.contributions + self.comments


@dataclass
class SectorRow:
    sector: str  # a Sector value, or "" for individuals
    organisations: int
    participants: int
    contributions: int
    comments: int

    @property
    def label(self) -> str:
        return sector_label(self.sector)


@dataclass
class OrganisationRow:
    id: int
    name: str
    org_number: str
    sector: str
    participants: int
    contributions: int
    comments: int

    @property
    def sector_label(self) -> str:
        return sector_label(self.sector)


@dataclass
class DayRow:
    day: str  # ISO date in Europe/Oslo
    contributions: int
    comments: int
    new_participants: int
    cumulative_items: int
    cumulative_participants: int

    @property
    def items(self) -> int:
        return self.contributions + self.comments


@dataclass
class StudyStatistics:
    """Every figure of one study (or of the platform, with study_id None)."""

    definitions_version: int
    generated_at: str  # ISO 8601, UTC
    study_id: int | None
    study_slug: str
    study_title: str
    small_count_threshold: int
    totals: Totals
    sectors: list[SectorRow] = field(default_factory=list)
    organisations: list[OrganisationRow] = field(default_factory=list)
    days: list[DayRow] = field(default_factory=list)
    # Platform statistics only: studies by status.
    studies: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyStatistics:
        return cls(
            definitions_version=data["definitions_version"],
            generated_at=data["generated_at"],
            study_id=data["study_id"],
            study_slug=data["study_slug"],
            study_title=data["study_title"],
            small_count_threshold=data["small_count_threshold"],
            totals=Totals(**data["totals"]),
            sectors=[SectorRow(**row) for row in data["sectors"]],
            organisations=[OrganisationRow(**row) for row in data["organisations"]],
            days=[DayRow(**row) for row in data["days"]],
            studies=dict(data.get("studies", {})),
        )

    @property
    def generated(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.generated_at)

    def organisations_by_participants(self, limit: int | None = None) -> list[OrganisationRow]:
        rows = sorted(self.organisations, key=lambda r: (-r.participants, -r.contributions, r.name))
        return rows[:limit] if limit else rows

    def participant_display(self, row: OrganisationRow) -> str:
        """The published form of a per-organisation participant count ("<k" below k)."""
        return small_count(row.participants, self.small_count_threshold)


def small_count(value: int, threshold: int) -> str:
    if threshold > 1 and 0 < value < threshold:
        return f"<{threshold}"
    return str(value)


def sector_label(code: str) -> str:
    if code == INDIVIDUALS:
        return str(_("Individuals"))
    if code == UNCONFIRMED:
        return str(_("Unconfirmed claims"))
    try:
        return str(Sector(code).label)
    except ValueError:
        return code


def definitions(version: int = DEFINITIONS_VERSION) -> list[tuple[str, str, str]]:
    """(key, term, explanation) for every rule of a definitions version (the current one)."""
    if version == 1:
        return _definitions_v1()
    if version != 2:
        raise ValueError(f"Unknown definitions version {version}")
    rules = {key: (key, term, text) for key, term, text in _definitions_v1()}
    rules["member"] = (
        "member",
        _("Member"),
        _(
            "A person who joined the study, whether or not they posted, including those who "
            "left or were blocked later. Joining, leaving, a change of role and a block are "
            "study events: the statistics are brought up to date at once, as after a post. "
            "The event names no one."
        ),
    )
    rules["organisation"] = (
        "organisation",
        _("Organisation"),
        _(
            "An organisation counts when at least one counted item was posted on its behalf "
            "by a person whose claim to represent it is confirmed: by a verified e-mail "
            "address at one of the organisation's e-mail domains, by one of its "
            "representatives, or by an administrator. The claim as it stands now decides, "
            "also for items posted before it was confirmed. Organisations merged as "
            "duplicates count once, as the organisation they were merged into."
        ),
    )
    rules["unconfirmed_claims"] = (
        "unconfirmed_claims",
        _("Unconfirmed claims"),
        _(
            "Items posted for an organisation while the claim to represent it is not yet "
            "confirmed are counted apart, in a row of their own (“Unconfirmed claims”): "
            "the organisation is not named in any table and is not counted among the "
            "organisations (“confirmed organisations: 14; unconfirmed: 2”); its items say "
            "that the author “says they represent” it. When the claim is refused, the "
            "items stay and count as the person's own: an individual's."
        ),
    )
    rules["by_sector"] = (
        "by_sector",
        _("By sector"),
        _(
            "Distinct confirmed organisations and distinct participants per sector, from the "
            "sector recorded on each item when it was posted. A person who posted for two "
            "organisations appears under both in the per-organisation rows and once in the "
            "totals."
        ),
    )
    rules["individuals"] = (
        "individuals",
        _("Individuals"),
        _(
            "Participants with counted items posted on behalf of no organisation, or for "
            "an organisation that refused their claim to represent it."
        ),
    )
    rules["small_counts"] = (
        "small_counts",
        _("Small counts"),
        _(
            "In published figures, an organisation with fewer participants than the study's "
            "small-count threshold k is withheld (participants, contributions and comments), "
            "and so are as many further figures as needed — other organisations, sector rows, "
            "and last the totals with the daily series — so that no withheld figure can be "
            "worked out from the others by adding or subtracting rows, columns, sectors, "
            "totals or days. Every withheld figure reads the same."
        ),
    )
    rules["document_items"] = (
        "document_items",
        _("Comments on passages and amendments"),
        _(
            "A comment on a passage of the concept document and a proposed amendment (new "
            "wording for a passage) are contributions: they count under the same rules, with "
            "the organisation their author acted for when posting. Supporting an amendment is "
            "a reaction and counts nothing; a comment on an amendment is a comment. A decision "
            "on an amendment (accepted, declined) does not change whether it counts."
        ),
    )
    # The claims rule reads best right after the organisation rule.
    order = [key for key in rules if key != "unconfirmed_claims"]
    order.insert(order.index("organisation") + 1, "unconfirmed_claims")
    return [
        *(rules[key] for key in order),
        (
            "headline",
            _("Headline"),
            _(
                "The number of participants, and how many of them posted for organisations "
                "(“104 people contributed, 93 of them for 16 organisations in …”): people who "
                "took part only as themselves are not said to come from an organisation."
            ),
        ),
        (
            "closed_studies",
            _("Closed studies"),
            _(
                "When a study closes its figures are frozen in its participation report, and "
                "every page, the API, open data and exports give those figures with the time "
                "they were frozen. Later changes (spam removed, accounts deleted, "
                "organisations merged) do not change them."
            ),
        ),
        (
            "pseudonymous_rows",
            _("Pseudonymous rows"),
            _(
                "In the pseudonymous export, times are ISO weeks, numbers of items are bands, "
                "and an organisation is named only when at least k people posted for it, so "
                "that no row can be linked to a name on the study's public pages."
            ),
        ),
    ]


def definitions_changes(version: int = DEFINITIONS_VERSION) -> list[str]:
    """What changed in ``version`` from the one before."""
    if version != 2:
        return []
    return [
        _(
            "Organisations: counted only through confirmed claims; unconfirmed claims are "
            "counted apart, refused ones as individuals."
        ),
        _("Small counts: complementary suppression, so that no withheld figure can be worked out."),
        _("Headline: people who took part only as themselves are counted apart."),
        _("Members: joining, leaving, role changes and blocks refresh the statistics at once."),
        _("Closed studies: one set of figures, frozen at the close, on every surface."),
        _("Pseudonymous exports: weeks instead of times, bands instead of exact counts."),
        _("Comments on passages and amendments count as contributions."),
    ]


def _definitions_v1() -> list[tuple[str, str, str]]:
    """Version 1, kept for reports frozen under it (their figures are computed the same way)."""
    return [
        (
            "counted_item",
            _("Counted item"),
            _(
                "A contribution or comment that is published, hidden by a facilitator for a "
                "reason other than spam or abuse, or withdrawn by its author. Items waiting "
                "for approval, rejected items and items removed as spam or abuse are not counted."
            ),
        ),
        (
            "participant",
            _("Participant"),
            _(
                "A distinct person with at least one counted item. A person whose account "
                "was later deleted stays counted, without their name."
            ),
        ),
        ("member", _("Member"), _("A person who joined the study, whether or not they posted.")),
        (
            "organisation",
            _("Organisation"),
            _(
                "An organisation counts when at least one counted item was posted on its "
                "behalf, as recorded when the item was posted. Organisations merged as "
                "duplicates count once, as the organisation they were merged into."
            ),
        ),
        (
            "by_sector",
            _("By sector"),
            _(
                "Distinct organisations and distinct participants per sector, from the sector "
                "recorded on each item when it was posted. A person who posted for two "
                "organisations appears under both in the per-organisation rows and once in "
                "the totals."
            ),
        ),
        (
            "individuals",
            _("Individuals"),
            _("Participants with counted items posted on behalf of no organisation."),
        ),
        (
            "over_time",
            _("Over time"),
            _(
                "Per calendar day in Norwegian time (Europe/Oslo): new counted items, people "
                "whose first counted item was posted that day, and running totals."
            ),
        ),
        (
            "small_counts",
            _("Small counts"),
            _(
                "In published figures, a per-organisation participant count below the "
                "study's small-count threshold k is shown as “<k”."
            ),
        ),
    ]


# --- SQL ---------------------------------------------------------------------


def _statistics_sql(
    *, study_id: int | None, version: int = DEFINITIONS_VERSION
) -> tuple[str, list]:
    """Every figure in one statement: rows of (kind, key, n1..n5, t1..t3).

    The kinds: total, members, sector, org (with the organisation's name,
    number and sector), first (new participants per day), day (counted items
    per day) and, for the platform, status (studies per status). Version 1
    counts every organisation recorded on an item (from the summed keys);
    version 2 reads the authors' claims (_claims_sql).
    """
    if version == 1 and study_id is not None:
        return _study_sql(study_id)
    return _summary_sql(study_id=study_id, claims=version >= 2)


# The claim ranks of version 2: the best state of a person's claims on an
# organisation (or on one merged into it). Without a claim (given up before
# claims were kept) an item's organisation counts as unconfirmed.
CONFIRMED_RANK, UNCONFIRMED_RANK, REFUSED_RANK = 3, 2, 1
UNCONFIRMED = "unconfirmed"  # the pseudo-sector of participation under unconfirmed claims


def _claims_sql() -> str:
    """Per (person, canonical organisation): the rank of their best claim."""
    return f"""
        SELECT af.user_id, COALESCE(ao.merged_into_id, ao.id) AS org_id,
               MAX(CASE af.state WHEN '{ClaimState.CONFIRMED}' THEN {CONFIRMED_RANK}
                                 WHEN '{ClaimState.PENDING}' THEN {UNCONFIRMED_RANK}
                                 ELSE {REFUSED_RANK} END) AS claim_rank
        FROM {AFFILIATION_TABLE} af
        JOIN {ORGANISATION_TABLE} ao ON ao.id = af.organisation_id
        GROUP BY af.user_id, COALESCE(ao.merged_into_id, ao.id)
    """  # noqa: S608 (constant SQL text; no values in it)


def _study_sql(study_id: int) -> tuple[str, list]:
    """One study's figures from its organisation keys, multi-group people and days.

    Distinct people per organisation or sector without a distinct count over
    every row: k holds the summary summed per (organisation, sector) key
    (ParticipationOrganisation), where each summary row is one person; only
    people with several rows (groups > 1, few) could be counted twice in a
    class of keys, so m lists their keys (ParticipationMultiGroup) and a
    class's people are SUM(n) - (their rows in it) + (distinct of them in
    it). Organisations resolve through merged_into (one level, kept so by
    reports.registry) and the sector as in _platform_sql. f: new participants
    per day (ParticipationDay); their sum is the participants.
    """
    sector_k, sector_m = RESOLVED_SECTOR.format(s="k"), RESOLVED_SECTOR.format(s="s")
    # Constant SQL text only (table names); the study is a bound parameter.
    sql = f"""
        WITH k AS (
            SELECT COALESCE(o.merged_into_id, o.id) AS org_id, {sector_k} AS sector,
                   k.participants AS n, k.contributions, k.comments
            FROM {KEY_TABLE} k LEFT JOIN {ORGANISATION_TABLE} o ON o.id = k.acted_for_id
            WHERE k.study_id = %(study)s
        ),
        m AS (
            SELECT s.author_id, COALESCE(o.merged_into_id, o.id) AS org_id,
                   {sector_m} AS sector
            FROM {MULTI_TABLE} s LEFT JOIN {ORGANISATION_TABLE} o ON o.id = s.acted_for_id
            WHERE s.study_id = %(study)s
        ),
        f AS (
            SELECT day AS first_day, new_participants AS n FROM {DAY_TABLE}
            WHERE study_id = %(study)s AND new_participants > 0
        )
        SELECT 'total' AS kind, NULL AS k,
               (SELECT COALESCE(SUM(n), 0) FROM f) AS n1,
               (SELECT COUNT(DISTINCT org_id) FROM k) AS n2,
               (SELECT COALESCE(SUM(n), 0) FROM k WHERE org_id IS NULL)
                 - (SELECT COUNT(*) FROM m WHERE org_id IS NULL)
                 + (SELECT COUNT(DISTINCT author_id) FROM m WHERE org_id IS NULL) AS n3,
               (SELECT SUM(contributions) FROM k) AS n4, (SELECT SUM(comments) FROM k) AS n5,
               NULL AS t1, NULL AS t2, NULL AS t3
        UNION ALL
        SELECT 'members', NULL, (SELECT COUNT(*) FROM studies_membership
                                 WHERE study_id = %(study)s),
               (SELECT COALESCE(SUM(n), 0) FROM k WHERE org_id IS NOT NULL)
                 - (SELECT COUNT(*) FROM m WHERE org_id IS NOT NULL)
                 + (SELECT COUNT(DISTINCT author_id) FROM m WHERE org_id IS NOT NULL),
               0, 0, 0, NULL, NULL, NULL
        UNION ALL
        SELECT 'sector', x.sector, x.organisations,
               x.n - COALESCE(y.n, 0) + COALESCE(y.people, 0), 0,
               x.contributions, x.comments, NULL, NULL, NULL
        FROM (
            SELECT sector, COUNT(DISTINCT org_id) AS organisations, SUM(n) AS n,
                   SUM(contributions) AS contributions, SUM(comments) AS comments
            FROM k GROUP BY sector
        ) AS x LEFT JOIN (
            SELECT sector, COUNT(*) AS n, COUNT(DISTINCT author_id) AS people
            FROM m GROUP BY sector
        ) AS y ON y.sector = x.sector
        UNION ALL
        SELECT 'org', CAST(x.org_id AS TEXT), 0,
               x.n - COALESCE(y.n, 0) + COALESCE(y.people, 0), 0,
               x.contributions, x.comments, oo.name, oo.org_number, oo.sector
        FROM (
            SELECT org_id, SUM(n) AS n, SUM(contributions) AS contributions,
                   SUM(comments) AS comments
            FROM k WHERE org_id IS NOT NULL GROUP BY org_id
        ) AS x LEFT JOIN (
            SELECT org_id, COUNT(*) AS n, COUNT(DISTINCT author_id) AS people
            FROM m WHERE org_id IS NOT NULL GROUP BY org_id
        ) AS y ON y.org_id = x.org_id
        JOIN {ORGANISATION_TABLE} oo ON oo.id = x.org_id
        UNION ALL
        SELECT 'first', CAST(first_day AS TEXT), n, 0, 0, 0, 0, NULL, NULL, NULL FROM f
        UNION ALL
        SELECT 'day', CAST(day AS TEXT), 0, 0, 0, SUM(contributions), SUM(comments),
               NULL, NULL, NULL
        FROM {DAY_TABLE} WHERE study_id = %(study)s GROUP BY day
    """  # noqa: S608 (constant SQL text; the study is a parameter)
    return sql, {"study": study_id}


def _summary_sql(*, study_id: int | None, claims: bool = True) -> tuple[str, list]:
    """One study's figures, or the platform's (study_id None), from the summary rows.

    A person has a summary row per study and organisation, so people and
    organisations are counted distinctly from the rows (across studies for
    the platform, which also gets studies per status). With ``claims``
    (definitions version 2) each row's organisation counts as the author's
    claim on it says: confirmed, for the organisation; unconfirmed, in the
    row UNCONFIRMED (the organisation unnamed); refused, as an individual.
    """
    if study_id is None:
        where, summary_where, params = "1 = 1", "1 = 1", []
    else:
        where, summary_where, params = "study_id = %s", "s.study_id = %s", [study_id]
    first_day, first_params = local_date_sql("f.first_at")
    studies = (
        ""
        if study_id is not None
        else """
        UNION ALL
        SELECT 'status', status, COUNT(*), 0, 0, 0, 0, NULL, NULL, NULL
        FROM studies_study GROUP BY status"""
    )
    rank = f"COALESCE(cl.claim_rank, {UNCONFIRMED_RANK})" if claims else str(CONFIRMED_RANK)
    # g0: the counted items grouped once per (study, person, organisation acted
    # for, sector), as the items recorded them, resolved to the canonical
    # organisation. One level is enough: reports.registry keeps merged_into
    # pointing at an organisation that is not itself merged. The sector is the
    # snapshot's; the organisation's own sector only fills in a snapshot that
    # lacks one. No organisation: sector "".
    # g: the same after the claims: org_id only for a confirmed claim, claimed_id
    # for an unconfirmed one (sector UNCONFIRMED); a refused one is an individual.
    # a: one row per person (first counted item; individual, for organisations,
    # under unconfirmed claims); oa: one row per (organisation, person); sa: per
    # (sector, person); so: per (sector, organisation, claimed or confirmed);
    # distinct counts as GROUP BY, which hash.
    # Constant SQL text only (table names, vendor date expressions, the claim
    # states); every value is a bound parameter.
    sql = f"""
        WITH cl AS ({_claims_sql()}),
        g0 AS (
            SELECT s.author_id, COALESCE(o.merged_into_id, o.id) AS org_id,
                   CASE WHEN o.id IS NULL THEN ''
                        ELSE COALESCE(NULLIF(s.acted_for_sector, ''), o.sector) END AS sector,
                   s.contributions, s.comments, s.first_at
            FROM {SUMMARY_TABLE} s LEFT JOIN {ORGANISATION_TABLE} o ON o.id = s.acted_for_id
            WHERE {summary_where}
        ),
        g AS (
            SELECT g0.author_id,
                   CASE WHEN g0.org_id IS NOT NULL AND {rank} = {CONFIRMED_RANK}
                        THEN g0.org_id END AS org_id,
                   CASE WHEN g0.org_id IS NOT NULL AND {rank} = {UNCONFIRMED_RANK}
                        THEN g0.org_id END AS claimed_id,
                   CASE WHEN g0.org_id IS NULL OR {rank} = {REFUSED_RANK} THEN ''
                        WHEN {rank} = {UNCONFIRMED_RANK} THEN '{UNCONFIRMED}'
                        ELSE g0.sector END AS sector,
                   g0.contributions, g0.comments, g0.first_at
            FROM g0 LEFT JOIN cl ON cl.user_id = g0.author_id AND cl.org_id = g0.org_id
        ),
        a AS (
            SELECT author_id, MIN(first_at) AS first_at,
                   MAX(CASE WHEN sector = '' THEN 1 ELSE 0 END) AS individual,
                   MAX(CASE WHEN org_id IS NULL THEN 0 ELSE 1 END) AS organised,
                   MAX(CASE WHEN claimed_id IS NULL THEN 0 ELSE 1 END) AS claimed
            FROM g GROUP BY author_id
        ),
        oa AS (
            SELECT org_id, author_id, SUM(contributions) AS contributions,
                   SUM(comments) AS comments
            FROM g WHERE org_id IS NOT NULL GROUP BY org_id, author_id
        ),
        sa AS (SELECT sector, author_id FROM g GROUP BY sector, author_id),
        so AS (
            SELECT sector, COALESCE(org_id, claimed_id) AS org_id FROM g
            WHERE COALESCE(org_id, claimed_id) IS NOT NULL
            GROUP BY sector, COALESCE(org_id, claimed_id)
        ),
        ss AS (
            SELECT sector, SUM(contributions) AS contributions, SUM(comments) AS comments
            FROM g GROUP BY sector
        )
        SELECT 'total' AS kind, NULL AS k, (SELECT COUNT(*) FROM a) AS n1,
               (SELECT COUNT(*) FROM (SELECT org_id FROM oa GROUP BY org_id) AS x) AS n2,
               (SELECT COALESCE(SUM(individual), 0) FROM a) AS n3,
               (SELECT SUM(contributions) FROM ss) AS n4,
               (SELECT SUM(comments) FROM ss) AS n5,
               NULL AS t1, NULL AS t2, NULL AS t3
        UNION ALL
        SELECT 'members', NULL, COUNT(DISTINCT user_id),
               (SELECT COALESCE(SUM(organised), 0) FROM a),
               (SELECT COALESCE(SUM(claimed), 0) FROM a),
               (SELECT COUNT(*) FROM (
                   SELECT claimed_id FROM g WHERE claimed_id IS NOT NULL
                   AND claimed_id NOT IN (SELECT org_id FROM oa) GROUP BY claimed_id
               ) AS y),
               0, NULL, NULL, NULL
        FROM studies_membership WHERE {where}
        UNION ALL
        SELECT 'sector', ss.sector, COALESCE(xo.n, 0), xa.n, 0,
               ss.contributions, ss.comments, NULL, NULL, NULL
        FROM ss
        JOIN (SELECT sector, COUNT(*) AS n FROM sa GROUP BY sector) AS xa
            ON xa.sector = ss.sector
        LEFT JOIN (SELECT sector, COUNT(*) AS n FROM so GROUP BY sector) AS xo
            ON xo.sector = ss.sector
        UNION ALL
        SELECT 'org', CAST(x.org_id AS TEXT), 0, x.participants, 0, x.contributions,
               x.comments, oo.name, oo.org_number, oo.sector
        FROM (
            SELECT org_id, COUNT(*) AS participants,
                   SUM(contributions) AS contributions, SUM(comments) AS comments
            FROM oa GROUP BY org_id
        ) AS x JOIN {ORGANISATION_TABLE} oo ON oo.id = x.org_id
        UNION ALL
        SELECT 'first', CAST(d AS TEXT), COUNT(*), 0, 0, 0, 0, NULL, NULL, NULL FROM (
            SELECT {first_day} AS d FROM a AS f
        ) AS firsts GROUP BY d
        UNION ALL
        SELECT 'day', CAST(day AS TEXT), 0, 0, 0, SUM(contributions), SUM(comments),
               NULL, NULL, NULL
        FROM {DAY_TABLE} WHERE {where} GROUP BY day{studies}
    """  # noqa: S608 (constant SQL text; values are parameters)
    return sql, params + params + list(first_params) + params


def _run(study_id: int | None, version: int = DEFINITIONS_VERSION) -> list[tuple]:
    sql, params = _statistics_sql(study_id=study_id, version=version)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _assemble(rows: list[tuple], statistics: StudyStatistics) -> StudyStatistics:
    totals = statistics.totals
    sectors: dict[str, SectorRow] = {}
    organisations: list[OrganisationRow] = []
    firsts: dict[str, int] = {}
    day_items: dict[str, tuple[int, int]] = {}
    studies: dict[str, int] = {}
    for kind, key, n1, n2, n3, n4, n5, t1, t2, t3 in rows:
        n1, n2, n3, n4, n5 = (int(v or 0) for v in (n1, n2, n3, n4, n5))
        if kind == "total":
            totals.participants, totals.organisations, totals.individuals = n1, n2, n3
            totals.contributions, totals.comments = n4, n5
        elif kind == "members":
            totals.members, totals.for_organisations = n1, n2
            if statistics.definitions_version >= 2:
                totals.unconfirmed_participants, totals.unconfirmed_organisations = n3, n4
        elif kind == "sector":
            sectors[key or ""] = SectorRow(key or "", n1 if key else 0, n2, n4, n5)
        elif kind == "org":
            organisations.append(OrganisationRow(int(key), t1, t2 or "", t3, n2, n4, n5))
        elif kind == "first":
            firsts[str(key)[:10]] = n1
        elif kind == "day":
            day_items[str(key)[:10]] = (n4, n5)
        elif kind == "status":
            studies[key] = n1
    order = [*SECTOR_ORDER, UNCONFIRMED, INDIVIDUALS]
    statistics.sectors = [sectors[s] for s in order if s in sectors] + [
        row for s, row in sectors.items() if s not in order
    ]
    statistics.organisations = sorted(organisations, key=lambda r: (r.name.casefold(), r.id))
    cumulative_items = cumulative_participants = 0
    days = []
    for day in sorted(set(day_items) | set(firsts)):
        contributions, comments = day_items.get(day, (0, 0))
        new = firsts.get(day, 0)
        cumulative_items += contributions + comments
        cumulative_participants += new
        days.append(
            DayRow(day, contributions, comments, new, cumulative_items, cumulative_participants)
        )
    statistics.days = days
    statistics.studies = {s: studies[s] for s in sorted(studies)}
    return statistics


def study_statistics(*, study: Study, version: int = DEFINITIONS_VERSION) -> StudyStatistics:
    """Every figure of one study, computed now in one query.

    Version 2 (the current definitions) counts an organisation only through
    confirmed claims, and unconfirmed claims apart; version 1, kept computable
    for reports frozen under it, counts every organisation recorded on an item.
    """
    if version not in DEFINITIONS_VERSIONS:
        raise ValueError(f"Unknown definitions version {version}")
    statistics = StudyStatistics(
        definitions_version=version,
        generated_at=timezone.now().isoformat(),
        study_id=study.pk,
        study_slug=study.slug,
        study_title=study.title,
        small_count_threshold=study.small_count_threshold,
        totals=Totals(),
    )
    return _assemble(_run(study.pk, version), statistics)


def cached_study_statistics(study: Study) -> StudyStatistics:
    """The study's figures, shared by every viewer until the study's next event.

    Every post and moderation decision records a study event, which changes
    the key; organisation merges and renames show within CACHE_SECONDS.
    Exports and frozen reports call study_statistics directly.
    """
    key = f"reports:statistics:{study.pk}:{study.last_event_seq}"
    data = cache.get(key)
    if data is None:
        figures = study_statistics(study=study)
        cache.set(key, figures.to_dict(), CACHE_SECONDS)
        return figures
    return StudyStatistics.from_dict(data)


def platform_statistics(*, version: int = DEFINITIONS_VERSION) -> StudyStatistics:
    """Every figure across all studies, in one query.

    A person or organisation active in two studies counts once; ``studies``
    holds the number of studies per status.
    """
    statistics = StudyStatistics(
        definitions_version=version,
        generated_at=timezone.now().isoformat(),
        study_id=None,
        study_slug="",
        study_title="",
        small_count_threshold=0,
        totals=Totals(),
    )
    return _assemble(_run(None, version), statistics)


def platform_study_rows(*, version: int = DEFINITIONS_VERSION) -> list[dict[str, Any]]:
    """Participants, organisations and items per study, for the staff overview."""
    confirmed = f"cl.claim_rank = {CONFIRMED_RANK}" if version >= 2 else "o.id IS NOT NULL"
    # Organisations as in version 2: through confirmed claims only.
    sql = f"""
        WITH cl AS ({_claims_sql()})
        SELECT s.study_id, COUNT(DISTINCT s.author_id),
               COUNT(DISTINCT CASE WHEN {confirmed}
                                   THEN COALESCE(o.merged_into_id, o.id) END),
               SUM(s.contributions), SUM(s.comments)
        FROM {SUMMARY_TABLE} s LEFT JOIN {ORGANISATION_TABLE} o ON o.id = s.acted_for_id
        LEFT JOIN cl ON cl.user_id = s.author_id
                    AND cl.org_id = COALESCE(o.merged_into_id, o.id)
        GROUP BY s.study_id
    """  # noqa: S608 (constant SQL text; no values in it)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        figures = {row[0]: row[1:] for row in cursor.fetchall()}
    rows = []
    for study in Study.objects.order_by("-created_at", "-id"):
        participants, organisations, contributions, comments = figures.get(study.pk, (0, 0, 0, 0))
        rows.append(
            {
                "study": study,
                "participants": int(participants or 0),
                "organisations": int(organisations or 0),
                "contributions": int(contributions or 0),
                "comments": int(comments or 0),
            }
        )
    return rows


# --- Participants (pseudonymous and named exports) ----------------------------


@dataclass
class ParticipantRow:
    """One person's counted items for one organisation (or as an individual)."""

    user_id: int
    organisation_id: int | None
    organisation: str
    org_number: str
    sector: str
    contributions: int
    comments: int
    first_activity: str  # ISO 8601
    last_activity: str


def study_participant_rows(
    *, study: Study, version: int = DEFINITIONS_VERSION
) -> list[ParticipantRow]:
    """A row per participant and organisation acted for, ordered by person.

    A person who posted for two organisations has two rows; the totals still
    count them once. As in the figures (version 2), an organisation shows
    only through a confirmed claim: items under unconfirmed claims are one
    row in the sector UNCONFIRMED without an organisation, and items under a
    refused claim are the person's own (individual) row.
    """
    rank = f"COALESCE(cl.claim_rank, {UNCONFIRMED_RANK})" if version >= 2 else CONFIRMED_RANK
    sql = f"""
        WITH cl AS ({_claims_sql()}),
        g AS (
            SELECT s.author_id, COALESCE(o.merged_into_id, o.id) AS org_id,
                   s.contributions, s.comments, s.first_at, s.last_at
            FROM {SUMMARY_TABLE} s LEFT JOIN {ORGANISATION_TABLE} o ON o.id = s.acted_for_id
            WHERE s.study_id = %s
        ),
        r AS (
            SELECT g.author_id,
                   CASE WHEN g.org_id IS NOT NULL AND {rank} = {CONFIRMED_RANK}
                        THEN g.org_id END AS org_id,
                   CASE WHEN g.org_id IS NOT NULL AND {rank} = {UNCONFIRMED_RANK}
                        THEN 1 ELSE 0 END AS unconfirmed,
                   g.contributions, g.comments, g.first_at, g.last_at
            FROM g LEFT JOIN cl ON cl.user_id = g.author_id AND cl.org_id = g.org_id
        )
        SELECT author_id, org_id, SUM(contributions), SUM(comments), MIN(first_at),
               MAX(last_at), unconfirmed
        FROM r GROUP BY author_id, org_id, unconfirmed
        ORDER BY author_id, org_id, unconfirmed
    """  # noqa: S608 (constant SQL text; the study is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [study.pk])
        return participant_rows(cursor.fetchall())


def participant_rows(raw: list[tuple]) -> list[ParticipantRow]:
    """ParticipantRows from (author, canonical organisation, contributions, comments,
    first, last[, unconfirmed]) tuples, with each organisation as the registry knows it
    now; ``unconfirmed`` rows (no organisation) are in the sector UNCONFIRMED."""
    org_ids = {row[1] for row in raw if row[1] is not None}
    raw = [(*row, 0) if len(row) == 6 else row for row in raw]
    orgs = {
        pk: (name, number or "", sector)
        for pk, name, number, sector in Organisation.objects.filter(pk__in=org_ids).values_list(
            "pk", "name", "org_number", "sector"
        )
    }
    rows = []
    for author_id, org_id, contributions, comments, first, last, unconfirmed in raw:
        # The organisation as the registry knows it now (after merges), like
        # the per-organisation rows of StudyStatistics.
        name, number, org_sector = orgs.get(org_id, ("", "", ""))
        rows.append(
            ParticipantRow(
                user_id=author_id,
                organisation_id=org_id,
                organisation=name,
                org_number=number,
                sector=org_sector if org_id else (UNCONFIRMED if unconfirmed else INDIVIDUALS),
                contributions=int(contributions or 0),
                comments=int(comments or 0),
                first_activity=iso_utc(first),
                last_activity=iso_utc(last),
            )
        )
    return rows


# --- Headline ------------------------------------------------------------------


def _number(value: int) -> str:
    return number(value)


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return _("%(first)s and %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]}


def _sector_phrase(code: str) -> str:
    phrases = {
        Sector.PUBLIC: _("the public sector"),
        Sector.PRIVATE: _("the private sector"),
        Sector.ACADEMIA: _("academia"),
        Sector.CIVIL: _("civil society"),
        Sector.OTHER: _("other sectors"),
    }
    return str(phrases.get(code, code))


def people_for_organisations(statistics: StudyStatistics) -> int:
    """People with at least one counted item for an organisation.

    Reports frozen before this was kept fall back to participants minus
    individuals (exact unless someone posted both ways).
    """
    totals = statistics.totals
    if totals.for_organisations is not None:
        return totals.for_organisations
    if totals.organisations == 0:
        return 0
    return max(totals.participants - totals.individuals, 1)


def headline(statistics: StudyStatistics, language: str | None = None, withheld=None) -> str:
    """The one-sentence summary, true for people who took part as themselves.

    "104 people contributed, 93 of them for 16 organisations in the public
    sector, …, with 180 contributions and 40 comments". ``withheld`` (from
    reports.disclosure) says the totals are too small to publish.
    """
    with translation.override(language or translation.get_language()):
        totals = statistics.totals
        if totals.participants == 0:
            return str(_("No one has contributed yet."))
        if withheld is not None and withheld.totals:
            return str(_("The figures of this study are too small to publish"))
        values = {
            "people": ngettext("%(n)s person", "%(n)s people", totals.participants)
            % {"n": _number(totals.participants)},
            "contributions": ngettext(
                "%(n)s contribution", "%(n)s contributions", totals.contributions
            )
            % {"n": _number(totals.contributions)},
            "comments": ngettext("%(n)s comment", "%(n)s comments", totals.comments)
            % {"n": _number(totals.comments)},
        }
        organised = people_for_organisations(statistics)
        if totals.organisations == 0 or organised == 0:
            return _("%(people)s contributed %(contributions)s and %(comments)s") % values
        values["organisations"] = ngettext(
            "%(n)s organisation", "%(n)s organisations", totals.organisations
        ) % {"n": _number(totals.organisations)}
        values["sectors"] = _join(
            [
                _sector_phrase(row.sector)
                for row in statistics.sectors
                if row.sector not in (INDIVIDUALS, UNCONFIRMED) and row.organisations
            ]
        )
        if organised >= totals.participants and totals.participants == 1:
            text = _(
                "%(people)s contributed for %(organisations)s in %(sectors)s, with "
                "%(contributions)s and %(comments)s"
            )
        elif organised >= totals.participants:
            text = _(
                "%(people)s contributed, all of them for %(organisations)s in %(sectors)s, "
                "with %(contributions)s and %(comments)s"
            )
        else:
            values["of_them"] = _number(organised)
            text = _(
                "%(people)s contributed, %(of_them)s of them for %(organisations)s in "
                "%(sectors)s, with %(contributions)s and %(comments)s"
            )
        return text % values
