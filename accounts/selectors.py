"""Reads on people and organisations."""

from __future__ import annotations

import datetime as dt
import logging

from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import (
    Affiliation,
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

# Archives are offered for a week, then removed when the person asks again or deletes.
DATA_EXPORT_KEEP = dt.timedelta(days=7)


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
    return Organisation.objects.filter(affiliations__user=user).order_by("name")


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


def _model(app_label: str, name: str):
    """A model of a higher app, read by name: accounts never imports those apps."""
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def personal_data(*, user: User) -> dict:
    """Everything Dugnad holds about one person, as plain JSON-ready data.

    Memberships, items, versions, reactions and flags live in higher apps;
    they are read through the app registry so that this lowest app does not
    import them, and left out where an app is not installed.
    """
    from allauth.account.models import EmailAddress

    data: dict = {
        "generated_at": _when(timezone.now()),
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "language": user.language,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
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
                "since": _when(a.created_at),
            }
            for a in Affiliation.objects.filter(user=user).select_related("organisation")
        ],
        "notification_settings": {k: d for k, _label, d in notification_settings(user=user)},
        "notifications": [
            {
                "kind": n.kind,
                "title": n.title,
                "created_at": _when(n.created_at),
                "read_at": _when(n.read_at),
            }
            for n in Notification.objects.filter(user=user)[:1000]
        ],
        "memberships": [],
        "contributions": [],
        "comments": [],
        "reactions": [],
        "flags": [],
    }
    membership = _model("studies", "Membership")
    if membership is not None:
        data["memberships"] = [
            {
                "study": m.study.title,
                "study_slug": m.study.slug,
                "role": m.get_role_display(),
                "acting_for": m.organisation.name if m.organisation_id else None,
                "consent_named": m.consent_named,
                "status": m.get_status_display(),
                "joined_at": _when(m.joined_at),
            }
            for m in membership.objects.filter(user=user).select_related("study", "organisation")
        ]
    contribution = _model("contributions", "Contribution")
    comment = _model("contributions", "Comment")
    if contribution is not None:
        data["contributions"] = [
            {
                "id": c.pk,
                "study": c.study.slug,
                "title": c.title,
                "body": c.body,
                "state": c.get_state_display(),
                "acted_for": c.acted_for.name if c.acted_for_id else None,
                "created_at": _when(c.created_at),
                "edited_at": _when(c.edited_at),
                "versions": [
                    {"title": r.title, "body": r.body, "created_at": _when(r.created_at)}
                    for r in c.revisions.all()
                ],
            }
            for c in contribution.objects.filter(author=user)
            .select_related("study", "acted_for")
            .prefetch_related("revisions")
            .order_by("created_at", "id")
        ]
    if comment is not None:
        data["comments"] = [
            {
                "id": c.pk,
                "study": c.study.slug,
                "on_contribution": c.contribution_id,
                "in_reply_to": c.parent_id,
                "body": c.body,
                "state": c.get_state_display(),
                "acted_for": c.acted_for.name if c.acted_for_id else None,
                "created_at": _when(c.created_at),
                "edited_at": _when(c.edited_at),
                "versions": [
                    {"body": r.body, "created_at": _when(r.created_at)} for r in c.revisions.all()
                ],
            }
            for c in comment.objects.filter(author=user)
            .select_related("study", "acted_for")
            .prefetch_related("revisions")
            .order_by("created_at", "id")
        ]
    reaction = _model("contributions", "Reaction")
    if reaction is not None:
        data["reactions"] = [
            {
                "contribution": r.contribution_id,
                "comment": r.comment_id,
                "created_at": _when(r.created_at),
                **({"kind": str(r.kind)} if _has_field(reaction, "kind") else {}),
            }
            for r in reaction.objects.filter(user=user).order_by("created_at", "id")
        ]
    flag = _model("moderation", "Flag")
    if flag is not None:
        person_field = next(
            (n for n in ("user", "flagged_by", "reporter", "author") if _has_field(flag, n)), None
        )
        if person_field:
            rows = []
            for f in flag.objects.filter(**{person_field: user}).order_by("pk"):
                row = {"id": f.pk}
                for name in ("contribution_id", "comment_id", "reason", "note", "created_at"):
                    if hasattr(f, name):
                        value = getattr(f, name)
                        row[name.removesuffix("_id") if name.endswith("_id") else name] = (
                            _when(value) if hasattr(value, "isoformat") else value
                        )
                if hasattr(f, "get_reason_display"):
                    row["reason"] = str(f.get_reason_display())
                rows.append(row)
            data["flags"] = rows
    return data


def data_exports_offered(*, user: User) -> QuerySet[DataExport]:
    """The person's own archives that are still offered (a week from the request)."""
    return DataExport.objects.filter(user=user, requested_at__gte=timezone.now() - DATA_EXPORT_KEEP)
