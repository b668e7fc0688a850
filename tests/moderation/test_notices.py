"""Authors and members learn what happened and why; facilitators get batched e-mails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Notification
from contributions.models import ItemState
from moderation import services
from moderation.models import ModerationDigest
from studies.models import Membership
from tests.factories import CommentFactory, ContributionFactory
from tests.moderation.conftest import flagger

pytestmark = pytest.mark.django_db


def notices_for(user):
    return list(Notification.objects.filter(user=user).order_by("id"))


@pytest.fixture
def english_author(author):
    author.language = "en"
    author.save()
    return author


def test_author_is_told_in_the_platform_and_by_e_mail_when_an_item_is_hidden(
    study, contribution, english_author, facilitator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.item_hide(
            study=study, actor=facilitator, item=contribution, reason="off_topic", note="Wrong"
        )
    (notice,) = notices_for(english_author)
    assert "hid your contribution" in notice.title
    assert "off-topic" in notice.body and "Wrong" in notice.body
    assert notice.url.endswith(f"#{contribution.dom_id}")
    (message,) = [m for m in mail.outbox if english_author.email in m.to]
    assert "hid your contribution" in message.subject


def test_author_is_told_when_rejected_removed_and_restored(
    study, english_author, facilitator, django_capture_on_commit_callbacks
):
    waiting = ContributionFactory(study=study, author=english_author, state=ItemState.PENDING)
    spam = CommentFactory(contribution=ContributionFactory(study=study), author=english_author)
    hidden = ContributionFactory(study=study, author=english_author)
    with django_capture_on_commit_callbacks(execute=True):
        services.item_reject(study=study, actor=facilitator, item=waiting, reason="off_topic")
        services.item_remove(study=study, actor=facilitator, item=spam, reason="spam")
        services.item_hide(study=study, actor=facilitator, item=hidden, reason="other")
        services.item_restore(study=study, actor=facilitator, item=hidden, reason="A second look")
    titles = [n.title for n in notices_for(english_author)]
    assert "did not approve" in titles[0]
    assert "removed your comment" in titles[1]
    assert "restored your contribution" in titles[3]
    assert "A second look" in notices_for(english_author)[3].body
    # Four notices in one transaction: one e-mail with all four (accounts: instant
    # e-mails come together).
    (message,) = [m for m in mail.outbox if english_author.email in m.to]
    assert "4 new notifications" in message.subject
    for title in titles:
        assert title in message.body


def test_author_is_told_when_flags_hide_an_item(study, contribution, english_author):
    study.flag_threshold = 1
    study.save()
    services.flag_create(study=study, user=flagger(study), item=contribution, reason="spam")
    (notice,) = notices_for(english_author)
    assert "review" in notice.title


def test_notices_follow_the_authors_language(study, contribution, author, facilitator):
    author.language = "nb"
    author.save()
    services.item_hide(study=study, actor=facilitator, item=contribution, reason="off_topic")
    (notice,) = notices_for(author)
    assert "skjulte" in notice.title


def test_blocked_member_is_told_why_and_until_when(study, facilitator, contributor):
    contributor.language = "en"
    contributor.save()
    until = timezone.now() + timedelta(days=2)
    services.member_block(
        study=study,
        actor=facilitator,
        membership=Membership.objects.get(study=study, user=contributor),
        reason="Personal attacks",
        until=until,
    )
    (notice,) = notices_for(contributor)
    assert study.title in notice.title
    assert "Personal attacks" in notice.body and "block ends" in notice.body


def test_refused_actions_send_no_notice(study, contribution, author, facilitator):
    with pytest.raises(services.ModerationError):
        services.item_hide(study=study, actor=facilitator, item=contribution, reason="")
    assert notices_for(author) == []


# --- facilitators' batched e-mails ------------------------------------------------


@pytest.fixture
def activity(study, contribution, author, facilitator, coordinator):
    facilitator.language = coordinator.language = "en"
    facilitator.save()
    coordinator.save()
    for _ in range(2):
        services.flag_create(study=study, user=flagger(study), item=contribution, reason="spam")
    ContributionFactory(study=study, author=author, state=ItemState.PENDING)
    return study


def digests_to(user):
    return [m for m in mail.outbox if user.email in m.to and "/moderation/" in m.body]


def test_facilitators_get_one_e_mail_for_many_flags_and_items(
    activity, facilitator, coordinator, contributor, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.moderation_digests_send(now=timezone.now()) == 1
    assert len(digests_to(facilitator)) == 1
    assert len(digests_to(coordinator)) == 1
    assert digests_to(contributor) == []
    body = digests_to(facilitator)[0].body
    assert "2 new flags" in body and "1 new item waiting" in body
    assert f"/moderation/{activity.slug}/" in body


def test_the_batch_task_is_idempotent_and_only_sends_what_is_new(
    activity, facilitator, contribution, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    first = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.moderation_digests_send(now=first)
        assert services.moderation_digests_send(now=first) == 0
        assert services.moderation_digests_send(now=first + timedelta(minutes=15)) == 0
    assert len(digests_to(facilitator)) == 1
    services.flag_create(study=activity, user=flagger(activity), item=contribution, reason="abuse")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.moderation_digests_send(now=timezone.now() + timedelta(minutes=1)) == 1
    assert len(digests_to(facilitator)) == 2
    assert "1 new flag on 1 item" in digests_to(facilitator)[-1].body
    assert ModerationDigest.objects.count() == 2


def test_the_celery_task_sends_the_digests(
    activity, facilitator, django_capture_on_commit_callbacks
):
    from moderation.tasks import send_moderation_digests

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_moderation_digests.delay()
    assert len(digests_to(facilitator)) == 1


def test_beat_runs_the_digest_task(settings):
    entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "moderation.tasks.send_moderation_digests" in entries
