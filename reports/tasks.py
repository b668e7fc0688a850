"""Celery tasks of reports: writing export files."""

from __future__ import annotations

from celery import shared_task
from django.utils import translation


@shared_task(ignore_result=True, acks_late=True)
def build_export(export_id: int, language: str = "nb") -> None:
    """Write one export's file; labels follow the language of the person who asked."""
    from reports.services import export_build

    with translation.override(language):
        export_build(export_id=export_id)
