"""Reads on people and organisations."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import (
    Affiliation,
    ClaimState,
    DataExport,
    Delivery,
    Notification,
    NotificationKind,
    NotificationSetting,
    Organisation,
    User,
)
from accounts.validators import normalise_org_number
from core.cache import drop
from core.queries import first_row

logger = logging.getLogger(__name__)


def organisation_search(*, query: str, limit: int = 10) -> QuerySet[Organisation]:
    """Canonical organisations whose name contains the query or whose number starts with it."""
    query = query.strip()[:100]
    if not query:
        return Organisation.objects.none()
    condition = Q(name__icontains=query)
    digits = normalise_org_number(query)
    if digits.isdigit():
        condition |= Q(org_number__startswith=digits)
    return Organisation.objects.canonical().filter(condition).order_by("name")[:limit]


def user_organisations(*, user: User) -> QuerySet[Organisation]:
    """The organisations the person says they belong to now (any state of the claim)."""
    return Organisation.objects.filter(
        affiliations__user=user, affiliations__ended_at__isnull=True
    ).order_by("name")


def user_claims(*, user: User) -> QuerySet[Affiliation]:
    """The person's current claims, with their state, by organisation name."""
    return (
        Affiliation.objects.current()
        .filter(user=user)
        .select_related("organisation", "decided_by")
        .order_by("organisation__name", "pk")
    )


def claim_state(*, user_id: int, organisation: Organisation | None) -> str:
    """The state of the person's claim to act for this organisation ("" without one).

    A claim on an organisation since merged into this one counts for it; the
    most favourable state wins (confirmed, then pending, then refused).
    """
    if organisation is None:
        return ""
    states = set(
        Affiliation.objects.filter(user_id=user_id)
        .filter(Q(organisation=organisation) | Q(organisation__merged_into=organisation))
        .values_list("state", flat=True)
    )
    for state in (ClaimState.CONFIRMED, ClaimState.PENDING, ClaimState.REFUSED):
        if state in states:
            return state
    return ""


def represented_organisations(*, user: User) -> QuerySet[Organisation]:
    """Organisations for which the person is a confirmed, current representative."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        affiliations__user=user,
        affiliations__is_representative=True,
        affiliations__state=ClaimState.CONFIRMED,
        affiliations__ended_at__isnull=True,
    ).order_by("name")


def claims_to_decide(*, user: User) -> QuerySet[Affiliation]:
    """Pending claims on the organisations this person represents, oldest first.

    Their own claims are never among them: no one decides their own claim. Claims
    on an organisation merged into one they represent are among them (the
    registry keeps ``merged_into`` pointing at the surviving organisation); claims
    of people who have left the organisation (``ended_at``) are not.
    """
    represented = represented_organisations(user=user)
    return (
        Affiliation.objects.filter(
            Q(organisation__in=represented) | Q(organisation__merged_into__in=represented),
            state=ClaimState.PENDING,
            ended_at__isnull=True,
        )
        .exclude(user=user)
        .select_related("user", "organisation")
        .order_by("created_at", "pk")
    )


UNREAD_KEY = "unread:v1:{}"
# How long a counted figure may be kept. Making a notification and marking one
# read (accounts.services) drop it, at once and when their transaction commits;
# this bounds the race left (a count read just before such a commit and stored
# just after it) and changes made elsewhere (the admin, account deletion).
UNREAD_TIMEOUT = 60


def unread_count(*, user: User) -> int:
    """The person's unread notifications, shown in every page's header; cached."""
    key = UNREAD_KEY.format(user.pk)
    try:
        count = cache.get(key)
    except Exception:  # the cache is down: count, and keep nothing
        logger.warning("could not read the cached unread count %s", key, exc_info=True)
        return Notification.objects.filter(user=user, read_at__isnull=True).count()
    if count is None:
        count = Notification.objects.filter(user=user, read_at__isnull=True).count()
        try:
            cache.add(key, count, UNREAD_TIMEOUT)
        except Exception:
            logger.warning("could not keep the unread count %s", key, exc_info=True)
    return count


def forget_unread_count(user_id: int) -> None:
    """Drop the cached count now, and again once the current transaction commits.

    Now, for what this transaction reads next; at the commit, because another
    request may have counted (without this transaction's change) in between.
    """
    key = UNREAD_KEY.format(user_id)
    # With the cache down, UNREAD_TIMEOUT still bounds the figure.
    drop(key)
    transaction.on_commit(lambda: drop(key), robust=True)


def user_notifications(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


# Kinds other apps use, and the setting that governs each.
KIND_SETTINGS = {
    "join_request": NotificationKind.APPROVAL,
    "join_request_decided": NotificationKind.APPROVAL,
    "invitation_accepted": NotificationKind.INVITATION,
    "comment_reply": NotificationKind.REPLY,
    "official_answer": NotificationKind.REPLY,
    "claim_decided": NotificationKind.OTHER,
}


def notification_setting_kind(kind: str) -> str:
    """The kind a person chooses for, for a notification kind used by any app."""
    if kind in NotificationKind.values:
        return kind
    return KIND_SETTINGS.get(kind, NotificationKind.OTHER)


def notification_delivery(*, user: User, kind: str) -> str:
    """How this person wants to hear of this kind (e-mail at once unless they chose otherwise)."""
    kind = notification_setting_kind(kind)
    chosen = first_row(
        NotificationSetting.objects.filter(user=user, kind=kind).values_list("delivery", flat=True)
    )
    return chosen or Delivery.INSTANT


def notification_settings(*, user: User) -> list[tuple[str, str, str]]:
    """(kind, label, delivery) for every kind a person can choose for."""
    return [
        (kind, label, notification_delivery(user=user, kind=kind))
        for kind, label in NotificationKind.choices
    ]


def iso_time(value) -> str | None:
    """A time as the personal data archive writes it (ISO 8601), or None."""
    return value.isoformat() if value else None


# Sections of the personal data archive that higher apps add (memberships,
# items, reactions, flags): each app registers its reader in AppConfig.ready(),
# so accounts, the lowest app, imports none of them.
PersonalDataSection = Callable[[User], list[dict]]
_personal_data_sections: dict[str, PersonalDataSection] = {}


def personal_data_section_register(name: str, reader: PersonalDataSection) -> None:
    """Add ``name`` to every person's archive, as the rows ``reader(user)`` returns.

    Registering a name twice replaces its reader (ready() may run again in tests).
    """
    _personal_data_sections[name] = reader


def personal_data(*, user: User) -> dict:
    """Everything Dugnad holds about one person, as plain JSON-ready data.

    Accounts writes the profile, addresses, organisations and notifications;
    every other section comes from the app that holds it
    (``personal_data_section_register``).
    """
    from allauth.account.models import EmailAddress

    data: dict = {
        "generated_at": iso_time(timezone.now()),
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "language": user.language,
            "date_joined": iso_time(user.date_joined),
            "last_login": iso_time(user.last_login),
            "digest_frequency": user.digest_frequency,
        },
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        "organisations": [
            {
                "name": a.organisation.name,
                "org_number": a.organisation.org_number,
                "sector": a.organisation.get_sector_display(),
                "since": iso_time(a.created_at),
            }
            for a in Affiliation.objects.filter(user=user).select_related("organisation")
        ],
        "notification_settings": {k: d for k, _label, d in notification_settings(user=user)},
        "notifications": [
            {
                "kind": n.kind,
                "title": n.title,
                "created_at": iso_time(n.created_at),
                "read_at": iso_time(n.read_at),
            }
            for n in Notification.objects.filter(user=user)[:1000]
        ],
    }
    for name, reader in _personal_data_sections.items():
        data[name] = reader(user)
    return data


# Archives are offered for a week, then removed when the person asks again or deletes.
DATA_EXPORT_KEEP = dt.timedelta(days=7)


def data_exports_offered(*, user: User) -> QuerySet[DataExport]:
    """The person's own archives that are still offered (a week from the request)."""
    return DataExport.objects.filter(user=user, requested_at__gte=timezone.now() - DATA_EXPORT_KEEP)
