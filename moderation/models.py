"""Flags, facilitators' private notes, digests and the append-only moderation log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contributions.models import Comment, Contribution, ModerationReason
from studies.models import Study


class FlagReason(models.TextChoices):
    SPAM = "spam", _("spam")
    ABUSE = "abuse", _("abusive or offensive")
    OFF_TOPIC = "off_topic", _("off-topic")
    PERSONAL_DATA = "personal_data", _("personal data")
    OTHER = "other", _("other")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    UPHELD = "upheld", _("Acted on")
    DISMISSED = "dismissed", _("Dismissed")


class ItemTarget(models.Model):
    """Points at exactly one contribution or comment of the study."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    contribution = models.ForeignKey(
        Contribution, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def item(self) -> Contribution | Comment:
        return self.contribution if self.contribution_id else self.comment

    @property
    def item_type(self) -> str:
        return "contribution" if self.contribution_id else "comment"


def _one_item(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(contribution__isnull=False, comment__isnull=True)
        | Q(contribution__isnull=True, comment__isnull=False),
        name=name,
    )


class FlagQuerySet(models.QuerySet):
    def open(self) -> FlagQuerySet:
        return self.filter(status=FlagStatus.OPEN)

    def for_item(self, item: Contribution | Comment) -> FlagQuerySet:
        if isinstance(item, Contribution):
            return self.filter(contribution=item)
        return self.filter(comment=item)


class Flag(ItemTarget):
    """A participant's report that an item breaks the rules; one per person per item."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=20, choices=FlagReason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = FlagQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["study", "status", "created_at"], name="flag_study_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "contribution"],
                condition=Q(contribution__isnull=False),
                name="flag_one_per_contribution",
            ),
            models.UniqueConstraint(
                fields=["user", "comment"],
                condition=Q(comment__isnull=False),
                name="flag_one_per_comment",
            ),
            models.CheckConstraint(
                condition=Q(reason__in=FlagReason.values), name="flag_reason_valid"
            ),
            _one_item("flag_one_item"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on {self.item_type} {self.item.pk}"


class FacilitatorNote(ItemTarget):
    """A private note on an item, seen only by the study's facilitators and coordinators."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("note"), max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [_one_item("facilitator_note_one_item")]

    def __str__(self) -> str:
        return f"Note on {self.item_type} {self.item.pk}"


class ModerationDigest(models.Model):
    """One batched e-mail to a study's facilitators; the latest ``window_end`` is the cursor."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    window_end = models.DateTimeField()
    flag_count = models.PositiveIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0)
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["study", "-window_end"]
        constraints = [
            models.UniqueConstraint(fields=["study", "window_end"], name="digest_window_unique")
        ]

    def __str__(self) -> str:
        return f"Digest for {self.study_id} up to {self.window_end:%Y-%m-%d %H:%M}"


class LogAction(models.TextChoices):
    AUTO_HIDE = "auto_hide", _("hidden automatically after flags")
    HIDE = "hide", _("hidden")
    RESTORE = "restore", _("restored")
    APPROVE = "approve", _("approved")
    REJECT = "reject", _("rejected")
    REMOVE = "remove", _("removed")
    DISMISS_FLAGS = "dismiss_flags", _("flags dismissed")
    BLOCK = "block", _("member blocked")
    UNBLOCK = "unblock", _("member unblocked")
    NOTE = "note", _("private note added")
    OFFICIAL_ANSWER = "official_answer", _("official answer given")
    EXPORT_NAMED = "export_named", _("named export")
    # Polls and surveys (polls/): wording fixed after votes; free text hidden or restored.
    POLL_WORDING = "poll_wording", _("poll wording fixed after votes")
    TEXT_HIDE = "text_hide", _("answer text hidden")
    TEXT_RESTORE = "text_restore", _("answer text restored")


class AppendOnlyError(Exception):
    """The moderation log is append-only: entries are never changed or deleted."""


class ModerationLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The moderation log is append-only.")

    def delete(self):
        raise AppendOnlyError("The moderation log is append-only.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("The moderation log is append-only.")

    # The deletion collector's fast path bypasses delete().
    def _raw_delete(self, using):
        raise AppendOnlyError("The moderation log is append-only.")


class ModerationLog(models.Model):
    """Append-only record of every moderation action and every named export.

    Refused in three places: the model (save of an existing row, delete), the
    queryset (update, delete) and the database (triggers on UPDATE and DELETE,
    migrations 0002 and 0003, and on PostgreSQL a statement trigger on TRUNCATE,
    0004; only Django's whole-database flush gets through, see core/backends/__init__.py).
    Foreign keys protect, so no cascade reaches a row.
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="+")
    # Empty for actions the platform took itself (automatic hiding).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=1000, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ModerationLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["study", "created_at"], name="moderation_log_study")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_type} {self.target_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The moderation log is append-only.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The moderation log is append-only.")

    @property
    def action_label(self) -> str:
        try:
            return str(LogAction(self.action).label)
        except ValueError:
            return self.action

    @property
    def reason_label(self) -> str:
        return str(dict(ModerationReason.choices).get(self.reason, self.reason))
