"""Blocking members with a reason and an optional end: they read but do not take part."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contributions.models import Comment, Contribution, Reaction
from moderation import services
from moderation.models import Flag, LogAction, ModerationLog
from studies.models import Membership, MembershipStatus, Role
from tests.moderation.conftest import login, member

pytestmark = pytest.mark.django_db


def membership_of(study, user):
    return Membership.objects.get(study=study, user=user)


def block(study, actor, user, **kwargs):
    kwargs.setdefault("reason", "Repeated personal attacks")
    return services.member_block(
        study=study, actor=actor, membership=membership_of(study, user), **kwargs
    )


def test_facilitator_blocks_a_member_with_reason_and_end(study, facilitator, contributor):
    until = timezone.now() + timedelta(days=7)
    membership = block(study, facilitator, contributor, until=until)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.BLOCKED and membership.is_blocked
    assert membership.blocked_reason == "Repeated personal attacks"
    assert membership.blocked_until == until
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.target_type, entry.target_id) == (
        LogAction.BLOCK,
        "membership",
        membership.pk,
    )


def test_unblocking_lets_the_member_take_part_again(study, facilitator, contributor):
    block(study, facilitator, contributor)
    services.member_unblock(
        study=study, actor=facilitator, membership=membership_of(study, contributor)
    )
    membership = membership_of(study, contributor)
    assert membership.status == MembershipStatus.ACTIVE and not membership.is_blocked
    assert membership.blocked_reason == "" and membership.blocked_until is None


def test_blocking_a_coordinator_is_refused(study, facilitator, coordinator):
    with pytest.raises(services.ModerationError) as error:
        block(study, facilitator, coordinator)
    assert error.value.code == "coordinator"
    assert membership_of(study, coordinator).status == MembershipStatus.ACTIVE
    assert not ModerationLog.objects.exists()


def test_only_a_coordinator_blocks_a_facilitator(study, facilitator, coordinator):
    other = member(study, Role.FACILITATOR)
    with pytest.raises(services.ModerationError):
        block(study, facilitator, other)
    block(study, coordinator, other)
    assert membership_of(study, other).is_blocked


def test_block_end_in_the_past_is_refused(study, facilitator, contributor):
    with pytest.raises(services.ModerationError) as error:
        block(study, facilitator, contributor, until=timezone.now() - timedelta(minutes=1))
    assert error.value.code == "past_until"
    assert membership_of(study, contributor).status == MembershipStatus.ACTIVE


def test_blocking_without_a_reason_is_refused(study, facilitator, contributor):
    with pytest.raises(services.ModerationError):
        block(study, facilitator, contributor, reason=" ")
    assert membership_of(study, contributor).status == MembershipStatus.ACTIVE


def test_blocking_twice_is_refused(study, facilitator, contributor):
    block(study, facilitator, contributor)
    with pytest.raises(services.ModerationError):
        block(study, facilitator, contributor)
    assert ModerationLog.objects.count() == 1


def test_blocking_a_member_of_another_study_is_refused(study, other_study, facilitator):
    outsider = member(other_study)
    with pytest.raises(services.ModerationError):
        services.member_block(
            study=study,
            actor=facilitator,
            membership=membership_of(other_study, outsider),
            reason="x",
        )
    assert membership_of(other_study, outsider).status == MembershipStatus.ACTIVE


def test_a_block_that_ended_no_longer_blocks(study, facilitator, contributor):
    block(study, facilitator, contributor, until=timezone.now() + timedelta(seconds=5))
    Membership.objects.filter(study=study, user=contributor).update(
        blocked_until=timezone.now() - timedelta(seconds=1)
    )
    assert not membership_of(study, contributor).is_blocked


# --- over HTTP ----------------------------------------------------------------


@pytest.fixture
def blocked(study, facilitator, contributor):
    block(study, facilitator, contributor)
    return contributor


def test_blocked_member_cannot_post_over_http(client, study, blocked):
    login(client, blocked)
    response = client.post(
        reverse("contribution_list", args=[study.slug]),
        {"title": "Hi", "body": "Text", "kind": "idea", "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 403
    assert not Contribution.objects.filter(author=blocked).exists()


def test_blocked_member_cannot_comment_over_http(client, study, blocked, contribution):
    login(client, blocked)
    response = client.post(
        reverse("comment_form", args=[study.slug, contribution.pk]),
        {"body": "A reply", "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 403
    assert not Comment.objects.filter(author=blocked).exists()


def test_blocked_member_cannot_react_over_http(client, study, blocked, contribution):
    login(client, blocked)
    response = client.post(reverse("contribution_react", args=[study.slug, contribution.pk]))
    assert response.status_code == 403
    assert not Reaction.objects.exists()


def test_blocked_member_cannot_flag_and_is_told_why(client, study, blocked, contribution):
    login(client, blocked)
    response = client.post(
        reverse("moderation:flag", args=[study.slug, "contribution", contribution.pk]),
        {"reason": "spam"},
    )
    assert response.status_code == 403
    assert "Repeated personal attacks" in response.content.decode()
    assert not Flag.objects.exists()


def test_blocked_member_still_reads_the_study_and_sees_the_reason(client, study, blocked):
    login(client, blocked)
    response = client.get(reverse("study_detail", args=[study.slug]))
    assert response.status_code == 200
    assert "Repeated personal attacks" in response.content.decode()


def test_block_form_refuses_a_past_end_date(client, study, facilitator, contributor):
    login(client, facilitator)
    membership = membership_of(study, contributor)
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("moderation:member_block", args=[study.slug, membership.pk]),
        {"reason": "Spam", "until": past},
    )
    assert response.status_code == 400
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


def test_block_form_refuses_a_coordinator_with_a_clear_error(
    client, study, facilitator, coordinator
):
    login(client, facilitator)
    membership = membership_of(study, coordinator)
    response = client.post(
        reverse("moderation:member_block", args=[study.slug, membership.pk]),
        {"reason": "Spam", "until": ""},
    )
    assert response.status_code == 400
    assert "Coordinators cannot be blocked" in response.content.decode()


def test_block_form_blocks_and_unblock_form_lifts(client, study, facilitator, contributor):
    login(client, facilitator)
    membership = membership_of(study, contributor)
    url = reverse("moderation:member_block", args=[study.slug, membership.pk])
    assert client.post(url, {"reason": "Spam"}).status_code == 302
    membership.refresh_from_db()
    assert membership.is_blocked
    url = reverse("moderation:member_unblock", args=[study.slug, membership.pk])
    assert client.post(url, {"reason": ""}).status_code == 302
    membership.refresh_from_db()
    assert not membership.is_blocked
