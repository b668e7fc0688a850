"""Writes on people, organisations, notifications, digests and personal data."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import zipfile
from dataclasses import dataclass
from io import BytesIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.administrators import check_administrator, is_administrator
from accounts.formatting import long_moment
from accounts.models import (
    Affiliation,
    ClaimDecision,
    ClaimState,
    DataExport,
    Delivery,
    DigestFrequency,
    DigestRun,
    Notification,
    NotificationKind,
    NotificationSetting,
    Organisation,
    OrganisationDomain,
    User,
)
from accounts.selectors import (
    DATA_EXPORT_KEEP,
    forget_unread_count,
    notification_delivery,
    personal_data,
)
from accounts.signals import (
    account_deleted,
    account_deletion_check,
    claim_decided,
    unread_count_changed,
)
from accounts.validators import normalise_domain, normalise_org_number
from core.cache import drop
from core.tasks import task

logger = logging.getLogger(__name__)

# A digest claimed by a worker that died is taken over after this long.
DIGEST_CLAIM_LEASE = dt.timedelta(minutes=10)


def organisation_create(
    *,
    name: str,
    sector: str,
    org_number: str = "",
    website: str = "",
    created_by: User | None = None,
) -> Organisation:
    """Create an organisation after full validation; raises ValidationError, saves nothing then."""
    organisation = Organisation(
        name=name.strip(),
        sector=sector,
        org_number=normalise_org_number(org_number) or None,
        website=website.strip(),
        created_by=created_by,
    )
    organisation.full_clean()
    organisation.save()
    return organisation


class ClaimError(ValueError):
    """A claim or a decision on one refused for a reason the person can act on; nothing changed."""


@transaction.atomic
def affiliation_add(*, user: User, organisation: Organisation) -> Affiliation:
    """Claim to belong to ``organisation`` (its canonical one) and to act for it.

    The claim is pending until confirmed (docs/accounts.md); it is confirmed
    at once when the person has a verified e-mail address at one of the
    organisation's domains. Claiming again is harmless; a claim given up
    earlier is taken up again as it was. A refused claim cannot be made again
    by the person (ClaimError): only an administrator can change that decision.
    """
    organisation = organisation.canonical()
    affiliation, created = Affiliation.objects.select_for_update().get_or_create(
        user=user, organisation=organisation
    )
    if not created:
        if affiliation.state == ClaimState.REFUSED:
            raise ClaimError(
                _(
                    "Your claim to represent %(name)s was refused. If that is wrong, ask "
                    "the organisation's representative or an administrator."
                )
                % {"name": organisation.name}
            )
        if affiliation.ended_at is not None:
            affiliation.ended_at = None
            affiliation.save(update_fields=["ended_at"])
    if affiliation.state == ClaimState.PENDING:
        claim_confirm_by_domain(affiliation=affiliation)
    return affiliation


def affiliation_remove(*, user: User, organisation: Organisation) -> None:
    """The person no longer belongs to the organisation.

    The claim is kept, ended, with its state: items posted for the
    organisation are counted as they were decided (a representative is a
    representative no more).
    """
    Affiliation.objects.filter(user=user, organisation=organisation, ended_at__isnull=True).update(
        ended_at=timezone.now(), is_representative=False
    )


def _email_domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def verified_domains(*, user: User) -> set[str]:
    """The domains of the person's verified e-mail addresses (allauth's records)."""
    from allauth.account.models import EmailAddress

    return {
        _email_domain(address)
        for address in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }


def claim_confirm_by_domain(*, affiliation: Affiliation) -> bool:
    """Confirm a pending claim when the person has a verified address at one of the
    organisation's domains (exactly that domain, not a subdomain); True if it was."""
    if affiliation.state != ClaimState.PENDING or affiliation.user.deleted_at is not None:
        return False
    organisation = affiliation.organisation
    domains = set(
        OrganisationDomain.objects.filter(
            Q(organisation=organisation) | Q(organisation=organisation.merged_into_id)
        ).values_list("domain", flat=True)
    )
    matched = sorted(domains & verified_domains(user=affiliation.user))
    if not matched:
        return False
    _claim_set(
        affiliation, state=ClaimState.CONFIRMED, how=ClaimDecision.DOMAIN, by=None, note=matched[0]
    )
    return True


@transaction.atomic
def claims_confirm_by_domain(*, user: User | None = None, organisation=None) -> int:
    """Confirm the pending claims (of a person, or on an organisation) that a verified
    address now confirms; how many. Called when an address is verified and when an
    administrator adds a domain."""
    claims = Affiliation.objects.select_for_update().filter(state=ClaimState.PENDING)
    if user is not None:
        claims = claims.filter(user=user)
    if organisation is not None:
        claims = claims.filter(
            Q(organisation=organisation) | Q(organisation__merged_into=organisation)
        )
    return sum(
        claim_confirm_by_domain(affiliation=claim)
        for claim in claims.select_related("user", "organisation").order_by("pk")
    )


def _claim_set(
    affiliation: Affiliation, *, state: str, how: str, by: User | None, note: str = ""
) -> None:
    """Record a decision and tell the higher apps (items, statistics) and the person."""
    affiliation.state = state
    affiliation.decided_how = how
    affiliation.decided_by = by
    affiliation.decided_at = timezone.now()
    affiliation.decision_note = note[:500]
    if state != ClaimState.CONFIRMED:
        affiliation.is_representative = False
    affiliation.save(
        update_fields=[
            "state",
            "decided_how",
            "decided_by",
            "decided_at",
            "decision_note",
            "is_representative",
        ]
    )
    claim_decided.send(
        sender=Affiliation,
        user_id=affiliation.user_id,
        organisation_id=affiliation.organisation_id,
        state=state,
    )
    name = affiliation.organisation.name
    if state == ClaimState.CONFIRMED:
        title = format_lazy(gettext_lazy("You are confirmed as representing {name}"), name=name)
        body = gettext_lazy("What you post for the organisation is shown and counted as its.")
    else:
        title = format_lazy(gettext_lazy("Your claim to represent {name} was refused"), name=name)
        body = format_lazy(
            gettext_lazy(
                "What you posted for it stays, shown and counted as posted by you as "
                "yourself. {reason}"
            ),
            reason=note,
        )
    notification_create(
        user=affiliation.user,
        kind="claim_decided",
        title=title,
        body=body,
        url=reverse("profile"),
    )


def may_decide_claims(*, user: User, organisation: Organisation) -> str:
    """How ``user`` may decide claims on ``organisation``: "administrator",
    "representative", or "" (not at all)."""
    if is_administrator(user):
        return ClaimDecision.ADMINISTRATOR
    if (
        user.is_authenticated
        and Affiliation.objects.filter(
            user=user,
            # A representative of the organisation a duplicate was merged into
            # decides the claims left on the duplicate.
            organisation__in={organisation.pk, organisation.canonical().pk},
            state=ClaimState.CONFIRMED,
            is_representative=True,
            ended_at__isnull=True,
        ).exists()
    ):
        return ClaimDecision.REPRESENTATIVE
    return ""


def _claim_for_update(claim_id: int) -> Affiliation:
    """The claim, locked for a decision (its person and organisation with it); ClaimError
    when there is none."""
    affiliation = (
        Affiliation.objects.select_for_update(of=("self",))
        .select_related("user", "organisation")
        .filter(pk=claim_id)
        .first()
    )
    if affiliation is None:
        raise ClaimError(_("That claim does not exist."))
    return affiliation


@transaction.atomic
def claim_decide(*, claim_id: int, by: User, confirm: bool, reason: str = "") -> Affiliation:
    """Confirm or refuse a claim, as one of the organisation's representatives or an
    administrator.

    Raises ClaimError (nothing changed) for an unknown claim, a decision
    already taken, or one's own claim; PermissionDenied for anyone else.
    Representatives decide pending claims; administrators may also reverse a
    decision.
    """
    affiliation = _claim_for_update(claim_id)
    how = may_decide_claims(user=by, organisation=affiliation.organisation)
    if not how:
        raise PermissionDenied("only the organisation's representatives and administrators")
    if affiliation.user_id == by.pk:
        raise ClaimError(_("You cannot decide your own claim."))
    state = ClaimState.CONFIRMED if confirm else ClaimState.REFUSED
    if affiliation.state == state:
        raise ClaimError(
            _("This claim is already confirmed.")
            if confirm
            else _("This claim is already refused.")
        )
    if affiliation.state == ClaimState.PENDING and affiliation.ended_at is not None:
        raise ClaimError(
            _("This person has left the organisation; their claim can no longer be decided.")
        )
    if affiliation.state != ClaimState.PENDING and how != ClaimDecision.ADMINISTRATOR:
        raise ClaimError(
            _("This claim is already decided; only an administrator can change the decision.")
        )
    if "\x00" in (reason or ""):
        raise ClaimError(_("The reason cannot contain a NUL character."))
    reason = " ".join((reason or "").split())
    if len(reason) > 500:
        raise ClaimError(_("The reason can be at most 500 characters long."))
    _claim_set(affiliation, state=state, how=how, by=by, note="" if confirm else reason)
    return affiliation


@transaction.atomic
def representative_set(*, claim_id: int, by: User, representative: bool) -> Affiliation:
    """Make a person with a confirmed claim a representative of the organisation, or
    no longer one; administrators only (PermissionDenied), ClaimError otherwise."""
    check_administrator(by)
    affiliation = _claim_for_update(claim_id)
    if representative and (
        affiliation.state != ClaimState.CONFIRMED or affiliation.ended_at is not None
    ):
        raise ClaimError(
            _("Only a person with a confirmed, current claim can be a representative.")
        )
    if affiliation.is_representative != representative:
        affiliation.is_representative = representative
        affiliation.save(update_fields=["is_representative"])
    return affiliation


@transaction.atomic
def organisation_domain_add(
    *, organisation: Organisation, domain: str, by: User
) -> OrganisationDomain:
    """Add an e-mail domain to an organisation (administrators only); pending claims it
    confirms are confirmed. ValidationError for a bad or repeated domain."""
    check_administrator(by)
    if organisation.merged_into_id is not None:
        raise ValidationError(
            {"domain": _("This organisation is merged into another: add the domain there.")}
        )
    entry = OrganisationDomain(
        organisation=organisation, domain=normalise_domain(domain), added_by=by
    )
    entry.full_clean()
    entry.save()
    claims_confirm_by_domain(organisation=organisation)
    return entry


def organisation_domain_remove(*, organisation: Organisation, domain_id: int, by: User) -> bool:
    """Remove a domain (administrators only); claims it confirmed stay confirmed."""
    check_administrator(by)
    deleted, _detail = OrganisationDomain.objects.filter(
        organisation=organisation, pk=domain_id
    ).delete()
    return bool(deleted)


def profile_update(*, user: User, display_name: str, language: str, digest_frequency: str) -> User:
    user.display_name = display_name.strip()
    user.language = language
    user.digest_frequency = digest_frequency
    user.full_clean(exclude=["password", "email"])
    user.save(update_fields=["display_name", "language", "digest_frequency"])
    return user


def public_name_set(*, user: User, display_name: str) -> User:
    """Set the name shown beside what the person posts (never their e-mail address)."""
    user.display_name = " ".join(display_name.split())[:80]
    user.save(update_fields=["display_name"])
    return user


# --- Notifications ----------------------------------------------------------


def notification_settings_update(*, user: User, choices: dict[str, str]) -> None:
    """Save the person's choice per kind; unknown kinds or deliveries raise ValueError."""
    for kind, delivery in choices.items():
        if kind not in NotificationKind.values or delivery not in Delivery.values:
            raise ValueError(f"Unknown notification setting {kind}={delivery}")
    with transaction.atomic():
        for kind, delivery in choices.items():
            NotificationSetting.objects.update_or_create(
                user=user, kind=kind, defaults={"delivery": delivery}
            )


def notification_create(
    *, user: User, kind: str, title: str, body: str = "", url: str = ""
) -> Notification | None:
    """Tell a person something, in the platform and by e-mail as they chose.

    ``title`` and ``body`` may be lazy translations (gettext_lazy, format_lazy):
    they are rendered in the recipient's language. The e-mail is queued after
    the current transaction commits. A deleted account gets nothing (None).
    """
    if user.deleted_at is not None or not user.is_active:
        return None
    with translation.override(user.preferred_language):
        title, body = str(title)[:300], str(body)
    delivery = notification_delivery(user=user, kind=kind) if user.email else Delivery.NONE
    notification = Notification.objects.create(
        user=user, kind=kind, title=title, body=body, url=url, delivery=delivery
    )
    if delivery == Delivery.INSTANT:
        transaction.on_commit(
            lambda: _queue_email(user_id=user.pk, notification_id=notification.pk)
        )
    _announce_unread(user_id=user.pk, title=title)
    return notification


# Instant e-mails: the first notification in a window goes out at once; those
# that follow within NOTIFICATION_EMAIL_WINDOW seconds go out together, in one
# e-mail at the end of the window. Twenty comments in a minute are one e-mail,
# not twenty, and queue one task, not twenty.
EMAIL_WINDOW_KEY = "notify-mail-window:{}"
EMAIL_LATER_KEY = "notify-mail-later:{}"


def _queue_email(*, user_id: int, notification_id: int) -> None:
    """After the commit: e-mail now, at the end of the person's window, or not at all
    (a task for the end of the window is queued already)."""
    window = settings.NOTIFICATION_EMAIL_WINDOW
    later_key = EMAIL_LATER_KEY.format(user_id)
    countdown = 0
    try:
        if window > 0:
            now = time.time()
            if not cache.add(EMAIL_WINDOW_KEY.format(user_id), now, window):
                if not cache.add(later_key, 1, window * 2):
                    return  # a task for the end of the window is queued already
                started = cache.get(EMAIL_WINDOW_KEY.format(user_id)) or now
                countdown = max(1, round(started + window - now))
    except Exception:  # the cache is down: one e-mail per notification, as it comes
        logger.warning("could not read the e-mail window of person %s", user_id, exc_info=True)
        task("accounts.tasks.notification_email_send").delay(notification_id)
        return
    if not countdown:
        task("accounts.tasks.notification_emails_send").delay(user_id)
        return
    try:
        task("accounts.tasks.notification_emails_send").apply_async((user_id,), countdown=countdown)
    except Exception:
        drop(later_key)  # nothing is queued: the next notification queues again
        raise


# A task queued for the end of a window can be lost (a broker restarted
# without its data). Every few minutes instant notifications of the last day
# that are well past their window are e-mailed; older ones never are.
OVERDUE_HORIZON = dt.timedelta(days=1)


def notification_emails_send(*, user_id: int) -> int:
    """E-mail the person's instant notifications not yet e-mailed, together; how many.

    Each notification is claimed once: its row is locked (only its own, never
    the person's), rows another task holds are skipped, and the claim marks
    only rows still unclaimed, so two tasks never e-mail the same one, also
    where rows cannot be locked (SQLite).
    """
    drop(EMAIL_LATER_KEY.format(user_id))  # from here on, a new one queues its own task
    claim = timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                user_id=user_id,
                emailed_at__isnull=True,
                delivery=Delivery.INSTANT,
                created_at__gte=claim - OVERDUE_HORIZON,  # never e-mail old news
            )
            .values_list("pk", flat=True)
        )
        if ids:
            Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(
                emailed_at=claim
            )
    pending = list(
        Notification.objects.filter(pk__in=ids, emailed_at=claim).order_by("created_at", "pk")
    )
    if not pending:
        return 0
    _email(User.objects.get(pk=user_id), pending)
    return len(pending)


def notification_emails_overdue() -> int:
    """E-mail instant notifications still waiting well after their window; how many."""
    now = timezone.now()
    late = dt.timedelta(seconds=2 * max(settings.NOTIFICATION_EMAIL_WINDOW, 0) + 120)
    people = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            delivery=Delivery.INSTANT,
            created_at__lt=now - late,
            created_at__gte=now - OVERDUE_HORIZON,
        )
        .values_list("user_id", flat=True)
        .distinct()
    )
    return sum(notification_emails_send(user_id=user_id) for user_id in list(people))


def notification_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of the person's notifications (or all of them) read; returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    changed = unread.update(read_at=timezone.now())
    if changed:
        _announce_unread(user_id=user.pk, title="")
    return changed


def _announce_unread(*, user_id: int, title: str) -> None:
    forget_unread_count(user_id)
    unread = Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()
    unread_count_changed.send(sender=Notification, user_id=user_id, unread=unread, title=title)


def _absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL + url


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one notification at most once; True if it was sent now."""
    claimed = Notification.objects.filter(
        pk=notification_id, emailed_at__isnull=True, delivery=Delivery.INSTANT
    ).update(emailed_at=timezone.now())
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    return _email(notification.user, [notification])


def _email(user: User, notifications: list[Notification]) -> bool:
    """One e-mail with these notifications, in the person's language."""
    if not user.email or user.deleted_at is not None:
        return False
    with translation.override(user.preferred_language):
        context = {
            "notification": notifications[0],
            "url": _absolute(notifications[0].url),
            "notifications": [(n, _absolute(n.url)) for n in notifications],
            "user": user,
            "settings_url": _absolute(reverse("notification_settings")),
        }
        if len(notifications) == 1:
            subject = notifications[0].title
            message = render_to_string("accounts/email/notification.txt", context)
        else:
            subject = ngettext(
                "%(count)d new notification", "%(count)d new notifications", len(notifications)
            ) % {"count": len(notifications)}
            message = render_to_string("accounts/email/notifications.txt", context)
    # One line: a title may hold any line break, and a header must not.
    subject = " ".join((settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject).splitlines())
    send_mail(subject, message, None, [user.email])
    return True


# --- Digests ----------------------------------------------------------------


def digest_period(*, frequency: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The last completed day (or Monday-to-Monday week) in Europe/Oslo before ``now``."""
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localtime(now, zone).date()
    if frequency == DigestFrequency.WEEKLY:
        end_date = today - dt.timedelta(days=today.weekday())
        start_date = end_date - dt.timedelta(days=7)
    else:
        end_date = today
        start_date = end_date - dt.timedelta(days=1)
    start = dt.datetime.combine(start_date, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(end_date, dt.time(), tzinfo=zone)
    return start, end


def digest_recipients(*, frequency: str):
    """Active people who chose a digest for at least one kind, at this frequency."""
    return (
        User.objects.filter(
            is_active=True,
            deleted_at__isnull=True,
            email__isnull=False,
            digest_frequency=frequency,
        )
        .filter(
            Q(notification_settings__delivery=Delivery.DIGEST)
            | Q(notifications__delivery=Delivery.DIGEST, notifications__digest_run__isnull=True)
        )
        .distinct()
    )


@dataclass
class DigestOutcome:
    run: DigestRun | None
    sent: bool


def digest_claim(
    *, user: User, frequency: str, period_start: dt.datetime, period_end: dt.datetime, now=None
) -> DigestRun | None:
    """Claim this person's digest for this period, with the notifications it carries.

    Returns None when the period is already sent or another worker holds a
    fresh claim. A claim older than the lease (its worker died) is taken over
    with the notifications it had already gathered, so nothing is skipped.
    """
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = DigestRun.objects.create(
                    user=user,
                    frequency=frequency,
                    period_start=period_start,
                    period_end=period_end,
                    claimed_at=now,
                )
        except IntegrityError:
            run = DigestRun.objects.select_for_update().get(
                user=user, frequency=frequency, period_start=period_start
            )
            if run.sent_at is not None or run.claimed_at > now - DIGEST_CLAIM_LEASE:
                return None
            run.claimed_at = now
            run.save(update_fields=["claimed_at"])
        # Everything due and not yet in a digest joins this one: a notification
        # from a period that had no run (a missed beat) is carried, not skipped.
        Notification.objects.filter(
            user=user,
            delivery=Delivery.DIGEST,
            digest_run__isnull=True,
            read_at__isnull=True,
            created_at__lt=period_end,
        ).update(digest_run=run)
    return run


def digest_deliver(*, run: DigestRun, now=None) -> bool:
    """Send a claimed digest, or record it as empty; True when an e-mail went out."""
    now = now or timezone.now()
    user = run.user
    notifications = list(run.notifications.order_by("created_at", "id"))
    sent = False
    if notifications and user.email and user.deleted_at is None:
        with translation.override(user.preferred_language):
            context = {
                "user": user,
                "run": run,
                "notifications": [(n, _absolute(n.url)) for n in notifications],
                "site_url": settings.SITE_URL,
            }
            if run.frequency == DigestFrequency.WEEKLY:
                subject = _("Your weekly Dugnad digest")
            else:
                subject = _("Your daily Dugnad digest")
            message = render_to_string("accounts/email/digest.txt", context)
        send_mail(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, message, None, [user.email])
        sent = True
    DigestRun.objects.filter(pk=run.pk).update(sent_at=now, item_count=len(notifications))
    return sent


def digest_send(
    *, user: User, frequency: str, period_start: dt.datetime, period_end: dt.datetime, now=None
) -> DigestOutcome:
    run = digest_claim(
        user=user, frequency=frequency, period_start=period_start, period_end=period_end, now=now
    )
    if run is None:
        return DigestOutcome(run=None, sent=False)
    return DigestOutcome(run=run, sent=digest_deliver(run=run, now=now))


def digests_send_due(*, now=None) -> int:
    """Send every digest that is due, and finish any a dead worker left; returns e-mails sent.

    Safe to run as often as wanted (Celery beat runs it hourly): each person's
    period is claimed once and sent once.
    """
    now = now or timezone.now()
    sent = 0
    for frequency in DigestFrequency.values:
        start, end = digest_period(frequency=frequency, now=now)
        for user in digest_recipients(frequency=frequency):
            try:
                outcome = digest_send(
                    user=user, frequency=frequency, period_start=start, period_end=end, now=now
                )
            except Exception:
                # One person's failure must not stop the others; their claim
                # expires and the next run finishes it.
                logger.exception("Digest for person %s failed", user.pk)
                continue
            sent += outcome.sent
    stale = DigestRun.objects.filter(
        sent_at__isnull=True, claimed_at__lte=now - DIGEST_CLAIM_LEASE
    ).select_related("user")
    for run in stale:
        try:
            outcome = digest_send(
                user=run.user,
                frequency=run.frequency,
                period_start=run.period_start,
                period_end=run.period_end,
                now=now,
            )
        except Exception:
            logger.exception("Unfinished digest %s failed again", run.pk)
            continue
        sent += outcome.sent
    return sent


# --- Personal data ------------------------------------------------------------


def data_export_request(*, user: User) -> DataExport:
    """Ask for an archive of the person's data; it is prepared after commit by Celery.

    One archive is prepared at a time: asking again while one is pending
    returns that one. Archives older than a week are removed.
    """
    pending = DataExport.objects.filter(user=user, status=DataExport.Status.PENDING).first()
    if pending is not None:
        return pending
    data_exports_remove_expired(user=user)
    export = DataExport.objects.create(user=user)
    transaction.on_commit(lambda: task("accounts.tasks.data_export_build").delay(export.pk))
    return export


def data_exports_remove_expired(*, user: User | None = None, now: dt.datetime | None = None) -> int:
    """Remove archives older than a week (``user``'s, or everyone's) with their files; how many.

    Asking again removes one's own old archives; Celery beat (hourly) removes
    everyone's, so also those of people who never come back, and an archive
    still pending after a week (its task died), which would otherwise stand in
    the way of a new request.
    """
    from django.core.files.storage import default_storage

    now = now or timezone.now()
    old = DataExport.objects.filter(requested_at__lt=now - DATA_EXPORT_KEEP)
    if user is not None:
        old = old.filter(user=user)
    with transaction.atomic():
        files = [name for name in old.select_for_update().values_list("file", flat=True) if name]
        removed, _by_model = old.delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
    return removed


def data_export_build(*, export_id: int) -> DataExport | None:
    """Write the archive (data.json and index.html in a zip) and tell the person.

    None when the request is gone (the account was deleted meanwhile).
    """
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.user.deleted_at is not None:
        return None
    if export.status == DataExport.Status.READY:
        return export
    user = export.user
    try:
        with translation.override(user.preferred_language):
            data = personal_data(user=user)
            html = render_to_string(
                "accounts/data_export.html", {"data": readable(data), "user": user}
            )
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
            archive.writestr("index.html", html)
        name = f"dugnad-data-{timezone.localdate():%Y-%m-%d}.zip"
        export.file.save(name, ContentFile(buffer.getvalue()), save=False)
        export.status = DataExport.Status.READY
    except Exception:
        export.status = DataExport.Status.FAILED
        logger.exception("Data export %s failed", export.pk)
    export.finished_at = timezone.now()
    written = DataExport.objects.filter(pk=export.pk).update(
        file=export.file.name or "", status=export.status, finished_at=export.finished_at
    )
    if not written:
        # Removed while it was being built (a week-old request, an account deleted):
        # the file would belong to nothing, so it goes too.
        if export.file:
            export.file.storage.delete(export.file.name)
        return None
    if export.status == DataExport.Status.READY:
        from django.utils.translation import gettext_lazy

        notification_create(
            user=user,
            kind=NotificationKind.DATA_EXPORT,
            title=gettext_lazy("Your data archive is ready to download"),
            url=reverse("data_export_download", kwargs={"token": export.token}),
        )
    return export


TIME_KEYS = {"since", "date_joined", "last_login"}


def readable(value, key: str = ""):
    """A copy of the archive data for people: times in Oslo time, formatted per language.

    data.json keeps ISO 8601; the HTML page shows "28. november 2026 kl. 18:05" in
    bokmål and "28 November 2026, 18:05" in English (accounts.formatting). Only time fields change,
    never what the person wrote.
    """
    if isinstance(value, dict):
        return {name: readable(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [readable(item, key) for item in value]
    if isinstance(value, str) and (key.endswith("_at") or key in TIME_KEYS):
        from django.utils.dateparse import parse_datetime

        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return long_moment(moment)
    return value


class AccountDeletionRefused(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def account_deletion_blockers(*, user: User) -> list[str]:
    """Why this account cannot be deleted now, each with the way out; empty if it can."""
    reasons: list[str] = []
    for _receiver, response in account_deletion_check.send(sender=User, user=user):
        reasons.extend(str(r) for r in response or [])
    return reasons


def account_delete(*, user: User) -> User:
    """Delete a person's account: their items stay, shown as by "Deleted participant".

    Statistics read item snapshots and keep counting the items. E-mail
    addresses, sign-in methods, notifications and archives are removed;
    claims to organisations are ended (kept with their decision); the person
    can no longer sign in. Refused (AccountDeletionRefused) while a higher app
    objects, such as being the last coordinator of an open study.
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount

    reasons = account_deletion_blockers(user=user)
    if reasons:
        raise AccountDeletionRefused(reasons)
    files = [e.file.name for e in user.data_exports.exclude(file="")]
    with transaction.atomic():
        EmailAddress.objects.filter(user=user).delete()
        SocialAccount.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        # Claims stay, ended, so that items keep counting as they were decided.
        Affiliation.objects.filter(user=user).update(
            ended_at=timezone.now(), is_representative=False
        )
        Notification.objects.filter(user=user).delete()
        NotificationSetting.objects.filter(user=user).delete()
        DigestRun.objects.filter(user=user).delete()
        user.data_exports.all().delete()
        user.email = None
        user.display_name = ""
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.deleted_at = timezone.now()
        user.set_unusable_password()
        user.save()
        user.groups.clear()
        account_deleted.send(sender=User, user=user)

        def remove_files() -> None:
            from django.core.files.storage import default_storage

            for name in files:
                default_storage.delete(name)

        transaction.on_commit(remove_files)
    return user
