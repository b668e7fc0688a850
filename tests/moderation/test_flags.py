"""Flags: one per person per item, automatic hiding at the study's threshold."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from contributions.models import ItemState, ModerationReason
from moderation import services
from moderation.models import Flag, FlagReason, LogAction, ModerationLog
from tests.moderation.conftest import member

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
    flaggers = [member(study) for _ in range(3)]
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
    services.flag_create(study=study, user=member(study), item=comment, reason="personal_data")
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
