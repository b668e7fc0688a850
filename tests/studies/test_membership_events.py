"""Joins, leaves, role changes and blocks are study events: statistics refresh at once.

The event names no one: no user or membership id, no name, no count.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from moderation.services import member_block, member_unblock
from studies.models import Role, StudyEvent
from studies.services import (
    MEMBERSHIP_EVENT,
    membership_join,
    membership_leave,
    membership_set_role,
)
from tests.factories import MembershipFactory, StudyFactory, UserFactory


@pytest.fixture
def study(db):
    study = StudyFactory()
    coordinator = UserFactory()
    MembershipFactory(study=study, user=coordinator, role=Role.COORDINATOR)
    study.coordinator = coordinator
    return study


def events(study) -> list[StudyEvent]:
    return list(StudyEvent.objects.filter(study=study).order_by("seq"))


def assert_one_anonymous_membership_event(study, before: int) -> None:
    new = events(study)[before:]
    assert [e.kind for e in new] == [MEMBERSHIP_EVENT]
    assert (new[0].key, new[0].data) == ("", {})


def test_joining_records_an_event_that_names_no_one(study, django_capture_on_commit_callbacks):
    person = UserFactory(display_name="Kari Nordmann")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        membership_join(study=study, user=person)
    assert_one_anonymous_membership_event(study, 0)
    assert callbacks  # the broadcast goes out after commit
    assert "Kari" not in repr(events(study)[0].__dict__)


def test_leaving_records_an_event(study):
    person = UserFactory()
    membership = membership_join(study=study, user=person)
    before = len(events(study))
    membership_leave(membership=membership)
    assert_one_anonymous_membership_event(study, before)


def test_a_role_change_records_an_event(study):
    membership = membership_join(study=study, user=UserFactory())
    before = len(events(study))
    membership_set_role(membership=membership, role=Role.FACILITATOR, by=study.coordinator)
    assert_one_anonymous_membership_event(study, before)


def test_an_unchanged_role_records_nothing(study):
    membership = membership_join(study=study, user=UserFactory())
    before = len(events(study))
    membership_set_role(membership=membership, role=Role.CONTRIBUTOR, by=study.coordinator)
    assert len(events(study)) == before


def test_blocking_and_unblocking_record_events(study):
    membership = membership_join(study=study, user=UserFactory())
    before = len(events(study))
    member_block(study=study, actor=study.coordinator, membership=membership, reason="Spam")
    assert_one_anonymous_membership_event(study, before)
    member_unblock(study=study, actor=study.coordinator, membership=membership)
    assert_one_anonymous_membership_event(study, before + 1)


def test_a_refused_join_records_nothing(study):
    study.status = "closed"
    study.save()
    with pytest.raises(Exception):  # noqa: B017 (a ValidationError, nothing saved)
        membership_join(study=study, user=UserFactory())
    assert events(study) == []


def test_the_statistics_page_counts_a_new_member_at_once(client, study):
    url = reverse("reports:statistics_live", args=[study.slug])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    first = client.get(url)
    assert 'Members</th><td class="num">1<' in first.content.decode()
    membership_join(study=study, user=UserFactory())
    second = client.get(url)
    assert 'Members</th><td class="num">2<' in second.content.decode()
    assert int(second["X-Dugnad-Last-Seq"]) == int(first["X-Dugnad-Last-Seq"]) + 1
