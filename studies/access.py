"""Who may do what in a study: the one place that decides, and the one fetch.

Every view and consumer gets its study through ``study_for_user``, so a
missing check cannot be written. A study
that a person may not see does not exist for them (404); a study they can see
but not act on answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from accounts.administrators import is_administrator
from accounts.second_factor import (
    SecondFactorRequired,
    current_request,
    require_second_factor,
)
from core.prepared import Prepared
from core.queries import first_row
from studies.models import Membership, MembershipStatus, Role, Study, StudyStatus


class Action(StrEnum):
    VIEW = "view"  # read the study and its published items
    JOIN = "join"  # ask to join or join
    CONTRIBUTE = "contribute"  # post, comment, react, flag
    MODERATE = "moderate"  # queue, hide/restore, approve/reject, block, notes, answers
    VIEW_STATISTICS = "view_statistics"  # full statistics, beyond the public view
    MANAGE = "manage"  # settings, sections, phases, versions, invitations, roles, status
    EXPORT = "export"  # participant exports and their downloads


FACILITATING = {Role.FACILITATOR, Role.COORDINATOR}
# Every staff power in a study: facilitators and coordinators need a second
# factor used in this session (accounts.second_factor) before these.
SECOND_FACTOR_ACTIONS = {
    Action.MODERATE,
    Action.VIEW_STATISTICS,
    Action.MANAGE,
    Action.EXPORT,
}
MFA_ACTIONS = SECOND_FACTOR_ACTIONS  # the older name

# The one exception for the second factor lives in the bottom layer; this
# name stays for the callers that know it from here.
MFARequired = SecondFactorRequired


@dataclass(frozen=True)
class StudyAccess:
    study: Study
    membership: Membership | None

    @property
    def role(self) -> str | None:
        m = self.membership
        if m is None or m.status == MembershipStatus.LEFT:
            return None
        return m.role

    @property
    def is_member(self) -> bool:
        return self.role is not None

    @property
    def is_blocked(self) -> bool:
        return self.membership is not None and self.membership.is_blocked

    def can(self, action: Action, user=None) -> bool:
        return can(self.study, self.membership, action, user=user)


def can(study: Study, membership: Membership | None, action: Action, *, user=None) -> bool:
    """Whether the holder of ``membership`` (or a non-member ``user``) may do ``action``."""
    active = membership is not None and membership.status != MembershipStatus.LEFT
    role = membership.role if active else None
    is_admin = is_administrator(user)
    if action == Action.VIEW:
        if study.status == StudyStatus.DRAFT:
            return role in FACILITATING or is_admin
        # A block closes a members-only study to the member while it lasts
        # (a public one they read like anyone).
        return study.is_public or (active and not membership.is_blocked) or is_admin
    if action == Action.JOIN:
        authenticated = user is not None and user.is_authenticated
        return (
            authenticated
            and not active
            and study.status == StudyStatus.OPEN
            and (study.is_public or is_admin)
        )
    if action == Action.CONTRIBUTE:
        return (
            active
            and not membership.is_blocked
            and study.status == StudyStatus.OPEN
            # An upcoming study (open, but its open date not reached) takes no items yet.
            and (study.opens_at is None or study.opens_at <= timezone.now())
            and (study.closes_at is None or study.closes_at > timezone.now())
        )
    if action in (Action.MODERATE, Action.VIEW_STATISTICS):
        return role in FACILITATING and not membership.is_blocked
    if action in (Action.MANAGE, Action.EXPORT):
        return role == Role.COORDINATOR
    raise ValueError(f"Unknown action {action!r}")


def membership_of(user, study: Study) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return first_row(
        Membership.objects.filter(study=study, user=user).select_related("organisation")
    )


def _study_access(user, slug: str) -> StudyAccess | None:
    """The study with this slug and the person's membership of it, or None.

    A member's study comes with the membership in one query; only people who
    are not members (and the anonymous) need a second.
    """
    # Every study request starts here: both queries are compiled once (core.prepared).
    if user is not None and user.is_authenticated:
        membership = _MEMBERSHIP.get(slug=slug, user_id=user.pk)
        if membership is not None:
            return StudyAccess(study=membership.study, membership=membership)
    study = _STUDY.get(slug=slug)
    return None if study is None else StudyAccess(study=study, membership=None)


_MEMBERSHIP = Prepared(
    lambda slug, user_id: Membership.objects.select_related("study", "organisation").filter(
        study__slug=slug, user_id=user_id
    ),
    slug=str,
    user_id=int,
)
_STUDY = Prepared(lambda slug: Study.objects.filter(slug=slug), slug=str)


def study_for_user(user, slug: str, action: Action = Action.VIEW, *, request=None) -> StudyAccess:
    """The study with this slug if ``user`` may see it and do ``action``.

    Raises Http404 when the study does not exist for this person and
    PermissionDenied when they can see it but not do the action. For a staff
    power (SECOND_FACTOR_ACTIONS) the person must also have used a second
    factor in this session: ``request`` (a socket passes
    ``second_factor.scope_request(scope)``) or else the HTTP request being
    answered, if it is this person's; with neither, the answer is no.
    """
    access = _study_access(user, slug)
    if access is None:
        raise Http404("No such study")
    if not access.can(Action.VIEW, user):
        raise Http404("No such study")
    if action != Action.VIEW and not access.can(action, user):
        raise PermissionDenied(action.value)
    if action in SECOND_FACTOR_ACTIONS and settings.DUGNAD_REQUIRE_MFA:
        require_second_factor(request if request is not None else current_request(user))
    return access
