"""Studies, their sections, phases, document versions, members and events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.administrators import is_administrator
from accounts.models import Organisation


class StudyStatus(models.TextChoices):
    # A context keeps these apart from other apps' "Open" (a verb, or a queue).
    DRAFT = "draft", pgettext_lazy("study status", "Draft")
    OPEN = "open", pgettext_lazy("study status", "Open")
    CLOSED = "closed", pgettext_lazy("study status", "Closed")
    ARCHIVED = "archived", pgettext_lazy("study status", "Archived")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    MEMBERS = "members", _("Members only")


class Joining(models.TextChoices):
    OPEN = "open", _("Anyone can join")
    INVITATION = "invitation", _("By invitation only")
    APPROVAL = "approval", _("On approval by a coordinator")


class ModerationMode(models.TextChoices):
    POST = "post", _("Post-moderation: items appear at once")
    PRE = "pre", _("Pre-moderation: items appear once approved")


class Role(models.TextChoices):
    CONTRIBUTOR = "contributor", _("Contributor")
    FACILITATOR = "facilitator", _("Facilitator")
    COORDINATOR = "coordinator", _("Coordinator")


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    BLOCKED = "blocked", _("Blocked")
    LEFT = "left", _("Left")


class StudyQuerySet(models.QuerySet):
    def listed(self) -> StudyQuerySet:
        """Studies that appear in the default public listings."""
        return self.filter(status__in=[StudyStatus.OPEN, StudyStatus.CLOSED])

    def visible_to(self, user) -> StudyQuerySet:
        """Studies this person may see: the same rule as ``studies.access.can`` for VIEW.

        Public studies that are not drafts, for everyone; members-only ones for
        their members while no block is in force; drafts for their facilitators
        and coordinators. Members-only studies do not exist for anyone outside
        them, and a list never names a study whose page would be "not found".
        """
        public = Q(visibility=Visibility.PUBLIC) & ~Q(status=StudyStatus.DRAFT)
        if user is None or not user.is_authenticated:
            return self.filter(public)
        if is_administrator(user):
            return self.all()
        # One filter() call: every memberships__ condition below is on the same row.
        present = [MembershipStatus.ACTIVE, MembershipStatus.BLOCKED]
        unblocked = Q(memberships__user=user, memberships__status=MembershipStatus.ACTIVE) | Q(
            memberships__user=user,
            memberships__status=MembershipStatus.BLOCKED,
            memberships__blocked_until__lte=timezone.now(),
        )
        staff = Q(
            memberships__user=user,
            memberships__status__in=present,
            memberships__role__in=[Role.COORDINATOR, Role.FACILITATOR],
        )
        draft = Q(status=StudyStatus.DRAFT)
        return self.filter(public | (~draft & unblocked) | (draft & staff)).distinct()


class Study(models.Model):
    slug = models.SlugField(_("short name in the address"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=600, blank=True)
    body = models.TextField(_("concept document (Markdown)"), blank=True, max_length=200_000)
    status = models.CharField(
        _("status"), max_length=16, choices=StudyStatus.choices, default=StudyStatus.DRAFT
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    joining = models.CharField(
        _("joining"), max_length=16, choices=Joining.choices, default=Joining.OPEN
    )
    moderation_mode = models.CharField(
        _("moderation"), max_length=8, choices=ModerationMode.choices, default=ModerationMode.POST
    )
    opens_at = models.DateTimeField(_("opens"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    flag_threshold = models.PositiveSmallIntegerField(
        _("flags before automatic hiding"),
        default=3,
        help_text=_("When this many different people flag an item, it is hidden pending review."),
    )
    small_count_threshold = models.PositiveSmallIntegerField(
        _("small-count threshold"),
        default=3,
        help_text=_("Published per-organisation counts below this are shown as “<k”."),
    )
    # The number of the last recorded StudyEvent; raised under a row lock so
    # that events commit in the order of their numbers.
    last_event_seq = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StudyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="study_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(status__in=StudyStatus.values), name="study_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == StudyStatus.OPEN

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC


class Section(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("title"), max_length=200)
    prompt = models.TextField(_("prompt"), blank=True, max_length=2000)

    class Meta:
        ordering = ["study", "order"]
        constraints = [
            models.UniqueConstraint(fields=["study", "order"], name="section_order_unique")
        ]

    def __str__(self) -> str:
        return self.title


class Phase(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="phases")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    sections = models.ManyToManyField(
        Section, blank=True, related_name="phases", verbose_name=_("sections open in this phase")
    )

    class Meta:
        ordering = ["study", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="phase_dates_in_order"
            )
        ]

    def __str__(self) -> str:
        return self.title


class DocumentVersion(models.Model):
    """A published version of the concept document, with what changed."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="versions")
    number = models.CharField(_("version"), max_length=20)
    body = models.TextField(_("document (Markdown)"), max_length=200_000)
    change_summary = models.TextField(_("what changed"), max_length=5000)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["study", "published_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="document_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study} {self.number}"


class MembershipQuerySet(models.QuerySet):
    def active(self) -> MembershipQuerySet:
        return self.filter(status=MembershipStatus.ACTIVE)


class Membership(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CONTRIBUTOR)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("acting for"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
        help_text=_("Leave empty to take part as yourself."),
    )
    consent_named = models.BooleanField(
        _("I agree to be named in the study's participant export"), default=False
    )
    status = models.CharField(
        max_length=16, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    blocked_reason = models.CharField(max_length=500, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["study", "joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="membership_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.study} ({self.role})"

    @property
    def is_blocked(self) -> bool:
        if self.status != MembershipStatus.BLOCKED:
            return False
        return self.blocked_until is None or self.blocked_until > timezone.now()


class Invitation(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    token = models.CharField(max_length=64, unique=True)
    # The role the invited person takes on accepting: contributors are invited by
    # coordinators; an administrator appoints a new study's coordinator this way.
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CONTRIBUTOR)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.study}"


class JoinRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class JoinRequest(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent_named = models.BooleanField(default=False)
    message = models.CharField(max_length=1000, blank=True)
    status = models.CharField(
        max_length=16, choices=JoinRequestStatus.choices, default=JoinRequestStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "user"],
                condition=Q(status="pending"),
                name="join_request_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.study} ({self.status})"


class StudyEvent(models.Model):
    """Append-only record of what changed in a study; the live stream replays it.

    A reference, never a copy: ``data`` names the item and holds ids, states,
    revisions and counts, no text and no names (docs/live.md). A resume
    renders the items as they are now.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=80, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["study", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["study", "seq"], name="study_event_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study_id}#{self.seq} {self.kind}"


class BlockKind(models.TextChoices):
    HEADING = "heading", _("Heading")
    PARAGRAPH = "paragraph", _("Paragraph")
    ITEM = "item", _("List item")
    TABLE = "table", _("Table")
    QUOTE = "quote", _("Quotation")
    CODE = "code", _("Code")


class DocumentBlock(models.Model):
    """One block of a published version, with the anchor that follows its text.

    Made once per version (studies.blocks); a block of a later version that
    resembles one of the previous version keeps its anchor.
    """

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="blocks")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=BlockKind.choices)
    anchor = models.CharField(max_length=16)
    source = models.TextField()
    text = models.TextField()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="block_position_unique"),
            models.UniqueConstraint(fields=["version", "anchor"], name="block_anchor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.version} #{self.anchor}"
