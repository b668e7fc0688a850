"""People, organisations and affiliations: the lowest layer of Dugnad."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import normalise_domain, validate_domain, validate_org_number


class Sector(models.TextChoices):
    PUBLIC = "public", _("Public sector")
    PRIVATE = "private", _("Private sector")
    ACADEMIA = "academia", _("Academia")
    CIVIL = "civil", _("Civil society")
    OTHER = "other", _("Other")


class DigestFrequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class NotificationKind(models.TextChoices):
    """What a notification is about; people choose per kind how to hear of it.

    Other apps pass one of these values to accounts.services.notification_create.
    """

    REPLY = "reply", _("Replies to my contributions and comments")
    MODERATION = "moderation", _("Moderation decisions on my items")
    INVITATION = "invitation", _("Invitations to studies")
    APPROVAL = "approval", _("Requests to join, and the answers to mine")
    DATA_EXPORT = "data_export", _("My data archive is ready")
    OTHER = "other", _("Other news from my studies")


class Delivery(models.TextChoices):
    INSTANT = "instant", _("E-mail at once")
    DIGEST = "digest", _("E-mail in the digest")
    NONE = "none", _("Only here in Dugnad")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person. Signs in by e-mail; shown by display name, never by e-mail.

    A deleted account keeps its row (items and statistics stay) with the
    e-mail removed and `deleted_at` set.
    """

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail address"), unique=True, null=True, blank=True)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Dugnad's own platform role (accounts/administrators.py): creates studies and
    # appoints their coordinators, runs the organisation registry, sees platform
    # statistics. Django's is_staff only opens the Django admin, for developers.
    is_administrator = models.BooleanField(
        _("platform administrator"), default=False, db_default=False
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The language of the e-mails and notifications we send you."),
    )
    digest_frequency = models.CharField(
        _("digest"),
        max_length=8,
        choices=DigestFrequency.choices,
        default=DigestFrequency.DAILY,
        help_text=_("How often to send the summary of notifications you chose to get in a digest."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.public_name

    @property
    def preferred_language(self) -> str:
        """The language chosen by the person, or the platform's (bokmål) until they choose."""
        return self.language or settings.LANGUAGE_CODE

    @property
    def public_name(self) -> str:
        if self.deleted_at:
            return str(_("Deleted participant"))
        if self.display_name:
            return self.display_name
        # Never the e-mail address or a part of it: a person without a name to
        # show is asked for one before they post (accounts.views.public_name_set).
        return str(_("Participant"))


class OrganisationQuerySet(models.QuerySet):
    def canonical(self) -> OrganisationQuerySet:
        """Organisations that have not been merged into another."""
        return self.filter(merged_into__isnull=True)


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    org_number = models.CharField(
        _("organisation number"),
        max_length=9,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_org_number],
        help_text=_(
            "Nine digits from the Brønnøysund Register Centre, if the organisation has one."
        ),
        error_messages={"unique": _("An organisation with this number is already registered.")},
    )
    sector = models.CharField(_("sector"), max_length=16, choices=Sector.choices)
    website = models.URLField(_("website"), blank=True, max_length=300)
    verified = models.BooleanField(_("verified"), default=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(Lower("name"), name="organisation_lower_name")]
        constraints = [
            models.CheckConstraint(
                condition=Q(sector__in=Sector.values), name="organisation_sector_valid"
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")), name="organisation_not_merged_into_self"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def canonical(self) -> Organisation:
        """The organisation this one was merged into, followed to the end."""
        org, seen = self, {self.pk}
        while org.merged_into_id and org.merged_into_id not in seen:
            seen.add(org.merged_into_id)
            org = org.merged_into
        return org


class OrganisationDomain(models.Model):
    """An e-mail domain of an organisation, entered by an administrator in the registry.

    A person with a verified e-mail address at exactly this domain (not a
    subdomain) has their claim to act for the organisation confirmed at once.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("e-mail domain"), max_length=253, validators=[validate_domain])
    added_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "domain"], name="organisation_domain_unique"
            ),
            models.CheckConstraint(
                condition=Q(domain=Lower("domain")), name="organisation_domain_lower_case"
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    def clean(self) -> None:
        self.domain = normalise_domain(self.domain)


class ClaimState(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")


class ClaimDecision(models.TextChoices):
    """How a claim was decided."""

    DOMAIN = "domain", _("E-mail address at the organisation's domain")
    REPRESENTATIVE = "representative", _("Confirmed by a representative")
    ADMINISTRATOR = "administrator", _("Decided by an administrator")


class AffiliationQuerySet(models.QuerySet):
    def current(self) -> AffiliationQuerySet:
        """Claims the person still holds (they have not left the organisation)."""
        return self.filter(ended_at__isnull=True)

    def actable(self) -> AffiliationQuerySet:
        """Claims a person may act on in a study: held, and not refused."""
        return self.current().exclude(state=ClaimState.REFUSED)


class Affiliation(models.Model):
    """A person's claim to belong to an organisation and act on its behalf.

    Pending until confirmed: by a verified e-mail address at one of the
    organisation's domains, by one of its representatives or by an
    administrator; or refused by a representative or an administrator
    (docs/accounts.md). Items posted for the organisation are counted for it
    only while the claim is confirmed (reports.statistics). The row outlives
    the person leaving the organisation or deleting their account
    (``ended_at``), so that what was decided for their items stays decided.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="affiliations")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="affiliations"
    )
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=ClaimState.choices,
        default=ClaimState.PENDING,
        db_default=ClaimState.PENDING,
    )
    decided_how = models.CharField(
        _("decided by way of"), max_length=16, choices=ClaimDecision.choices, blank=True
    )
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The domain that confirmed it, or the reason given for a refusal.
    decision_note = models.CharField(max_length=500, blank=True)
    # May confirm or refuse the organisation's pending claims (an administrator
    # appoints representatives, from confirmed claims only).
    is_representative = models.BooleanField(_("representative"), default=False)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = AffiliationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="affiliation_unique"),
            models.CheckConstraint(
                condition=Q(state__in=ClaimState.values), name="affiliation_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_representative=False) | Q(state=ClaimState.CONFIRMED),
                name="affiliation_representative_confirmed",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "state"], name="affiliation_org_state")]

    def __str__(self) -> str:
        return f"{self.user} – {self.organisation} ({self.state})"

    @property
    def confirmed(self) -> bool:
        return self.state == ClaimState.CONFIRMED


class Notification(models.Model):
    """Something a person should know: shown in the platform, maybe e-mailed.

    Higher apps create these through accounts.services.notification_create.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # How this notification is e-mailed, fixed when it is created from the
    # person's settings at that time.
    delivery = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.NONE)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The digest that carries it; set when a digest run claims it, so a
    # notification is in exactly one digest.
    digest_run = models.ForeignKey(
        "DigestRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.title


class NotificationSetting(models.Model):
    """How one person wants to hear of one kind of notification (default: e-mail at once)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_settings")
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    delivery = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.INSTANT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_setting_unique"),
            models.CheckConstraint(
                condition=Q(delivery__in=Delivery.values), name="notification_setting_delivery"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.delivery}"


class DigestRun(models.Model):
    """One person's digest for one period: claimed before sending, sent at most once.

    The unique constraint on (user, frequency, period_start) means a period is
    never sent twice, even when two workers or a restarted task meet it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="digest_runs")
    frequency = models.CharField(max_length=8, choices=DigestFrequency.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "frequency", "period_start"], name="digest_run_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"Digest {self.frequency} {self.period_start:%Y-%m-%d} for {self.user_id}"


def data_export_path(instance: DataExport, filename: str) -> str:
    return f"data-exports/{instance.user_id}/{instance.token}/{filename}"


class DataExport(models.Model):
    """A person's archive of their own data, prepared in the background."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_exports")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to=data_export_path, max_length=300, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Data export {self.token} ({self.status})"


class ScheduledTaskRun(models.Model):
    """When a periodic task last ran under the embedded scheduler (config/scheduler.py).

    One row per entry of CELERY_BEAT_SCHEDULE. A run is claimed by one UPDATE
    that moves ``last_run_at`` only if the entry is due, so two web processes,
    or one restarted, never run the same occurrence twice.
    """

    name = models.CharField(max_length=200, unique=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (last run {self.last_run_at})"
