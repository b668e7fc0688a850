"""Contributions, comments, reactions, attachments and edit history.

Every item stores a snapshot of the organisation and sector its author acted
for when posting. Statistics read only the snapshot.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ClaimState, Organisation, Sector
from studies.models import DocumentBlock, DocumentVersion, Section, Study


class ItemState(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    PUBLISHED = "published", _("Published")
    HIDDEN = "hidden", _("Hidden")
    REJECTED = "rejected", _("Rejected")
    REMOVED = "removed", _("Removed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ModerationReason(models.TextChoices):
    SPAM = "spam", _("spam")
    ABUSE = "abuse", _("abusive or offensive")
    OFF_TOPIC = "off_topic", _("off-topic")
    PERSONAL_DATA = "personal_data", _("personal data")
    FLAGGED = "flagged", _("flagged by participants, waiting for review")
    OTHER = "other", _("other")


# Items hidden or removed for these reasons are not counted in statistics.
UNCOUNTED_REASONS = (ModerationReason.SPAM, ModerationReason.ABUSE)


class ContributionKind(models.TextChoices):
    IDEA = "idea", _("Idea")
    INSIGHT = "insight", _("Insight")
    QUESTION = "question", _("Question")
    CONCERN = "concern", _("Concern")
    # Pinned to a block of the concept document (contributions/passages.py):
    # posted from the document, never from the posting form.
    PASSAGE = "passage", _("Comment on a passage")
    AMENDMENT = "amendment", _("Amendment")


DOCUMENT_KINDS = (ContributionKind.PASSAGE, ContributionKind.AMENDMENT)
POSTED_KINDS = [
    (value, label) for value, label in ContributionKind.choices if value not in DOCUMENT_KINDS
]


class ItemQuerySet(models.QuerySet):
    def counted(self):
        """Items that count in statistics (definitions, version 1).

        Published; hidden for a reason other than spam or abuse; or withdrawn
        by the author. Pending, rejected and removed items do not count.
        """
        return self.filter(
            Q(state__in=[ItemState.PUBLISHED, ItemState.WITHDRAWN])
            | (Q(state=ItemState.HIDDEN) & ~Q(moderation_reason__in=UNCOUNTED_REASONS))
        )

    def visible_on_page(self):
        """Items that have a place on the public page (content or a marker)."""
        return self.exclude(state__in=[ItemState.PENDING, ItemState.REJECTED])


class Item(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("text"), max_length=10_000)
    body_html = models.TextField(blank=True, editable=False)
    state = models.CharField(max_length=16, choices=ItemState.choices, default=ItemState.PUBLISHED)
    moderation_reason = models.CharField(
        max_length=20, choices=ModerationReason.choices, blank=True
    )
    moderation_note = models.CharField(max_length=500, blank=True)
    # Snapshot of who the author acted for when posting; never rewritten.
    acted_for = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acted_for_sector = models.CharField(max_length=16, choices=Sector.choices, blank=True)
    # The state of the author's claim to act for ``acted_for``, as it is now:
    # posted under a pending claim, the item says the author "says they
    # represent" the organisation; a confirmation or refusal of the claim
    # updates it (accounts.signals.claim_decided). Statistics read the claim
    # itself (reports.statistics); this copy is what the item shows.
    acted_for_claim = models.CharField(
        max_length=16, choices=ClaimState.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Raised on every visible change; clients keep the highest revision they saw.
    revision = models.PositiveIntegerField(default=1)
    idempotency_key = models.UUIDField(null=True, blank=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def shown_organisation(self) -> Organisation | None:
        """The organisation the item names: none after the author's claim was refused."""
        if self.acted_for_id is None or self.acted_for_claim == ClaimState.REFUSED:
            return None
        return self.acted_for

    @property
    def organisation_unconfirmed(self) -> bool:
        """The author says they represent the organisation; no one has confirmed it yet."""
        return self.acted_for_id is not None and self.acted_for_claim not in (
            ClaimState.CONFIRMED,
            ClaimState.REFUSED,
        )


class Contribution(Item):
    title = models.CharField(_("title"), max_length=200)
    section = models.ForeignKey(
        Section,
        verbose_name=_("section"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contributions",
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=ContributionKind.choices, default=ContributionKind.IDEA
    )
    taken_up_in = models.ManyToManyField(DocumentVersion, blank=True, related_name="taken_up")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["study", "state", "created_at"], name="contribution_study_state"),
            models.Index(fields=["study", "acted_for"], name="contribution_study_org"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="contribution_idempotency",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def dom_id(self) -> str:
        return f"contribution-{self.pk}"


class Comment(Item):
    contribution = models.ForeignKey(
        Contribution, on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    # An official answer from a facilitator, shown apart from the discussion.
    official = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["study", "state", "created_at"], name="comment_study_state"),
            models.Index(fields=["study", "acted_for"], name="comment_study_org"),
            models.Index(fields=["contribution", "created_at"], name="comment_contribution"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="comment_idempotency",
            )
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.contribution_id}"

    @property
    def dom_id(self) -> str:
        return f"comment-{self.pk}"


class Revision(models.Model):
    """An earlier text of an edited item; shown to facilitators."""

    contribution = models.ForeignKey(
        Contribution, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions"
    )
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contribution__isnull=False, comment__isnull=True)
                | Q(contribution__isnull=True, comment__isnull=False),
                name="revision_one_item",
            )
        ]

    def __str__(self) -> str:
        return f"Revision {self.pk} of {self.contribution_id or self.comment_id}"


class Reaction(models.Model):
    """One per person per item."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    contribution = models.ForeignKey(
        Contribution, null=True, blank=True, on_delete=models.CASCADE, related_name="reactions"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="reactions"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "contribution"],
                condition=Q(contribution__isnull=False),
                name="reaction_one_per_contribution",
            ),
            models.UniqueConstraint(
                fields=["user", "comment"],
                condition=Q(comment__isnull=False),
                name="reaction_one_per_comment",
            ),
            models.CheckConstraint(
                condition=Q(contribution__isnull=False, comment__isnull=True)
                | Q(contribution__isnull=True, comment__isnull=False),
                name="reaction_one_item",
            ),
        ]

    def __str__(self) -> str:
        return f"Reaction {self.pk} by {self.user_id}"


ATTACHMENT_TYPES = {
    # magic bytes -> (content type, file extension): the only files Dugnad stores
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}
# What a stored file that matches none of them (an older or damaged file) is sent as.
UNCHECKED_TYPE = ("application/octet-stream", "bin")
ATTACHMENT_STEM_MAX = 100
# Path separators, characters Windows refuses in names, and the header's own quote.
_NAME_UNSAFE = re.compile(r'[/:*?"<>|]')
_ASCII_LETTERS = str.maketrans({"æ": "ae", "Æ": "Ae", "ø": "o", "Ø": "O", "ß": "ss"})


def attachment_type_of(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a file from its first bytes, or None: not one we take."""
    for magic, found in ATTACHMENT_TYPES.items():
        if head.startswith(magic):
            return found
    return None


def attachment_filename(name: str, extension: str) -> str:
    """The name a file is offered under: the uploaded name's stem, without path, control,
    format (bidirectional overrides) or reserved characters, and the checked type's
    extension instead of its own."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _NAME_UNSAFE.sub("_", name)
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = " ".join(stem.split()).strip(" .")[:ATTACHMENT_STEM_MAX].strip(" .")
    return f"{stem or 'attachment'}.{extension}"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition header (RFC 6266) for a name made by attachment_filename:
    an ASCII ``filename`` every client reads, and ``filename*`` (RFC 5987) when the
    name is not ASCII."""
    kind = "inline" if inline else "attachment"
    ascii_name = "".join(
        c if c.isascii() else "_"
        for c in unicodedata.normalize("NFKD", filename.translate(_ASCII_LETTERS))
        if not unicodedata.combining(c)
    ).replace("%", "_")
    header = f'{kind}; filename="{ascii_name}"'
    if ascii_name != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.contribution.study_id}/{instance.contribution_id}/{filename}"


class Attachment(models.Model):
    contribution = models.ForeignKey(
        Contribution, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def download_name(self) -> str:
        """The name shown and sent: names stored before the type's extension was
        enforced are corrected here too."""
        extension = dict(ATTACHMENT_TYPES.values()).get(self.content_type, UNCHECKED_TYPE[1])
        return attachment_filename(self.original_name, extension)


class Passage(models.Model):
    """Where a comment on a passage or an amendment is pinned in the concept document.

    ``origin`` is the block it was written on and never changes; ``block`` is
    where it sits now: carried to the most similar block of each new version
    (studies.blocks.best_match). ``gone`` means the latest version has no such
    passage: it stays visible as "on version 0.8: …" with ``block``'s text.
    """

    contribution = models.OneToOneField(
        Contribution, on_delete=models.CASCADE, related_name="passage"
    )
    # RESTRICT, not PROTECT: deleting a study (or account) cascades through both sides.
    origin = models.ForeignKey(DocumentBlock, on_delete=models.RESTRICT, related_name="+")
    block = models.ForeignKey(DocumentBlock, on_delete=models.RESTRICT, related_name="passages")
    quote = models.CharField(_("quoted words"), max_length=1000, blank=True)
    gone = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["block", "gone"], name="passage_block")]

    def __str__(self) -> str:
        return f"Passage of {self.contribution_id} at {self.block_id}"


class AmendmentStatus(models.TextChoices):
    OPEN = "open", _("Proposed")
    CONSIDERING = "considering", _("Under consideration")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Amendment(models.Model):
    """Proposed new wording for one block; the contribution holds the reason.

    Facilitators and coordinators decide; an accepted wording goes into the
    study's draft and is credited in the version that publishes it.
    """

    contribution = models.OneToOneField(
        Contribution, on_delete=models.CASCADE, related_name="amendment"
    )
    wording = models.TextField(_("proposed wording"), max_length=5000)
    status = models.CharField(
        max_length=16, choices=AmendmentStatus.choices, default=AmendmentStatus.OPEN
    )
    decision_reason = models.CharField(max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    credited_in = models.ForeignKey(
        DocumentVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="credited_amendments",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AmendmentStatus.values), name="amendment_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"Amendment {self.contribution_id} ({self.status})"

    @property
    def decided(self) -> bool:
        return self.status in (AmendmentStatus.ACCEPTED, AmendmentStatus.DECLINED)
