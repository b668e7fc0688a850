"""A study is listed to exactly the people its page opens for.

``Study.objects.visible_to`` (the front page's list, "my studies") and
``studies.access.can(..., Action.VIEW)`` (the study's page, its socket) must
agree for every kind of study and every state a person's membership can be
in: a list must not name a study whose page is "not found" to that person.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from studies.access import Action, can
from studies.models import MembershipStatus, Role, Study, StudyStatus, Visibility
from tests.factories import MembershipFactory, StudyFactory, UserFactory

pytestmark = pytest.mark.django_db

STUDIES = [
    (visibility, status)
    for visibility in (Visibility.PUBLIC, Visibility.MEMBERS)
    for status in (StudyStatus.DRAFT, StudyStatus.OPEN, StudyStatus.CLOSED)
]

# (role, status, block ends): every state a membership can be in.
MEMBERSHIPS = {
    "none": None,
    "contributor": (Role.CONTRIBUTOR, MembershipStatus.ACTIVE, None),
    "contributor blocked": (Role.CONTRIBUTOR, MembershipStatus.BLOCKED, None),
    "contributor blocked until tomorrow": (Role.CONTRIBUTOR, MembershipStatus.BLOCKED, 1),
    "contributor whose block ended": (Role.CONTRIBUTOR, MembershipStatus.BLOCKED, -1),
    "contributor who left": (Role.CONTRIBUTOR, MembershipStatus.LEFT, None),
    "facilitator": (Role.FACILITATOR, MembershipStatus.ACTIVE, None),
    "facilitator blocked": (Role.FACILITATOR, MembershipStatus.BLOCKED, None),
    "facilitator who left": (Role.FACILITATOR, MembershipStatus.LEFT, None),
    "coordinator": (Role.COORDINATOR, MembershipStatus.ACTIVE, None),
    "coordinator who left": (Role.COORDINATOR, MembershipStatus.LEFT, None),
}


@pytest.mark.parametrize("state", list(MEMBERSHIPS))
def test_the_list_names_a_study_exactly_when_its_page_opens(state):
    user = UserFactory()
    memberships = {}
    for visibility, status in STUDIES:
        study = StudyFactory(visibility=visibility, status=status)
        if MEMBERSHIPS[state] is not None:
            role, member_status, days = MEMBERSHIPS[state]
            until = timezone.now() + timedelta(days=days) if days is not None else None
            memberships[study.pk] = MembershipFactory(
                study=study, user=user, role=role, status=member_status, blocked_until=until
            )
    # Another person's membership of every study must not count for this one.
    for study in Study.objects.all():
        MembershipFactory(study=study, user=UserFactory(), role=Role.COORDINATOR)

    listed = set(Study.objects.visible_to(user).values_list("pk", flat=True))
    opens = {
        study.pk
        for study in Study.objects.all()
        if can(study, memberships.get(study.pk), Action.VIEW, user=user)
    }
    assert listed == opens
    # Every person sees the public studies that are not drafts, whatever their state.
    public = set(
        Study.objects.filter(visibility=Visibility.PUBLIC)
        .exclude(status=StudyStatus.DRAFT)
        .values_list("pk", flat=True)
    )
    assert public <= listed


def test_a_visitor_is_listed_the_public_studies_only():
    for visibility, status in STUDIES:
        StudyFactory(visibility=visibility, status=status)
    listed = set(Study.objects.visible_to(None).values_list("visibility", "status"))
    assert listed == {
        (Visibility.PUBLIC, StudyStatus.OPEN),
        (Visibility.PUBLIC, StudyStatus.CLOSED),
    }
