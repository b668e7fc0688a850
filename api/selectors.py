"""Reads of the API app: public studies and their items, tokens."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.second_factor import has_totp, second_factor_in_session
from api.models import ApiToken
from contributions.models import Comment, Contribution, ItemState
from studies.access import Action, StudyAccess, study_for_user
from studies.models import Membership, MembershipStatus, Role, Study, StudyStatus, Visibility

PUBLIC_STATUSES = (StudyStatus.OPEN, StudyStatus.CLOSED, StudyStatus.ARCHIVED)
# Items that have a place in the open data: with content, or as a marker.
LISTED_STATES = (ItemState.PUBLISHED, ItemState.HIDDEN, ItemState.REMOVED, ItemState.WITHDRAWN)
# Open data is published for a study once it no longer takes contributions.
FINISHED_STATUSES = (StudyStatus.CLOSED, StudyStatus.ARCHIVED)


def public_studies(
    *, status: str | None = None, updated_since: datetime | None = None
) -> QuerySet[Study]:
    """Studies anyone may read through the API, in a stable order."""
    qs = Study.objects.filter(visibility=Visibility.PUBLIC, status__in=PUBLIC_STATUSES)
    if status:
        qs = qs.filter(status=status)
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    return qs.order_by("id")


def public_study(*, slug: str) -> Study:
    """The study if it is public; Http404 otherwise, whoever asks.

    Goes through the permission module as an anonymous visitor, so the API
    never shows more than the public pages do.
    """
    return study_for_user(AnonymousUser(), slug, Action.VIEW).study


def study_for_token_holder(*, request, slug: str) -> StudyAccess:
    """The study if the token's owner coordinates it (Http404 / PermissionDenied otherwise).

    The token stands for the second factor (``request.auth``): it was issued
    with one used in the session, and counts while its owner keeps TOTP.
    """
    return study_for_user(request.user, slug, Action.EXPORT, request=request)


def _narrowed(qs: QuerySet, **lookups) -> QuerySet:
    """``qs`` filtered by each lookup the request gave (None or "" leaves one out)."""
    return qs.filter(**{key: value for key, value in lookups.items() if value not in (None, "")})


def study_contributions(
    *,
    study: Study,
    section: int | None = None,
    kind: str | None = None,
    state: str | None = None,
    updated_since: datetime | None = None,
) -> QuerySet[Contribution]:
    """Contributions in the open data (with content or as markers), by id."""
    qs = _narrowed(
        Contribution.objects.filter(study=study, state__in=LISTED_STATES),
        state=state,
        section_id=section,
        kind=kind,
        updated_at__gte=updated_since,
    )
    # Passage comments and amendments: where in the concept document, and the decision.
    return qs.select_related(
        "author",
        "acted_for",
        "passage__origin__version",
        "passage__block__version",
        "amendment__credited_in",
    ).order_by("id")


def study_comments(
    *,
    study: Study,
    contribution: int | None = None,
    section: int | None = None,
    kind: str | None = None,
    state: str | None = None,
    updated_since: datetime | None = None,
) -> QuerySet[Comment]:
    """Comments in the open data, by id; only where their contribution is listed too."""
    qs = Comment.objects.filter(
        study=study, state__in=LISTED_STATES, contribution__state__in=LISTED_STATES
    )
    qs = _narrowed(
        qs,
        state=state,
        contribution_id=contribution,
        contribution__section_id=section,
        contribution__kind=kind,
        updated_at__gte=updated_since,
    )
    return qs.select_related("author", "acted_for").order_by("id")


def coordinates_a_study(*, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        Membership.objects.filter(user=user, role=Role.COORDINATOR)
        .exclude(status=MembershipStatus.LEFT)
        .exists()
    )


def may_hold_api_tokens(*, user) -> bool:
    """Coordinators of at least one study, with TOTP where the platform requires it."""
    if not coordinates_a_study(user=user):
        return False
    return has_totp(user) or not settings.DUGNAD_REQUIRE_MFA


def may_create_api_tokens(*, request) -> bool:
    """Coordinators of at least one study, with a second factor used in this session."""
    return coordinates_a_study(user=request.user) and second_factor_in_session(request)


def api_tokens_of(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def coordinated_studies(*, user) -> QuerySet[Study]:
    return Study.objects.filter(
        memberships__user=user,
        memberships__role=Role.COORDINATOR,
        memberships__status__in=[MembershipStatus.ACTIVE, MembershipStatus.BLOCKED],
    ).order_by("id")
