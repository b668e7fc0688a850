"""The bulk open-data download of a closed study: a zip of CSV files and a data dictionary.

The files hold exactly what the API shows (the same serializers), so the two
never disagree: published items with their text, other listed items as
markers, and the aggregate statistics with their definitions version.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from api import selectors
from api.serializers import (
    CommentSerializer,
    ContributionSerializer,
    SectionSerializer,
    StudySerializer,
)
from api.statistics import public_statistics
from contributions.models import Comment, Contribution
from reports.exports import escape_cell as reports_escape_cell
from reports.statistics import definitions
from studies.models import Study

# file -> [(column, description)]: the data dictionary, and the column order.
DICTIONARY: dict[str, list[tuple[str, Any]]] = {
    "studies.csv": [
        ("id", _("Number of the study in Dugnad.")),
        ("slug", _("Short name of the study in its web address.")),
        ("title", _("Title.")),
        ("summary", _("One-paragraph summary.")),
        ("status", _("closed or archived (open data is published once a study closes).")),
        ("opens_at", _("When the study opened for contributions (ISO 8601, UTC).")),
        ("closes_at", _("When the study closed for contributions (ISO 8601, UTC).")),
        ("created_at", _("When the study was created (ISO 8601, UTC).")),
        (
            "updated_at",
            _(
                "When the study's settings, sections, phases or published versions last "
                "changed (ISO 8601, UTC)."
            ),
        ),
        ("web_url", _("The study's page.")),
        ("definitions_version", _("Version of the statistics definitions used in statistics.csv.")),
        ("generated_at", _("When this download was generated (ISO 8601, UTC).")),
    ],
    "sections.csv": [
        ("id", _("Number of the section.")),
        ("order", _("Position of the section in the concept document.")),
        ("title", _("Title of the section.")),
        ("prompt", _("The question or prompt the section put to participants.")),
    ],
    "contributions.csv": [
        ("id", _("Number of the contribution.")),
        ("section", _("Number of its section (sections.csv), empty when none.")),
        (
            "kind",
            _(
                "idea, insight, question or concern; passage (a comment on a passage of the "
                "concept document) or amendment (proposed new wording for one)."
            ),
        ),
        ("state", _("published; hidden, removed or withdrawn items are markers without text.")),
        (
            "reason",
            _(
                "Why a hidden or removed item is not shown: spam, abuse, off_topic, "
                "personal_data, flagged or other."
            ),
        ),
        ("title", _("Title (published items only).")),
        ("body", _("Text in Markdown (published items only).")),
        ("author", _("Display name of the author (published items only).")),
        (
            "organisation",
            _(
                "Organisation the author acted for when posting, empty for individuals and "
                "after the author's claim to represent it was refused."
            ),
        ),
        (
            "organisation_confirmed",
            _(
                "true when the author's claim to represent the organisation is confirmed, "
                "false while they only say they represent it; empty without an organisation."
            ),
        ),
        (
            "sector",
            _(
                "Sector of that organisation when posting: public, private, academia, civil, "
                "other; empty for individuals."
            ),
        ),
        ("created_at", _("When it was posted (ISO 8601, UTC).")),
        ("edited_at", _("When its author last edited it, empty if never.")),
        ("updated_at", _("When it last changed in any way, moderation included.")),
        (
            "passage_version",
            _("Passages and amendments: the document version they were written on."),
        ),
        (
            "passage_anchor",
            _(
                "Passages and amendments: the anchor of the passage they sit on now, carried "
                "to the most similar passage of each later version."
            ),
        ),
        ("passage_gone", _("true when the latest version no longer has that passage.")),
        ("quote", _("The words of the passage quoted (published items only).")),
        ("amendment_wording", _("Amendments: the proposed wording (published items only).")),
        ("amendment_status", _("Amendments: open, considering, accepted or declined.")),
        ("amendment_decision_reason", _("Amendments: the reason given with the decision.")),
        ("amendment_credited_in", _("Amendments: the version that took the wording in.")),
    ],
    "comments.csv": [
        ("id", _("Number of the comment.")),
        ("contribution", _("Number of the contribution it belongs to (contributions.csv).")),
        ("parent", _("Number of the comment it replies to, empty for a top-level comment.")),
        ("official", _("true for an official answer from a facilitator.")),
        ("state", _("As in contributions.csv.")),
        ("reason", _("As in contributions.csv.")),
        ("body", _("Text in Markdown (published comments only).")),
        ("author", _("Display name of the author (published comments only).")),
        ("organisation", _("As in contributions.csv.")),
        ("organisation_confirmed", _("As in contributions.csv.")),
        ("sector", _("As in contributions.csv.")),
        ("created_at", _("When it was posted (ISO 8601, UTC).")),
        ("edited_at", _("When its author last edited it, empty if never.")),
        ("updated_at", _("When it last changed in any way, moderation included.")),
    ],
    "statistics.csv": [
        ("definitions_version", _("Version of the statistics definitions (see README.md).")),
        ("table", _("totals, sector, organisation or day.")),
        (
            "row",
            _(
                "Empty for totals; the sector code (empty sector = individuals, "
                "unconfirmed = people under unconfirmed claims), the organisation's name "
                "and number, or the day (Europe/Oslo)."
            ),
        ),
        (
            "measure",
            _(
                "participants, members, organisations (confirmed), "
                "unconfirmed_organisations, unconfirmed_participants, individuals, "
                "contributions, comments, new_participants, cumulative_items or "
                "cumulative_participants."
            ),
        ),
        (
            "value",
            _(
                "The figure, or withheld: organisations with fewer participants than the "
                "study's small-count threshold k, and the further figures withheld so that "
                "none of those can be worked out from the rest."
            ),
        ),
    ],
}


def escape_cell(value: Any) -> str:
    """A CSV cell as text, with formula-looking text made inert by a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return reports_escape_cell(str(value))


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([escape_cell(row.get(column)) for column in columns])
    # A byte-order mark lets spreadsheets read the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _columns(name: str) -> list[str]:
    return [column for column, _description in DICTIONARY[name]]


def _statistics_rows(statistics: dict[str, Any]) -> list[dict[str, Any]]:
    version = statistics["definitions_version"]
    rows: list[dict[str, Any]] = []

    def add(table: str, row: str, measure: str, value: Any) -> None:
        if value is None:
            value = "withheld"  # reports.disclosure: cannot be worked out from the rest
        rows.append(
            {
                "definitions_version": version,
                "table": table,
                "row": row,
                "measure": measure,
                "value": value,
            }
        )

    for measure, value in statistics["totals"].items():
        add("totals", "", measure, value)
    for sector in statistics["sectors"]:
        for measure in ("organisations", "participants", "contributions", "comments"):
            add("sector", sector["sector"], measure, sector[measure])
    for org in statistics["organisations"]:
        label = f"{org['name']} ({org['org_number']})" if org["org_number"] else org["name"]
        add("organisation", label, "participants", org["participants_display"])
        add("organisation", label, "contributions", org["contributions"])
        add("organisation", label, "comments", org["comments"])
    for day in statistics["days"]:
        for measure in (
            "contributions",
            "comments",
            "new_participants",
            "cumulative_items",
            "cumulative_participants",
        ):
            add("day", day["day"], measure, day[measure])
    return rows


def _readme(study: Study, statistics: dict[str, Any], generated_at: str) -> str:
    lines = [
        f"# Open data: {study.title}",
        "",
        f"Study: {study.slug} ({study.get_status_display()}). Generated {generated_at} (UTC).",
        f"Statistics definitions version: {statistics['definitions_version']}.",
        "",
        "Published contributions and comments appear with their text and the display name of",
        "their author. Items hidden or removed by a facilitator, or withdrawn by their author,",
        "appear as markers: their number, place, state and moderation reason, without text,",
        "author or organisation. Items waiting for approval and rejected items are left out.",
        "Cells that a spreadsheet would read as a formula start with an apostrophe (').",
        *(
            [f"Figures frozen {statistics['frozen_at']} when the study closed: the participation"]
            + ["report's figures, the same on every page, in the API and in exports."]
            if statistics.get("frozen_at")
            else []
        ),
        "Files are UTF-8 CSV with a byte-order mark. Times are ISO 8601 in UTC.",
        "",
        "## Data dictionary",
    ]
    for name, columns in DICTIONARY.items():
        lines += ["", f"### {name}", "", "| column | meaning |", "|---|---|"]
        lines += [f"| {column} | {description} |" for column, description in columns]
    lines += [
        "",
        "The same dictionary is in data-dictionary.csv, with the descriptions in Norwegian",
        "(bokmål) too, in the column description_nb.",
        "",
        f"## Statistics definitions, version {statistics['definitions_version']}",
        "",
    ]
    version = statistics["definitions_version"]
    lines += [f"- **{term}**: {text}" for _key, term, text in definitions(version)]
    lines.append("")
    return "\n".join(lines)


ZIP_CACHE_SECONDS = 600


@dataclass(frozen=True)
class OpenDataArchive:
    content: bytes
    last_modified: datetime


def _fingerprint(study: Study) -> tuple[str, datetime]:
    """What the zip depends on, in a few cheap queries, and when it last changed."""
    # A deleted account changes no item but must leave the archive at once
    # (its name is in it): the latest deletion among the authors counts too.
    items = [
        model.objects.filter(study=study).aggregate(
            last=Max("updated_at"), n=Count("id"), gone=Max("author__deleted_at")
        )
        for model in (Contribution, Comment)
    ]
    sections = list(study.sections.order_by("id").values_list("id", "order", "title", "prompt"))
    changes = [study.updated_at, *(i[k] for i in items for k in ("last", "gone") if i[k])]
    parts = repr((study.pk, changes, [i["n"] for i in items], sections))
    return hashlib.sha256(parts.encode()).hexdigest(), max(changes)


def open_data_archive(*, study: Study, request=None) -> OpenDataArchive:
    """The zip of a closed study, rebuilt only when its data changed (or after ten minutes).

    Organisation renames and merges change statistics.csv without touching the
    study's items, hence the time limit.
    """
    fingerprint, last_modified = _fingerprint(study)
    site = request.build_absolute_uri("/") if request is not None else ""
    key = f"api:opendata:{study.pk}:{fingerprint}:{site}:{translation.get_language()}"
    content = cache.get(key)
    if content is None:
        content = open_data_zip(study=study, request=request)
        cache.set(key, content, ZIP_CACHE_SECONDS)
    return OpenDataArchive(content=content, last_modified=last_modified)


def open_data_zip(*, study: Study, request=None) -> bytes:
    """The zip file for a closed or archived public study."""
    generated_at = timezone.now().replace(microsecond=0).isoformat()
    context = {"request": request, "study": study}
    statistics = public_statistics(study=study)
    contributions = ContributionSerializer(
        selectors.study_contributions(study=study), many=True, context=context
    ).data
    comments = CommentSerializer(
        selectors.study_comments(study=study), many=True, context=context
    ).data
    sections = SectionSerializer(study.sections.order_by("order", "id"), many=True).data
    study_row = dict(StudySerializer(study, context=context).data)
    study_row.update(
        definitions_version=statistics["definitions_version"], generated_at=generated_at
    )
    dictionary_rows = []
    for name, columns in DICTIONARY.items():
        for column, description in columns:
            with translation.override("en"):
                english = str(description)
            with translation.override("nb"):
                bokmal = str(description)
            dictionary_rows.append(
                {
                    "file": name,
                    "column": column,
                    "description": english,
                    "description_nb": bokmal,
                }
            )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with translation.override("en"):  # the README is written in English
            archive.writestr("README.md", _readme(study, statistics, generated_at))
        archive.writestr(
            "data-dictionary.csv",
            _csv(["file", "column", "description", "description_nb"], dictionary_rows),
        )
        archive.writestr("studies.csv", _csv(_columns("studies.csv"), [study_row]))
        archive.writestr("sections.csv", _csv(_columns("sections.csv"), sections))
        archive.writestr("contributions.csv", _csv(_columns("contributions.csv"), contributions))
        archive.writestr("comments.csv", _csv(_columns("comments.csv"), comments))
        archive.writestr(
            "statistics.csv", _csv(_columns("statistics.csv"), _statistics_rows(statistics))
        )
    return buffer.getvalue()
