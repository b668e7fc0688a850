"""Export tiers read through a personal token: the reports app's own files.

The figures, pseudonyms, notes and formula escaping are those of
reports.exports, so a file fetched through the API is the file a coordinator
downloads from the study's export page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reports.exports import document_for, write
from reports.models import ExportFormat, ExportTier
from reports.services import published_figures
from reports.statistics import study_participant_rows
from studies.models import Study

# Tiers a token may read. The named tier stays on the web page, where it is logged.
EXPORT_TIERS = (ExportTier.AGGREGATE.value, ExportTier.PSEUDONYMOUS.value)
EXPORT_FORMATS = {
    ExportFormat.JSON.value: "application/json",
    ExportFormat.CSV.value: "text/csv; charset=utf-8",
    ExportFormat.XLSX.value: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    content_type: str
    filename: str


def study_export(*, study: Study, tier: str, fmt: str) -> ExportFile:
    """One export file of the study, computed now."""
    statistics, frozen_at = published_figures(study=study, fresh=True)
    participants = study_participant_rows(study=study) if tier != ExportTier.AGGREGATE else None
    document = document_for(
        statistics=statistics, tier=tier, participants=participants, frozen_at=frozen_at
    )
    out = io.BytesIO()
    write(document, fmt, out)
    return ExportFile(
        content=out.getvalue(),
        content_type=EXPORT_FORMATS[fmt],
        filename=f"{study.slug}-{tier}.{fmt}",
    )
