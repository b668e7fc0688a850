"""A study's structure kept in memory, and the change marks that keep it true.

The study page reads a study's sections, phases and newest version on every
view. Each process keeps what it read under ``(study id, updated_at)``; any
write to a section, a phase, a phase's sections or a document version moves
the study's ``updated_at`` right after it, in its transaction when there is
one (the signal handlers below, which also cover the admin;
``studies.services._save_sections`` calls ``mark_changed`` after its bulk
updates, which send no signals), so the next view reads a new key and loads
the new structure. Nothing is ever invalidated: an old key is simply not
asked for again and falls out of the memory.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from core.memory import Memory, MiB

MAX_KEPT = 256  # studies' structures kept per process
MAX_KEPT_BYTES = MiB // 2

_kept = Memory("studies.structure", MAX_KEPT, max_bytes=MAX_KEPT_BYTES)


def remembered(study, load):
    return _kept.get_or_set((study.pk, study.updated_at), lambda: load(study))


def mark_changed(study_id: int | None) -> None:
    """Move the study's ``updated_at``: what was kept for it is not read again."""
    from studies.models import Study

    if study_id is not None:
        Study.objects.filter(pk=study_id).update(updated_at=timezone.now())


def _on_change(sender, instance, **kwargs) -> None:
    mark_changed(getattr(instance, "study_id", None))


def _on_phase_sections(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if not action.startswith("post_"):
        return
    from studies.models import Phase, Section

    if isinstance(instance, Phase | Section):
        mark_changed(instance.study_id)


def connect() -> None:
    from studies.models import DocumentVersion, Phase, Section

    for model in (Section, Phase, DocumentVersion):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"structure-save-{model.__name__}")
        post_delete.connect(
            _on_change, sender=model, dispatch_uid=f"structure-delete-{model.__name__}"
        )
    m2m_changed.connect(
        _on_phase_sections, sender=Phase.sections.through, dispatch_uid="structure-phase-sections"
    )
