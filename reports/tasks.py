"""Celery tasks of reports: writing export files, and removing them when they expire."""

from __future__ import annotations

from celery import shared_task
from django.utils import translation

from reports import services


@shared_task(ignore_result=True, acks_late=True, background=True)
def build_export(export_id: int, language: str = "nb") -> None:
    """Write one export's file; labels follow the language of the person who asked."""
    with translation.override(language):
        services.export_build(export_id=export_id)


@shared_task(ignore_result=True, acks_late=True)
def exports_expire() -> int:
    """Remove the files of exports older than EXPORT_RETENTION_DAYS (Celery beat, hourly)."""
    return services.exports_expire()
