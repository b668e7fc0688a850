"""Writes on people, organisations and notifications."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Affiliation, Notification, Organisation, User
from accounts.validators import normalise_org_number


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


@transaction.atomic
def affiliation_add(*, user: User, organisation: Organisation) -> Affiliation:
    affiliation, _ = Affiliation.objects.get_or_create(
        user=user, organisation=organisation.canonical()
    )
    return affiliation


def affiliation_remove(*, user: User, organisation: Organisation) -> None:
    Affiliation.objects.filter(user=user, organisation=organisation).delete()


def notification_create(
    *, user: User, kind: str, title: str, body: str = "", url: str = ""
) -> Notification:
    return Notification.objects.create(user=user, kind=kind, title=title, body=body, url=url)
