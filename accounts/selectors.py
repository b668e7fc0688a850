"""Reads on people and organisations."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Organisation, User
from accounts.validators import normalise_org_number


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
