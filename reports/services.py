"""Writes of the reports app: export files and frozen participation reports.

Figures come only from reports.statistics (its public functions); this module
decides who may have them, in which tier, and keeps what it hands out.

- ``export_request`` validates the tier and format, checks that the person is
  a coordinator of the study, and creates the Export row; the Celery task that
  writes the file is scheduled after the transaction commits.
- ``export_build`` (run by the task) writes the file to storage, updating the
  row's progress as it goes, so the exports page can show it live. A named
  export is written to the moderation log when its file is made.
- ``report_freeze`` stores the figures of a study when it closes, once; the
  published report and its downloads are made from the stored figures only.
"""

from __future__ import annotations

import logging
import tempfile
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import User
from core.tasks import task
from moderation.models import LogAction
from moderation.services import log_action
from reports.exports import (
    ExportDocument,
    UnknownExport,
    check_kind,
    document_for,
    write,
)
from reports.models import Export, ExportStatus, ExportTier, ParticipationReport
from reports.statistics import (
    StudyStatistics,
    definitions,
    headline,
    study_participant_rows,
    study_statistics,
)
from studies.access import Action, can, membership_of
from studies.models import Membership, Study

logger = logging.getLogger(__name__)

REPORT_LANGUAGES = ("nb", "en")

__all__ = [
    "UnknownExport",
    "export_build",
    "export_request",
    "report_document",
    "report_freeze",
    "report_statistics",
]


# --- Exports -----------------------------------------------------------------


def export_request(*, study: Study, user: User, tier: str, fmt: str) -> Export:
    """Create an export of the study and schedule the task that writes its file.

    Raises UnknownExport for a tier or format that does not exist and
    PermissionDenied unless ``user`` is a coordinator of the study; in both
    cases nothing is created.
    """
    check_kind(tier, fmt)
    if not can(study, membership_of(user, study), Action.EXPORT, user=user):
        raise PermissionDenied("export")
    language = translation.get_language() or "nb"
    with transaction.atomic():
        export = Export.objects.create(study=study, requested_by=user, tier=tier, format=fmt)
        transaction.on_commit(lambda: _schedule(export.pk, language))
    return export


def _schedule(export_id: int, language: str) -> None:
    task("reports.tasks.build_export").delay(export_id, language)


class _Progress:
    """Writes the export's progress to its row when the per cent changes."""

    def __init__(self, export_id: int) -> None:
        self.export_id = export_id
        self.last = -1

    def __call__(self, percent: int) -> None:
        percent = max(0, min(int(percent), 100))
        if percent != self.last:
            self.last = percent
            Export.objects.filter(pk=self.export_id).update(progress=percent)


def exports_expire(*, now=None) -> int:
    """Remove the files of exports made more than EXPORT_RETENTION_DAYS ago; how many.

    The export's record stays (who asked for which tier, when), marked
    expired; only the file goes. Exports still queued or running are left to
    their task, and failed ones, which have no file, keep saying they failed.
    """
    from django.conf import settings
    from django.core.files.storage import default_storage

    now = now or timezone.now()
    cutoff = now - timezone.timedelta(days=settings.EXPORT_RETENTION_DAYS)
    due = Export.objects.filter(created_at__lt=cutoff, status=ExportStatus.DONE)
    with transaction.atomic():
        files = [name for name in due.select_for_update().values_list("file", flat=True) if name]
        expired = due.update(status=ExportStatus.EXPIRED, file="", progress=0)
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
    if expired:
        logger.info("exports expired: %s (files removed: %s)", expired, len(files))
    return expired


def export_build(*, export_id: int) -> Export | None:
    """Write the export's file to storage; safe to run again (a finished export is kept).

    Returns the export, or None when it no longer exists.
    """
    export = Export.objects.select_related("study", "requested_by").filter(pk=export_id).first()
    if export is None or export.status in (ExportStatus.DONE, ExportStatus.EXPIRED):
        return export  # finished, or expired: a late rerun must not make it again
    progress = _Progress(export.pk)
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, progress=0, error="")
    try:
        study = export.study
        statistics, frozen_at = published_figures(study=study, fresh=True)
        progress(5)
        participants = None
        names = None
        if export.tier != ExportTier.AGGREGATE:
            participants = study_participant_rows(study=study)
        if export.tier == ExportTier.NAMED:
            names = consenting_names(study=study)
        document = document_for(
            statistics=statistics,
            tier=export.tier,
            participants=participants,
            names=names,
            frozen_at=frozen_at,
        )
        progress(10)
        with tempfile.TemporaryFile() as handle:
            rows = write(document, export.format, handle, progress)
            handle.seek(0)
            with transaction.atomic():
                export.file.save(export.filename, File(handle), save=False)
                export.status = ExportStatus.DONE
                export.progress = 100
                export.rows = rows
                export.finished_at = timezone.now()
                export.save(update_fields=["file", "status", "progress", "rows", "finished_at"])
                if export.tier == ExportTier.NAMED:
                    _log_named_export(export, document, participants or [])
    except Exception as exc:
        logger.exception("Export %s failed", export.pk)
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        if export.file:
            export.file.delete(save=False)
        export.refresh_from_db()
    return export


def consenting_names(*, study: Study) -> dict[int, tuple[str, str]]:
    """(name, e-mail) of the study's members who agreed to be named; deleted accounts never."""
    memberships = (
        Membership.objects.filter(
            study=study,
            consent_named=True,
            user__deleted_at__isnull=True,
            user__email__isnull=False,
        )
        .select_related("user")
        .only("user__id", "user__display_name", "user__email", "user__deleted_at")
    )
    return {m.user_id: (m.user.public_name, m.user.email) for m in memberships}


def _log_named_export(export: Export, document: ExportDocument, participants: list) -> None:
    people = {row.user_id for row in participants}
    named = {row["email"] for row in document.participants}
    log_action(
        study=export.study,
        actor=export.requested_by,
        action=LogAction.EXPORT_NAMED,
        target_type="export",
        target_id=export.pk,
        details={
            "token": str(export.token),
            "format": export.format,
            "rows": len(document.participants),
            "named_people": len(named),
            "left_out_people": len(people) - len(named),
            "definitions_version": document.statistics.definitions_version,
        },
    )


# --- Frozen participation reports ---------------------------------------------


def report_freeze(*, study: Study, by: User | None = None) -> ParticipationReport:
    """Store the study's figures now, once: a second call returns the stored report unchanged."""
    existing = ParticipationReport.objects.filter(study=study).first()
    if existing is not None:
        return existing
    statistics = study_statistics(study=study)
    rules: dict[str, list[list[str]]] = {}
    for language in REPORT_LANGUAGES:
        with translation.override(language):
            rules[language] = [[key, str(term), str(text)] for key, term, text in definitions()]
    data: dict[str, Any] = {"statistics": statistics.to_dict(), "definitions": rules}
    with transaction.atomic():
        report, _created = ParticipationReport.objects.get_or_create(
            study=study,
            defaults={
                "definitions_version": statistics.definitions_version,
                "data": data,
                "headline_nb": headline(statistics, "nb")[:500],
                "headline_en": headline(statistics, "en")[:500],
                "frozen_by": by,
            },
        )
    return report


def published_figures(*, study: Study, fresh: bool = False) -> tuple[StudyStatistics, str | None]:
    """The figures every surface publishes, and when they were frozen (None while live).

    Once a study is closed and its report frozen, the report's figures are the
    study's figures everywhere (page, API, open data, exports); anything
    computed later is shown only as a labelled recount.
    """
    frozen = ParticipationReport.objects.filter(study=study).first()
    if frozen is not None:
        return report_statistics(frozen), frozen.frozen_at.isoformat()
    from reports.statistics import cached_study_statistics

    if fresh:
        return study_statistics(study=study), None
    return cached_study_statistics(study), None


def report_statistics(report: ParticipationReport) -> StudyStatistics:
    """The frozen figures, as the statistics module's own type."""
    return StudyStatistics.from_dict(report.data["statistics"])


def report_rules(report: ParticipationReport, language: str | None = None) -> list[tuple]:
    """The definitions texts stored with the report, in the language asked for."""
    stored = report.data.get("definitions") or {}
    language = language or translation.get_language() or "nb"
    rows = stored.get(language) or stored.get("nb") or []
    return [tuple(row) for row in rows]


def report_document(*, report: ParticipationReport) -> ExportDocument:
    """The aggregate export of a frozen report (the published tier), from stored data only."""
    return document_for(
        statistics=report_statistics(report),
        tier=ExportTier.AGGREGATE,
        rules=report_rules(report),
        frozen_at=report.frozen_at.isoformat(),
    )


def report_on_study_closed(sender: Any, *, study: Study, by: User | None = None, **kwargs) -> None:
    """Receiver of studies.services.study_closed: freeze inside the closing transaction."""
    report_freeze(study=study, by=by)
