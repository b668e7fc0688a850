"""Export files: three tiers (aggregate, pseudonymous, named) × CSV, XLSX and JSON.

Every file is written from a StudyStatistics (live or frozen) and, for the
non-aggregate tiers, the participant rows; it states the study, the
definitions version and the time it was made. Column names are stable
English keys so that files can be read back by programs; sector labels follow
the language of the request.

Cells that a spreadsheet would read as a formula (starting with =, +, -, @,
a tab or a carriage return) are prefixed with an apostrophe in CSV and XLSX.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reports.disclosure import WITHHELD, public_tables
from reports.models import ExportFormat, ExportTier
from reports.statistics import (
    ParticipantRow,
    StudyStatistics,
    definitions,
    headline,
    sector_label,
)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

SUMMARY = "Summary"
BY_SECTOR = "By sector"
BY_ORGANISATION = "By organisation"
OVER_TIME = "Over time"
DEFINITIONS = "Definitions"
PARTICIPANTS = "Participants"

SECTOR_COLUMNS = [
    "sector",
    "sector_label",
    "organisations",
    "participants",
    "contributions",
    "comments",
]
ORGANISATION_COLUMNS = [
    "organisation",
    "org_number",
    "sector",
    "participants",
    "contributions",
    "comments",
]
DAY_COLUMNS = [
    "day",
    "contributions",
    "comments",
    "items",
    "new_participants",
    "cumulative_items",
    "cumulative_participants",
]
# A participant's row after who they are (a pseudonym, or name and e-mail when named);
# the named export takes them from ParticipantRow's fields of the same names.
_PARTICIPANT_COLUMNS = [
    "organisation",
    "org_number",
    "sector",
    "contributions",
    "comments",
    "first_activity",
    "last_activity",
]
PSEUDONYMOUS_COLUMNS = ["pseudonym", *_PARTICIPANT_COLUMNS]
NAMED_COLUMNS = ["name", "email", *_PARTICIPANT_COLUMNS]


TOTAL_KEYS = [
    "participants",
    "members",
    "organisations",
    # Definitions version 2: "organisations" counts confirmed ones only; these
    # are the organisations named only in unconfirmed claims and the people who
    # posted under such claims (empty in figures frozen under version 1).
    "unconfirmed_organisations",
    "unconfirmed_participants",
    "individuals",
    "contributions",
    "comments",
]


def _shown(value: Any) -> Any:
    """A published cell: the figure, or "withheld" (reports.disclosure)."""
    return WITHHELD if value is None else value


def _shown_counts(row: dict) -> list[Any]:
    """A published table row's participants, contributions and comments, as shown."""
    return [_shown(row[key]) for key in ("participants", "contributions", "comments")]


def _items(day: dict[str, Any]) -> Any:
    if day["contributions"] is None:
        return WITHHELD
    return day["contributions"] + day["comments"]


class UnknownExport(ValueError):
    """An export tier or format that does not exist."""


def check_kind(tier: str, fmt: str) -> None:
    if tier not in ExportTier.values:
        raise UnknownExport(
            _("Unknown export tier “%(tier)s”. Choose one of: %(choices)s.")
            % {"tier": tier, "choices": ", ".join(ExportTier.values)}
        )
    if fmt not in ExportFormat.values:
        raise UnknownExport(
            _("Unknown export format “%(format)s”. Choose one of: %(choices)s.")
            % {"format": fmt, "choices": ", ".join(ExportFormat.values)}
        )


def escape_cell(value: Any) -> Any:
    """Make a text cell safe to open in a spreadsheet; other values pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def pseudonym(*, study_id: int, user_id: int) -> str:
    """A stable pseudonym of a person within one study; unlinkable across studies."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"dugnad-participant:{study_id}:{user_id}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"P-{digest[:12]}"


@dataclass
class ExportDocument:
    """Everything one export file says, independent of its format."""

    statistics: StudyStatistics
    tier: str
    participants: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # When the file was written; the figures may be older (a frozen report).
    exported_at: str = field(default_factory=lambda: timezone.now().isoformat())
    # (key, term, explanation); a frozen report keeps the texts it was made with.
    definitions: list[tuple[str, str, str]] | None = None
    # When a closed study's figures were frozen (its participation report); None while live.
    frozen_at: str | None = None

    @property
    def public(self) -> dict[str, Any] | None:
        """The aggregate tier's tables (reports.disclosure); None for the participant tiers."""
        if self.tier != ExportTier.AGGREGATE:
            return None
        if not hasattr(self, "_public"):
            self._public = public_tables(self.statistics)
        return self._public

    @property
    def participant_columns(self) -> list[str]:
        return NAMED_COLUMNS if self.tier == ExportTier.NAMED else PSEUDONYMOUS_COLUMNS

    def summary_rows(self) -> list[tuple[str, Any]]:
        s = self.statistics
        rows: list[tuple[str, Any]] = [
            ("study", s.study_title),
            ("study_slug", s.study_slug),
            ("definitions_version", s.definitions_version),
            ("generated_at", s.generated_at),
            ("frozen_at", self.frozen_at or ""),
            ("exported_at", self.exported_at),
            ("tier", self.tier),
        ]
        totals = self.totals()
        rows += [(key, totals[key]) for key in TOTAL_KEYS]
        rows += [
            ("small_count_threshold", s.small_count_threshold),
            ("headline_nb", self.headline("nb")),
            ("headline_en", self.headline("en")),
        ]
        rows += [("note", note) for note in self.notes]
        return rows

    def totals(self) -> dict[str, Any]:
        if self.public is not None:
            totals = {key: _shown(self.public["totals"][key]) for key in TOTAL_KEYS}
        else:
            totals = {key: getattr(self.statistics.totals, key) for key in TOTAL_KEYS}
        if self.statistics.definitions_version < 2:  # no claims then: nothing to say
            totals["unconfirmed_organisations"] = totals["unconfirmed_participants"] = ""
        return totals

    def headline(self, language: str) -> str:
        if self.public is not None:
            return self.public["headline"][language]
        return headline(self.statistics, language)

    def sector_rows(self) -> list[list[Any]]:
        if self.public is not None:
            return [
                [
                    r["sector"],
                    sector_label(r["sector"]),
                    r["organisations"],
                    *_shown_counts(r),
                ]
                for r in self.public["sectors"]
            ]
        return [
            [r.sector, r.label, r.organisations, r.participants, r.contributions, r.comments]
            for r in self.statistics.sectors
        ]

    def organisation_rows(self) -> list[list[Any]]:
        s = self.statistics
        if self.public is not None:
            return [
                [
                    r["name"],
                    r["org_number"],
                    r["sector"],
                    *_shown_counts(r),
                ]
                for r in self.public["organisations"]
            ]
        return [
            [
                r.name,
                r.org_number,
                r.sector,
                self._organisation_participants(r),
                r.contributions,
                r.comments,
            ]
            for r in s.organisations
        ]

    def _organisation_participants(self, row) -> int:
        return row.participants

    def day_rows(self) -> list[list[Any]]:
        if self.public is not None:
            return [
                [_shown(d[c]) if c != "items" else _items(d) for c in DAY_COLUMNS]
                for d in self.public["days"]
            ]
        return [
            [
                d.day,
                d.contributions,
                d.comments,
                d.items,
                d.new_participants,
                d.cumulative_items,
                d.cumulative_participants,
            ]
            for d in self.statistics.days
        ]

    def definition_rows(self) -> list[list[Any]]:
        version = self.statistics.definitions_version
        rules = self.definitions if self.definitions is not None else definitions(version)
        return [[key, str(term), str(text), version] for key, term, text in rules]

    def participant_rows(self) -> Iterable[list[Any]]:
        columns = self.participant_columns
        for row in self.participants:
            yield [row[c] for c in columns]


def document_for(
    *,
    statistics: StudyStatistics,
    tier: str,
    participants: list[ParticipantRow] | None = None,
    names: dict[int, tuple[str, str]] | None = None,
    rules: list[tuple[str, str, str]] | None = None,
    frozen_at: str | None = None,
) -> ExportDocument:
    """Assemble an export. ``names`` maps consenting people to (name, e-mail) for the named tier.

    ``rules`` replaces the current definitions texts (a frozen report keeps its own).
    """
    check_kind(tier, ExportFormat.JSON)
    document = ExportDocument(
        statistics=statistics, tier=tier, definitions=rules, frozen_at=frozen_at
    )
    if frozen_at:
        document.notes.append(
            _(
                "The figures are those of the participation report frozen when the study "
                "closed (%(frozen_at)s); later changes do not alter them."
            )
            % {"frozen_at": frozen_at}
        )
    if statistics.totals.participants == 0:
        document.notes.append(
            _("This study has no participants yet: no counted contributions or comments.")
        )
    document.notes.append(
        _(
            "A person who posted for two organisations appears under both in the "
            "per-organisation rows and once in the totals."
        )
    )
    if tier == ExportTier.AGGREGATE:
        document.notes.append(
            _(
                "Organisations with fewer than %(k)s participants are withheld, and so are "
                "as many other figures as needed so that none of them can be worked out "
                "from the rest (complementary suppression, see the definitions)."
            )
            % {"k": statistics.small_count_threshold}
        )
        return document
    rows = participants or []
    if tier == ExportTier.PSEUDONYMOUS:
        document.participants = pseudonymous_rows(statistics=statistics, rows=rows)
        document.notes.append(
            _(
                "Participant rows give the week of first and last activity (ISO week, "
                "Norwegian time) and numbers of items in bands, and name an organisation "
                "only when at least %(k)s participants posted for it, so that no row can be "
                "linked to a name by comparing it with the times and authors on the study's "
                "public pages."
            )
            % {"k": max(statistics.small_count_threshold, 2)}
        )
    else:
        names = names or {}
        left_out = {row.user_id for row in rows if row.user_id not in names}
        for row in rows:
            if row.user_id in names:
                name, email = names[row.user_id]
                document.participants.append(
                    {"name": name, "email": email, **_participant_fields(row)}
                )
        if left_out:
            document.notes.append(
                ngettext(
                    "%(n)s participant did not consent to be named and is left out of the "
                    "participant rows; the totals include them.",
                    "%(n)s participants did not consent to be named and are left out of the "
                    "participant rows; the totals include them.",
                    len(left_out),
                )
                % {"n": len(left_out)}
            )
    if len({row.user_id for row in rows}) != len(rows):
        document.notes.append(
            _("A participant who posted for more than one organisation has one row for each.")
        )
    return document


# Numbers of items in a pseudonymous row: a band, never an exact count that one
# person's public items would match.
COUNT_BANDS = ((0, 0), (1, 1), (2, 4), (5, 9), (10, 19), (20, 49))


def count_band(value: int) -> str:
    for low, high in COUNT_BANDS:
        if low <= value <= high:
            return str(low) if low == high else f"{low}–{high}"
    return f"{COUNT_BANDS[-1][1] + 1}+"


def iso_week(value: str) -> str:
    """The ISO week (Europe/Oslo) of an ISO 8601 time: "2026-W10"."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from reports.sql import STATISTICS_TIME_ZONE

    when = dt.datetime.fromisoformat(value).astimezone(ZoneInfo(STATISTICS_TIME_ZONE))
    year, week, _day = when.isocalendar()
    return f"{year}-W{week:02d}"


def pseudonymous_rows(
    *, statistics: StudyStatistics, rows: list[ParticipantRow]
) -> list[dict[str, Any]]:
    """Participant rows that cannot be joined with the public pages (docs/exports.md).

    Weeks instead of times, item counts in bands, the organisation (name and
    number) only when at least k people (2 at least) posted for it — its
    sector stays — and rows ordered by pseudonym, not by account.
    """
    k = max(statistics.small_count_threshold, 2)
    people: dict[int | None, set[int]] = {}
    for row in rows:
        people.setdefault(row.organisation_id, set()).add(row.user_id)
    out = []
    for row in rows:
        named = row.organisation_id is not None and len(people[row.organisation_id]) >= k
        out.append(
            {
                "pseudonym": pseudonym(study_id=statistics.study_id, user_id=row.user_id),
                "organisation": row.organisation if named else "",
                "org_number": row.org_number if named else "",
                "sector": row.sector,
                "contributions": count_band(row.contributions),
                "comments": count_band(row.comments),
                "first_activity": iso_week(row.first_activity),
                "last_activity": iso_week(row.last_activity),
            }
        )
    out.sort(key=lambda r: (r["pseudonym"], r["sector"], r["organisation"]))
    return out


def _participant_fields(row: ParticipantRow) -> dict[str, Any]:
    return {column: getattr(row, column) for column in _PARTICIPANT_COLUMNS}


Progress = Callable[[int], None]


def _no_progress(_percent: int) -> None:
    return None


def write(
    document: ExportDocument, fmt: str, out: IO[bytes], progress: Progress = _no_progress
) -> int:
    """Write the document to ``out`` in the format; returns the number of participant rows."""
    check_kind(document.tier, fmt)
    writers = {
        ExportFormat.CSV: _write_csv,
        ExportFormat.XLSX: _write_xlsx,
        ExportFormat.JSON: _write_json,
    }
    writers[ExportFormat(fmt)](document, out, progress)
    progress(100)
    return len(document.participants)


def _sheets(document: ExportDocument) -> list[tuple[str, list[str], Iterable[list[Any]]]]:
    sheets = [
        (SUMMARY, ["field", "value"], [list(r) for r in document.summary_rows()]),
        (BY_SECTOR, SECTOR_COLUMNS, document.sector_rows()),
        (BY_ORGANISATION, ORGANISATION_COLUMNS, document.organisation_rows()),
        (OVER_TIME, DAY_COLUMNS, document.day_rows()),
        (DEFINITIONS, ["key", "term", "definition", "version"], document.definition_rows()),
    ]
    if document.tier != ExportTier.AGGREGATE:
        sheets.append((PARTICIPANTS, document.participant_columns, document.participant_rows()))
    return sheets


def _rows_with_progress(
    rows: Iterable[list[Any]], total: int, progress: Progress
) -> Iterable[list[Any]]:
    step = max(total // 20, 1000)
    for i, row in enumerate(rows, 1):
        if i % step == 0 and total:
            progress(min(10 + int(85 * i / total), 95))
        yield row


Sheet = tuple[str, list[str], Iterable[list[Any]]]


def _with_progress(document: ExportDocument, progress: Progress) -> list[Sheet]:
    total = len(document.participants)
    return [
        (
            name,
            columns,
            _rows_with_progress(rows, total, progress) if name == PARTICIPANTS else rows,
        )
        for name, columns, rows in _sheets(document)
    ]


def write_csv_sheets(sheets: Iterable[Sheet], out: IO[bytes]) -> None:
    """One CSV file: each sheet starts with a "[Name]" row and its header, then a blank row.
    Cells are escaped (``escape_cell``). Also used for survey answers (reports.survey_exports)."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    for name, columns, rows in sheets:
        writer.writerow([f"[{name}]"])
        writer.writerow(columns)
        for row in rows:
            writer.writerow([escape_cell(v) for v in row])
        writer.writerow([])
    text.flush()
    text.detach()


def _write_csv(document: ExportDocument, out: IO[bytes], progress: Progress) -> None:
    write_csv_sheets(_with_progress(document, progress), out)


def _xlsx_cell(value: Any) -> Any:
    """Escaped like CSV, and without the control characters XML cannot hold.

    XML reads a carriage return as a line feed, so line breaks are written as
    line feeds (after escaping, so a leading CR is still escaped).
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = escape_cell(value)
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def write_xlsx_sheets(sheets: Iterable[Sheet], out: IO[bytes]) -> None:
    """One workbook, a worksheet per sheet, cells escaped as in CSV (``_xlsx_cell``)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for name, columns, rows in sheets:
        sheet = workbook.create_sheet(title=name)
        sheet.append(columns)
        for row in rows:
            sheet.append([_xlsx_cell(v) for v in row])
    workbook.save(out)


def _write_xlsx(document: ExportDocument, out: IO[bytes], progress: Progress) -> None:
    write_xlsx_sheets(_with_progress(document, progress), out)


def _write_json(document: ExportDocument, out: IO[bytes], progress: Progress) -> None:
    s = document.statistics
    payload = {
        "study": {"title": s.study_title, "slug": s.study_slug},
        "definitions_version": s.definitions_version,
        "generated_at": s.generated_at,
        "frozen_at": document.frozen_at,
        "exported_at": document.exported_at,
        "tier": document.tier,
        "notes": document.notes,
        "headline": {"nb": document.headline("nb"), "en": document.headline("en")},
        "small_count_threshold": s.small_count_threshold,
        "totals": document.totals(),
        "sectors": [dict(zip(SECTOR_COLUMNS, r, strict=True)) for r in document.sector_rows()],
        "organisations": [
            dict(zip(ORGANISATION_COLUMNS, r, strict=True)) for r in document.organisation_rows()
        ],
        "days": [dict(zip(DAY_COLUMNS, r, strict=True)) for r in document.day_rows()],
        "definitions": [
            {"key": k, "term": t, "definition": d, "version": v}
            for k, t, d, v in document.definition_rows()
        ],
    }
    if document.tier != ExportTier.AGGREGATE:
        payload["participants"] = document.participants
    out.write(json.dumps(payload, ensure_ascii=False, indent=1).encode())
