"""Exports, frozen participation reports, the history of organisation merges and the
participation summaries the statistics read (kept by database triggers, reports/summaries.py)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from studies.models import Study


class ExportTier(models.TextChoices):
    AGGREGATE = "aggregate", _("Aggregate (safe to publish)")
    PSEUDONYMOUS = "pseudonymous", _("Pseudonymous (a row per participant)")
    NAMED = "named", _("Named (participants who consented)")


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    JSON = "json", "JSON"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Being made")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


def export_path(instance: Export, filename: str) -> str:
    return f"exports/{instance.study_id}/{instance.token}/{filename}"


class Export(models.Model):
    """One requested export file; only the study's coordinators may download it."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    tier = models.CharField(_("tier"), max_length=16, choices=ExportTier.choices)
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)  # per cent
    file = models.FileField(upload_to=export_path, max_length=300, blank=True)
    rows = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["study", "created_at"], name="export_study_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(tier__in=ExportTier.values), name="export_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=ExportFormat.values), name="export_format_valid"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="export_progress_max"),
        ]

    def __str__(self) -> str:
        return f"{self.study} {self.tier} {self.format}"

    @property
    def filename(self) -> str:
        stamp = timezone.localtime(self.created_at).strftime("%Y%m%d-%H%M")
        return f"{self.study.slug}-{self.tier}-{stamp}.{self.format}"


class ParticipationReport(models.Model):
    """The figures of a closed study, frozen: later changes never touch them."""

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="+")
    definitions_version = models.PositiveSmallIntegerField()
    data = models.JSONField()
    headline_nb = models.CharField(max_length=500)
    headline_en = models.CharField(max_length=500)
    frozen_at = models.DateTimeField(default=timezone.now)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-frozen_at"]

    def __str__(self) -> str:
        return f"Participation report of {self.study}"


class OrganisationMerge(models.Model):
    """History of the registry: which organisation was merged into which, by whom."""

    source = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    # Organisations that had been merged into the source, re-pointed to the target.
    repointed = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="organisation_merge_not_self"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class ParticipationSummary(models.Model):
    """Counted items of one person in one study, per organisation acted for and sector.

    One row per (study, author, acted_for, acted_for_sector) as recorded on the
    items (the snapshot; merges are resolved when reading). Written only by
    the database triggers of reports/summaries.py and by rebuild_statistics;
    never by application code.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    acted_for = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acted_for_sector = models.CharField(max_length=16, blank=True)
    contributions = models.IntegerField(default=0)
    comments = models.IntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The per-organisation and per-sector sums read this index alone.
            models.Index(
                fields=["study", "acted_for", "acted_for_sector"],
                include=["contributions", "comments"],
                name="participation_summary_key",
            ),
            # People with several rows are looked up here (index only).
            models.Index(
                fields=["study", "author"],
                include=["acted_for", "acted_for_sector"],
                name="participation_summary_people",
            ),
        ]
        constraints = [
            # No organisation is group 0, so that ON CONFLICT sees one group.
            models.UniqueConstraint(
                F("study"),
                F("author"),
                Coalesce(F("acted_for"), Value(0)),
                F("acted_for_sector"),
                name="participation_summary_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.study_id}/{self.author_id}/{self.acted_for_id}/{self.acted_for_sector}"


class ParticipationDay(models.Model):
    """Counted items of one study on one Europe/Oslo calendar day, and new participants.

    ``new_participants``: people whose first counted item in the study is on
    this day (ParticipationPerson.first_day).
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    contributions = models.IntegerField(default=0)
    comments = models.IntegerField(default=0)
    new_participants = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "day"], name="participation_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study_id}/{self.day}"


class ParticipationPerson(models.Model):
    """One participant of one study: their summary rows and their first counted item.

    ``groups`` is the number of the person's ParticipationSummary rows (one
    per organisation and sector they posted for); people with one row are
    counted per organisation and sector from sums, the few with more are
    counted distinctly. ``first_day`` is the Europe/Oslo day of ``first_at``:
    the day the person became a participant. Kept by the same triggers.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    groups = models.IntegerField(default=0)
    first_at = models.DateTimeField(null=True)
    first_day = models.DateField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["study", "first_day"], name="participation_person_day"),
            models.Index(
                fields=["study", "author"],
                condition=Q(groups__gt=1),
                name="participation_person_multi",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["study", "author"], name="participation_person_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study_id}/{self.author_id}"


class ParticipationOrganisation(models.Model):
    """The summary summed per (study, organisation acted for, snapshot sector).

    ``participants`` is the number of ParticipationSummary rows with this key:
    each is one person. Merges are resolved when reading (people who posted
    for two organisations that are now one are counted once there, from
    their summary rows). Kept by the same triggers.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    acted_for = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acted_for_sector = models.CharField(max_length=16, blank=True)
    participants = models.IntegerField(default=0)
    contributions = models.IntegerField(default=0)
    comments = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                F("study"),
                Coalesce(F("acted_for"), Value(0)),
                F("acted_for_sector"),
                name="participation_organisation_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.study_id}/{self.acted_for_id}/{self.acted_for_sector}"


class ParticipationMultiGroup(models.Model):
    """The summary keys of people with several summary rows in a study (groups > 1).

    Only for them can a per-organisation or per-sector count of people differ
    from a sum over ParticipationOrganisation; the study statistics correct
    with these rows. Kept by the same triggers, under the person's row lock.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    acted_for = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acted_for_sector = models.CharField(max_length=16, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["study", "author"],
                include=["acted_for", "acted_for_sector"],
                name="participation_multi_study",
            )
        ]

    def __str__(self) -> str:
        return f"{self.study_id}/{self.author_id}/{self.acted_for_id}/{self.acted_for_sector}"
