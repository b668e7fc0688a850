# ruff: noqa: F811  (the fixtures come from test_exports_helpers; tests name them as arguments)
"""Every export, parsed back, says what reports.statistics says; formulas are escaped."""

from __future__ import annotations

import io

import pytest

from reports.exports import (
    BY_ORGANISATION,
    BY_SECTOR,
    DEFINITIONS,
    OVER_TIME,
    PARTICIPANTS,
    SUMMARY,
    UnknownExport,
    check_kind,
    count_band,
    document_for,
    escape_cell,
    iso_week,
    pseudonym,
    write,
)
from reports.services import consenting_names
from reports.statistics import (
    DEFINITIONS_VERSION,
    study_participant_rows,
    study_statistics,
)
from tests.reports.statistics_fixtures import day_row
from tests.reports.test_exports_helpers import (  # noqa: F401 (fixtures)
    _english_and_eager,
    counted_items,
    empty_study,
    read_csv,
    read_json,
    read_xlsx,
    unescape,
    world,
)

TIERS = ["aggregate", "pseudonymous", "named"]
FORMATS = ["csv", "xlsx", "json"]


def export_bytes(study, tier, fmt) -> bytes:
    statistics = study_statistics(study=study)
    participants = study_participant_rows(study=study) if tier != "aggregate" else None
    names = consenting_names(study=study) if tier == "named" else None
    document = document_for(
        statistics=statistics, tier=tier, participants=participants, names=names
    )
    out = io.BytesIO()
    write(document, fmt, out)
    return out.getvalue()


def parse(data: bytes, fmt: str) -> dict:
    """Every format to one shape: {summary: {field: value}, sheets: {name: [rows]}, notes}."""
    if fmt == "json":
        payload = read_json(data)
        summary = {
            "study": payload["study"]["title"],
            "study_slug": payload["study"]["slug"],
            "definitions_version": payload["definitions_version"],
            "generated_at": payload["generated_at"],
            "exported_at": payload["exported_at"],
            "tier": payload["tier"],
            **payload["totals"],
        }
        sheets = {
            BY_SECTOR: payload["sectors"],
            BY_ORGANISATION: payload["organisations"],
            OVER_TIME: payload["days"],
            DEFINITIONS: payload["definitions"],
        }
        if "participants" in payload:
            sheets[PARTICIPANTS] = payload["participants"]
        return {"summary": summary, "sheets": sheets, "notes": payload["notes"]}
    sheets = read_csv(data) if fmt == "csv" else read_xlsx(data)
    summary, notes = {}, []
    for row in sheets.pop(SUMMARY):
        if row["field"] == "note":
            notes.append(row["value"])
        else:
            summary[row["field"]] = row["value"]
    sheets = {
        name: [{k: unescape(v) for k, v in row.items()} for row in rows]
        for name, rows in sheets.items()
    }
    summary = {k: unescape(v) for k, v in summary.items()}
    return {"summary": summary, "sheets": sheets, "notes": notes}


def as_int(value):
    return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value


def expected_participants(study, tier):
    names = consenting_names(study=study)
    rows = []
    for row in study_participant_rows(study=study):
        fields = {
            "organisation": row.organisation,
            "org_number": row.org_number,
            "sector": row.sector,
            "contributions": row.contributions,
            "comments": row.comments,
            "first_activity": row.first_activity,
            "last_activity": row.last_activity,
        }
        if tier == "pseudonymous":
            # Weeks, bands; every organisation of the world has at least k = 2 people.
            fields.update(
                contributions=count_band(row.contributions),
                comments=count_band(row.comments),
                first_activity=iso_week(row.first_activity),
                last_activity=iso_week(row.last_activity),
            )
            rows.append({"pseudonym": pseudonym(study_id=study.pk, user_id=row.user_id), **fields})
        elif row.user_id in names:
            name, email = names[row.user_id]
            rows.append({"name": name, "email": email, **fields})
    return rows


def normalised(rows, fmt="json"):
    """Comparable rows; XLSX stores line breaks as line feeds (XML reads CR as LF)."""

    def text(v):
        v = str(as_int(v))
        return v.replace("\r\n", "\n").replace("\r", "\n") if fmt == "xlsx" else v

    return sorted(tuple(sorted((k, text(v)) for k, v in row.items())) for row in rows)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("tier", TIERS)
def test_export_parsed_back_matches_the_statistics_module(world, tier, fmt):
    study = world.study
    statistics = study_statistics(study=study)
    parsed = parse(export_bytes(study, tier, fmt), fmt)
    summary, sheets = parsed["summary"], parsed["sheets"]

    assert summary["study"] == study.title
    assert summary["study_slug"] == study.slug
    assert as_int(summary["definitions_version"]) == DEFINITIONS_VERSION
    assert summary["generated_at"] and summary["exported_at"]
    assert summary["tier"] == tier
    totals = statistics.totals
    for key in ("participants", "members", "organisations", "individuals"):
        assert as_int(summary[key]) == getattr(totals, key), key
    assert (as_int(summary["contributions"]), as_int(summary["comments"])) == counted_items(study)

    sectors = [
        (r["sector"], as_int(r["organisations"]), as_int(r["participants"]))
        + (as_int(r["contributions"]), as_int(r["comments"]))
        for r in sheets[BY_SECTOR]
    ]
    assert sectors == [
        (r.sector, r.organisations, r.participants, r.contributions, r.comments)
        for r in statistics.sectors
    ]

    organisations = [
        (r["organisation"], r["org_number"], r["sector"], str(as_int(r["participants"])))
        + (as_int(r["contributions"]), as_int(r["comments"]))
        for r in sheets[BY_ORGANISATION]
    ]
    shown = (
        statistics.participant_display if tier == "aggregate" else (lambda r: str(r.participants))
    )
    assert organisations == [
        (r.name, r.org_number, r.sector, shown(r), r.contributions, r.comments)
        for r in statistics.organisations
    ]

    days = [
        [str(r["day"])[:10]]
        + [as_int(r[k]) for k in ("contributions", "comments", "new_participants")]
        + [as_int(r["cumulative_items"]), as_int(r["cumulative_participants"])]
        for r in sheets[OVER_TIME]
    ]
    assert days == [list(day_row(d)) for d in statistics.days]
    assert {r["key"] for r in sheets[DEFINITIONS]} >= {"counted_item", "participant"}
    assert {as_int(r["version"]) for r in sheets[DEFINITIONS]} == {DEFINITIONS_VERSION}

    if tier == "aggregate":
        assert PARTICIPANTS not in sheets
    else:
        expected = expected_participants(study, tier)
        assert normalised(sheets[PARTICIPANTS], fmt) == normalised(expected, fmt)


def test_hand_computed_figures_of_the_world(world):
    """The fixture's own arithmetic, so the round trips compare against the right thing."""
    statistics = study_statistics(study=world.study)
    assert statistics.totals.participants == 4  # alice, bob, carol, dave; erin's items don't count
    assert statistics.totals.organisations == 2  # org_c counts as org_a
    assert statistics.totals.individuals == 1
    assert (statistics.totals.contributions, statistics.totals.comments) == (6, 5)


def test_aggregate_export_shows_small_counts_as_below_k(world):
    parsed = parse(export_bytes(world.study, "aggregate", "json"), "json")
    participants = {r["organisation"]: r["participants"] for r in parsed["sheets"][BY_ORGANISATION]}
    # org_a: alice and dave (2, at the threshold); org_b: bob and dave (2).
    assert participants == {world.org_a.name: 2, "Bedrift AS": 2}
    world.study.small_count_threshold = 3
    world.study.save()
    parsed = parse(export_bytes(world.study, "aggregate", "json"), "json")
    assert {r["participants"] for r in parsed["sheets"][BY_ORGANISATION]} == {"withheld"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_named_export_leaves_out_people_who_did_not_consent(world, fmt):
    parsed = parse(export_bytes(world.study, "named", fmt), fmt)
    names = {row["name"].replace("\n", "\r") for row in parsed["sheets"][PARTICIPANTS]}
    emails = {row["email"] for row in parsed["sheets"][PARTICIPANTS]}
    people = world.people
    assert names == {"@alice", "+carol\tx", "-dave\r"}
    assert people["bob"].email not in emails
    assert people["erin"].email not in emails  # consented, but nothing counted
    assert any("did not consent" in note for note in parsed["notes"])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cells_a_spreadsheet_would_read_as_formulas_are_escaped(world, fmt):
    data = export_bytes(world.study, "named", fmt)
    sheets = read_csv(data) if fmt == "csv" else read_xlsx(data)
    organisations = {row["organisation"] for row in sheets[BY_ORGANISATION]}
    assert "'" + world.org_a.name in organisations
    assert world.org_a.name not in organisations
    names = {row["name"] for row in sheets[PARTICIPANTS]}
    dave = "'-dave\r" if fmt == "csv" else "'-dave\n"
    assert {"'@alice", "'+carol\tx", dave} <= names
    if fmt == "xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data))
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+47 22 00 00 00", "'+47 22 00 00 00"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (-5, -5),
        (12, 12),
        (None, None),
    ],
)
def test_escape_cell(value, expected):
    assert escape_cell(value) == expected


def test_xlsx_drops_control_characters_that_xml_cannot_hold(world):
    world.org_b.name = "Bedrift\x0b AS"
    world.org_b.save()
    sheets = read_xlsx(export_bytes(world.study, "aggregate", "xlsx"))
    assert "Bedrift AS" in {row["organisation"] for row in sheets[BY_ORGANISATION]}


def test_xlsx_has_the_sheets_of_the_design(world):
    aggregate = read_xlsx(export_bytes(world.study, "aggregate", "xlsx"))
    assert list(aggregate) == [SUMMARY, BY_SECTOR, BY_ORGANISATION, OVER_TIME, DEFINITIONS]
    named = read_xlsx(export_bytes(world.study, "pseudonymous", "xlsx"))
    assert list(named) == [
        SUMMARY,
        BY_SECTOR,
        BY_ORGANISATION,
        OVER_TIME,
        DEFINITIONS,
        PARTICIPANTS,
    ]


def test_pseudonyms_are_stable_in_a_study_and_differ_between_studies(world):
    user_id = world.people["alice"].pk
    first = pseudonym(study_id=world.study.pk, user_id=user_id)
    assert first == pseudonym(study_id=world.study.pk, user_id=user_id)
    assert first != pseudonym(study_id=world.study.pk + 1, user_id=user_id)
    data = parse(export_bytes(world.study, "pseudonymous", "json"), "json")
    rows = data["sheets"][PARTICIPANTS]
    assert first in {r["pseudonym"] for r in rows}
    assert not any("@" in str(value) for r in rows for value in r.values())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("tier", TIERS)
def test_export_of_a_study_without_participants_is_valid_and_says_so(db, tier, fmt):
    study = empty_study(db)
    parsed = parse(export_bytes(study, tier, fmt), fmt)
    assert as_int(parsed["summary"]["participants"]) == 0
    assert parsed["sheets"][BY_SECTOR] == []
    assert parsed["sheets"][BY_ORGANISATION] == []
    assert parsed["sheets"][OVER_TIME] == []
    assert any("no participants" in note for note in parsed["notes"])
    if tier != "aggregate":
        assert parsed["sheets"][PARTICIPANTS] == []


@pytest.mark.parametrize(
    "tier, fmt", [("everything", "csv"), ("aggregate", "pdf"), ("", ""), ("AGGREGATE", "csv")]
)
def test_unknown_tier_or_format_is_refused_with_a_clear_message(tier, fmt):
    with pytest.raises(UnknownExport) as refused:
        check_kind(tier, fmt)
    assert "Unknown export" in str(refused.value)
    assert "Choose one of" in str(refused.value)


def test_writing_an_unknown_format_is_refused(world):
    document = document_for(statistics=study_statistics(study=world.study), tier="aggregate")
    with pytest.raises(UnknownExport):
        write(document, "pdf", io.BytesIO())
