"""Two coordinators stepping down at the same moment still leave one (PostgreSQL row locks)."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError

from studies import services
from studies.models import Membership, Role
from studies.services import membership_set_role
from tests.at_once import at_once
from tests.factories import MembershipFactory, StudyFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_coordinators_stepping_down_at_once_leave_one(requires_postgres, monkeypatch):
    count_then_wait = services._lock_coordinators

    def slow(study):
        # Widen the window between counting and writing, where a race would hit.
        result = count_then_wait(study)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(services, "_lock_coordinators", slow)
    study = StudyFactory()
    first = MembershipFactory(study=study, role=Role.COORDINATOR)
    second = MembershipFactory(study=study, role=Role.COORDINATOR)

    def step_down(membership: Membership) -> str:
        try:
            membership_set_role(membership=membership, role=Role.CONTRIBUTOR, by=membership.user)
        except ValidationError:
            return "refused"
        return "done"

    outcomes = at_once(step_down, [first, second], timeout=20)
    assert sorted(outcomes) == ["done", "refused"]
    assert Membership.objects.filter(study=study, role=Role.COORDINATOR).count() == 1
