"""Flags: one per person per item, automatic hiding at the study's threshold."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from contributions.models import ItemState, ModerationReason
from moderation import services
from moderation.models import Flag, FlagReason, LogAction, ModerationLog
from studies.models import Role
from tests.factories import CommentFactory, ContributionFactory, MembershipFactory, UserFactory
from tests.moderation.conftest import flagger, member

pytestmark = pytest.mark.django_db


def test_member_flags_an_item_with_a_reason_and_note(study, contribution, contributor):
    flag, created = services.flag_create(
        study=study, user=contributor, item=contribution, reason=FlagReason.SPAM, note="ads"
    )
    assert created
    assert flag.reason == "spam" and flag.note == "ads" and flag.contribution == contribution


def test_repeated_flags_from_one_person_count_once(study, contribution):
    study.flag_threshold = 2
    study.save()
    flagger = member(study)
    for reason in (FlagReason.SPAM, FlagReason.ABUSE, FlagReason.SPAM):
        services.flag_create(study=study, user=flagger, item=contribution, reason=reason)
    assert Flag.objects.filter(contribution=contribution).count() == 1
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED


def test_item_is_hidden_when_distinct_flaggers_reach_the_threshold(study, contribution):
    flaggers = [flagger(study) for _ in range(3)]
    services.flag_create(study=study, user=flaggers[0], item=contribution, reason="spam")
    services.flag_create(study=study, user=flaggers[1], item=contribution, reason="abuse")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED
    services.flag_create(study=study, user=flaggers[2], item=contribution, reason="off_topic")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.HIDDEN
    assert contribution.moderation_reason == ModerationReason.FLAGGED
    entry = ModerationLog.objects.get(action=LogAction.AUTO_HIDE)
    assert entry.actor is None and entry.target_id == contribution.pk


def test_comments_are_hidden_by_flags_too(study, comment):
    study.flag_threshold = 1
    study.save()
    services.flag_create(study=study, user=flagger(study), item=comment, reason="personal_data")
    comment.refresh_from_db()
    assert comment.state == ItemState.HIDDEN


def test_flag_with_an_unknown_reason_is_refused(study, contribution, contributor):
    with pytest.raises(services.ModerationError):
        services.flag_create(study=study, user=contributor, item=contribution, reason="boring")
    assert not Flag.objects.exists()


def test_database_refuses_a_second_flag_from_the_same_person(study, contribution, contributor):
    Flag.objects.create(study=study, user=contributor, contribution=contribution, reason="spam")
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(
            study=study, user=contributor, contribution=contribution, reason="abuse"
        )


def test_database_refuses_an_unknown_flag_reason(study, contribution, contributor):
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(study=study, user=contributor, contribution=contribution, reason="x")


def test_nobody_flags_their_own_item(study, contribution, author):
    with pytest.raises(services.ModerationError):
        services.flag_create(study=study, user=author, item=contribution, reason="spam")


def test_flagging_an_item_of_another_study_is_refused(other_study, contribution):
    outsider = member(other_study)
    with pytest.raises(services.ModerationError):
        services.flag_create(study=other_study, user=outsider, item=contribution, reason="spam")
    assert not Flag.objects.exists()


def test_non_member_cannot_flag(study, contribution):
    from tests.factories import UserFactory

    with pytest.raises(services.ModerationError):
        services.flag_create(study=study, user=UserFactory(), item=contribution, reason="spam")


def test_pending_items_cannot_be_flagged(study, contribution, contributor):
    contribution.state = ItemState.PENDING
    contribution.save()
    with pytest.raises(services.ModerationError):
        services.flag_create(study=study, user=contributor, item=contribution, reason="spam")


def test_hidden_items_cannot_be_flagged(study, contribution, contributor, facilitator):
    services.item_hide(study=study, actor=facilitator, item=contribution, reason="off_topic")
    with pytest.raises(services.ModerationError):
        services.flag_create(study=study, user=contributor, item=contribution, reason="spam")


def test_deleting_an_account_clears_its_flag_notes_but_keeps_the_flag(
    study, contribution, contributor
):
    from accounts.services import account_delete

    services.flag_create(
        study=study, user=contributor, item=contribution, reason="spam", note="I am Kari, 555-1234"
    )
    account_delete(user=contributor)
    flag = Flag.objects.get()
    assert flag.note == "" and flag.reason == "spam"


# --- who can hide an item with flags ---------------------------------------------------


def test_three_brand_new_accounts_do_not_hide_an_item(study, contribution):
    """Accounts made (and members who joined) to hide something only reach the queue."""
    for _ in range(3):
        services.flag_create(study=study, user=member(study), item=contribution, reason="spam")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED
    assert Flag.objects.filter(contribution=contribution).open().count() == 3
    assert not ModerationLog.objects.filter(action=LogAction.AUTO_HIDE).exists()


def test_old_accounts_that_joined_after_the_item_was_posted_do_not_count(
    study, contribution, settings
):
    long_ago = timezone.now() - dt.timedelta(days=30)
    for _ in range(3):
        user = UserFactory(date_joined=long_ago)
        MembershipFactory(study=study, user=user)  # joined just now, after the item
        services.flag_create(study=study, user=user, item=contribution, reason="spam")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED


def test_members_of_long_standing_with_new_accounts_do_not_count(study, contribution, settings):
    settings.FLAG_MIN_ACCOUNT_AGE_HOURS = 48
    for _ in range(3):
        user = UserFactory(date_joined=timezone.now() - dt.timedelta(hours=47))
        MembershipFactory(
            study=study, user=user, joined_at=contribution.created_at - dt.timedelta(hours=1)
        )
        services.flag_create(study=study, user=user, item=contribution, reason="spam")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED
    settings.FLAG_MIN_ACCOUNT_AGE_HOURS = 24  # the same flags count under a shorter age
    services.flag_create(study=study, user=flagger(study), item=contribution, reason="spam")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.HIDDEN


def test_only_the_counted_flags_reach_the_threshold(study, contribution):
    """Two counted flags and any number of new ones stay below a threshold of three."""
    services.flag_create(study=study, user=flagger(study), item=contribution, reason="spam")
    services.flag_create(study=study, user=flagger(study), item=contribution, reason="spam")
    for _ in range(4):
        services.flag_create(study=study, user=member(study), item=contribution, reason="spam")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED
    services.flag_create(study=study, user=flagger(study), item=contribution, reason="spam")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.HIDDEN
    entry = ModerationLog.objects.get(action=LogAction.AUTO_HIDE)
    assert entry.details["counted"] == 3 and entry.details["flaggers"] == 7


def test_an_official_answer_is_never_hidden_by_flags(study, contribution, facilitator):
    answer = CommentFactory(contribution=contribution, author=facilitator, official=True)
    for _ in range(5):
        services.flag_create(study=study, user=flagger(study), item=answer, reason="abuse")
    answer.refresh_from_db()
    assert answer.state == ItemState.PUBLISHED
    assert Flag.objects.filter(comment=answer).open().count() == 5  # in the queue


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.COORDINATOR])
def test_items_by_the_studys_staff_are_never_hidden_by_flags(study, role):
    staff = member(study, role=role)
    item = ContributionFactory(study=study, author=staff)
    for _ in range(5):
        services.flag_create(study=study, user=flagger(study), item=item, reason="abuse")
    item.refresh_from_db()
    assert item.state == ItemState.PUBLISHED


@pytest.mark.parametrize(
    ("flags", "state"),
    [
        ({"is_administrator": True}, ItemState.PUBLISHED),
        # Django's is_staff opens the developers' admin; it is no role on the platform.
        ({"is_staff": True, "is_superuser": True}, ItemState.HIDDEN),
    ],
)
def test_items_by_platform_administrators_are_never_hidden_by_flags(study, flags, state):
    staff = UserFactory(**flags)
    MembershipFactory(study=study, user=staff)
    item = ContributionFactory(study=study, author=staff)
    for _ in range(study.flag_threshold):  # enough to hide anyone else's item
        services.flag_create(study=study, user=flagger(study), item=item, reason="abuse")
    item.refresh_from_db()
    assert item.state == state


def test_flags_on_protected_items_reach_the_moderation_queue(study, contribution, facilitator):
    from moderation.selectors import moderation_queue

    answer = CommentFactory(contribution=contribution, author=facilitator, official=True)
    for _ in range(3):
        services.flag_create(study=study, user=flagger(study), item=answer, reason="abuse")
    queue = moderation_queue(studies=[study])
    assert [f.item.pk for f in queue.flagged if f.item_type == "comment"] == [answer.pk]
