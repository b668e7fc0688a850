"""Decisions on items: hide, restore, approve, reject, remove, dismiss, notes, answers."""

from __future__ import annotations

import pytest

from contributions.models import Comment, Contribution, ItemState
from moderation import services
from moderation.models import FacilitatorNote, Flag, FlagStatus, LogAction, ModerationLog
from tests.factories import CommentFactory, ContributionFactory
from tests.moderation.conftest import flagger, member

pytestmark = pytest.mark.django_db


def test_facilitator_hides_an_item_with_a_reason(study, contribution, facilitator):
    services.item_hide(
        study=study, actor=facilitator, item=contribution, reason="off_topic", note="Wrong study"
    )
    contribution.refresh_from_db()
    assert contribution.state == ItemState.HIDDEN
    assert contribution.moderation_reason == "off_topic"
    assert contribution.moderation_note == "Wrong study"
    entry = ModerationLog.objects.get()
    assert (entry.actor, entry.action, entry.target_type, entry.target_id, entry.reason) == (
        facilitator,
        LogAction.HIDE,
        "contribution",
        contribution.pk,
        "off_topic",
    )


def test_hiding_without_a_reason_is_refused_and_changes_nothing(study, contribution, facilitator):
    for reason in ("", "flagged", "nonsense"):
        with pytest.raises(services.ModerationError):
            services.item_hide(study=study, actor=facilitator, item=contribution, reason=reason)
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED
    assert not ModerationLog.objects.exists()


def test_hiding_an_item_already_hidden_is_refused(study, contribution, facilitator):
    services.item_hide(study=study, actor=facilitator, item=contribution, reason="off_topic")
    revision = Contribution.objects.get(pk=contribution.pk).revision
    with pytest.raises(services.ModerationError) as error:
        services.item_hide(study=study, actor=facilitator, item=contribution, reason="spam")
    assert error.value.code == "already_handled"
    contribution.refresh_from_db()
    assert contribution.moderation_reason == "off_topic"
    assert contribution.revision == revision
    assert ModerationLog.objects.count() == 1


def test_hiding_upholds_open_flags(study, contribution, facilitator, contributor):
    services.flag_create(study=study, user=contributor, item=contribution, reason="spam")
    services.item_hide(study=study, actor=facilitator, item=contribution, reason="spam")
    flag = Flag.objects.get()
    assert flag.status == FlagStatus.UPHELD
    assert flag.handled_by == facilitator and flag.handled_at is not None


def test_facilitator_confirms_an_automatic_hide_with_a_real_reason(
    study, contribution, facilitator
):
    study.flag_threshold = 1
    study.save()
    services.flag_create(study=study, user=flagger(study), item=contribution, reason="abuse")
    services.item_hide(study=study, actor=facilitator, item=contribution, reason="abuse")
    contribution.refresh_from_db()
    assert (contribution.state, contribution.moderation_reason) == (ItemState.HIDDEN, "abuse")


def test_restore_needs_a_reason_and_publishes_again(study, contribution, facilitator):
    services.item_hide(study=study, actor=facilitator, item=contribution, reason="off_topic")
    with pytest.raises(services.ModerationError):
        services.item_restore(study=study, actor=facilitator, item=contribution, reason="  ")
    services.item_restore(
        study=study, actor=facilitator, item=contribution, reason="It was on topic after all"
    )
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED and contribution.moderation_reason == ""
    assert ModerationLog.objects.filter(action=LogAction.RESTORE).get().reason.startswith("It was")


def test_restoring_a_published_item_is_refused(study, contribution, facilitator):
    with pytest.raises(services.ModerationError):
        services.item_restore(study=study, actor=facilitator, item=contribution, reason="why")


def test_approve_and_reject_in_pre_moderation(study, author, facilitator):
    waiting = ContributionFactory(study=study, author=author, state=ItemState.PENDING)
    other = ContributionFactory(study=study, author=author, state=ItemState.PENDING)
    services.item_approve(study=study, actor=facilitator, item=waiting)
    services.item_reject(study=study, actor=facilitator, item=other, reason="off_topic", note="")
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert waiting.state == ItemState.PUBLISHED
    assert (other.state, other.moderation_reason) == (ItemState.REJECTED, "off_topic")


def test_approving_an_item_twice_is_refused(study, author, facilitator):
    waiting = ContributionFactory(study=study, author=author, state=ItemState.PENDING)
    services.item_approve(study=study, actor=facilitator, item=waiting)
    with pytest.raises(services.ModerationError):
        services.item_approve(study=study, actor=facilitator, item=waiting)
    with pytest.raises(services.ModerationError):
        services.item_reject(study=study, actor=facilitator, item=waiting, reason="spam")
    assert ModerationLog.objects.count() == 1


def test_rejecting_without_a_reason_is_refused(study, author, facilitator):
    waiting = ContributionFactory(study=study, author=author, state=ItemState.PENDING)
    with pytest.raises(services.ModerationError):
        services.item_reject(study=study, actor=facilitator, item=waiting, reason="")
    waiting.refresh_from_db()
    assert waiting.state == ItemState.PENDING


def test_remove_only_as_spam_or_abuse(study, contribution, facilitator):
    with pytest.raises(services.ModerationError):
        services.item_remove(study=study, actor=facilitator, item=contribution, reason="off_topic")
    services.item_remove(study=study, actor=facilitator, item=contribution, reason="spam")
    contribution.refresh_from_db()
    assert (contribution.state, contribution.moderation_reason) == (ItemState.REMOVED, "spam")


def test_spam_removed_items_drop_out_of_counted_and_hidden_off_topic_stay(
    study, author, facilitator
):
    spam = ContributionFactory(study=study, author=author)
    abuse = CommentFactory(contribution=spam, author=author)
    off_topic = ContributionFactory(study=study, author=author)
    kept = ContributionFactory(study=study, author=author)
    counted = Contribution.objects.filter(study=study).counted()
    assert counted.count() == 3
    services.item_remove(study=study, actor=facilitator, item=spam, reason="spam")
    services.item_remove(study=study, actor=facilitator, item=abuse, reason="abuse")
    services.item_hide(study=study, actor=facilitator, item=off_topic, reason="off_topic")
    assert set(Contribution.objects.filter(study=study).counted()) == {off_topic, kept}
    assert not Comment.objects.filter(study=study).counted().exists()


def test_hidden_as_spam_is_not_counted_either(study, contribution, facilitator):
    services.item_hide(study=study, actor=facilitator, item=contribution, reason="spam")
    assert not Contribution.objects.filter(pk=contribution.pk).counted().exists()


def test_dismissing_flags_publishes_an_item_hidden_only_by_flags(study, contribution, facilitator):
    study.flag_threshold = 2
    study.save()
    for _ in range(2):
        services.flag_create(study=study, user=flagger(study), item=contribution, reason="spam")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.HIDDEN
    assert services.flags_dismiss(study=study, actor=facilitator, item=contribution) == 2
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED
    assert set(Flag.objects.values_list("status", flat=True)) == {FlagStatus.DISMISSED}


def test_dismissing_when_no_flags_are_open_is_refused(study, contribution, facilitator):
    with pytest.raises(services.ModerationError):
        services.flags_dismiss(study=study, actor=facilitator, item=contribution)
    assert not ModerationLog.objects.exists()


def test_acting_on_an_item_of_another_study_is_refused(other_study, contribution):
    foreign = member(other_study, role="facilitator")
    actions = [
        lambda: services.item_hide(
            study=other_study, actor=foreign, item=contribution, reason="spam"
        ),
        lambda: services.item_remove(
            study=other_study, actor=foreign, item=contribution, reason="spam"
        ),
        lambda: services.item_restore(
            study=other_study, actor=foreign, item=contribution, reason="x"
        ),
        lambda: services.note_add(study=other_study, actor=foreign, item=contribution, body="x"),
    ]
    for action in actions:
        with pytest.raises(services.ModerationError) as error:
            action()
        assert error.value.code == "other_study"
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED
    assert not ModerationLog.objects.exists()


def test_contributor_cannot_moderate_through_the_services(study, contribution, contributor):
    with pytest.raises(services.ModerationError):
        services.item_hide(study=study, actor=contributor, item=contribution, reason="spam")
    contribution.refresh_from_db()
    assert contribution.state == ItemState.PUBLISHED


def test_private_note_is_kept_and_logged(study, contribution, facilitator):
    services.note_add(study=study, actor=facilitator, item=contribution, body="Known spammer")
    assert FacilitatorNote.objects.get().body == "Known spammer"
    assert ModerationLog.objects.get().action == LogAction.NOTE


def test_official_answer_is_an_official_published_comment(study, contribution, facilitator):
    answer = services.official_answer_create(
        study=study, actor=facilitator, contribution=contribution, body="We will take this up."
    )
    assert answer.official and answer.state == ItemState.PUBLISHED
    assert answer.contribution == contribution and answer.author == facilitator
    assert ModerationLog.objects.get().action == LogAction.OFFICIAL_ANSWER


def test_official_answer_on_a_comment_is_refused(study, comment, facilitator):
    with pytest.raises(services.ModerationError):
        services.official_answer_create(
            study=study, actor=facilitator, contribution=comment, body="x"
        )


def test_the_study_statistics_drop_spam_removed_items_and_keep_hidden_off_topic_ones(
    study, facilitator
):
    """Through the one statistics module (reports.statistics), not only the queryset."""
    from reports.statistics import study_statistics

    spammer, off_topic_author, plain_author = (member(study) for _ in range(3))
    spam = ContributionFactory(study=study, author=spammer)
    off_topic = ContributionFactory(study=study, author=off_topic_author)
    ContributionFactory(study=study, author=plain_author)
    CommentFactory(contribution=off_topic, author=plain_author)
    before = study_statistics(study=study).totals
    assert (before.participants, before.contributions, before.comments) == (3, 3, 1)
    services.item_remove(study=study, actor=facilitator, item=spam, reason="spam")
    services.item_hide(study=study, actor=facilitator, item=off_topic, reason="off_topic")
    after = study_statistics(study=study).totals
    # The spam and its author leave the figures; the hidden off-topic item stays counted.
    assert (after.participants, after.contributions, after.comments) == (2, 2, 1)
