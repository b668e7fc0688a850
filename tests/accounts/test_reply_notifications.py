"""People hear of replies to what they posted, in their own language."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import Notification
from contributions.models import ItemState
from contributions.services import comment_create, item_change_state
from studies.models import ModerationMode
from tests.factories import ContributionFactory, MembershipFactory, StudyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread():
    study = StudyFactory(slug="digital-assistent")
    author = UserFactory(display_name="Kari", language="en")
    commenter = UserFactory(display_name="Ola")
    for person in (author, commenter):
        MembershipFactory(study=study, user=person)
    contribution = ContributionFactory(study=study, author=author, title="Plain language")
    return study, author, commenter, contribution


def test_a_comment_on_my_contribution_notifies_me_by_email(
    thread, django_capture_on_commit_callbacks
):
    _study, author, commenter, contribution = thread
    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_create(contribution=contribution, author=commenter, body="Agreed!")
    notification = Notification.objects.get(user=author)
    assert notification.kind == "reply"
    assert notification.title == "Ola commented on your contribution “Plain language”"
    assert notification.url == f"/studies/digital-assistent/#{comment.dom_id}"
    assert [m.to for m in mail.outbox] == [[author.email]]


def test_a_reply_to_my_comment_notifies_me_and_the_contribution_author_once_each(
    thread, django_capture_on_commit_callbacks
):
    study, author, commenter, contribution = thread
    third = UserFactory(display_name="Per")
    MembershipFactory(study=study, user=third)
    parent = comment_create(contribution=contribution, author=commenter, body="First")
    with django_capture_on_commit_callbacks(execute=True):
        comment_create(contribution=contribution, author=third, body="Reply", parent=parent)
    titles = dict(Notification.objects.values_list("user_id", "title"))
    assert titles[commenter.pk] == "Per svarte på kommentaren din om «Plain language»"
    assert titles[author.pk] == "Per commented on your contribution “Plain language”"
    assert third.pk not in titles


def test_my_own_comment_does_not_notify_me(thread):
    _study, author, _commenter, contribution = thread
    comment_create(contribution=contribution, author=author, body="Adding to my own idea")
    assert not Notification.objects.exists()


def test_a_pending_comment_notifies_only_once_it_is_approved(
    thread, django_capture_on_commit_callbacks
):
    study, author, commenter, contribution = thread
    study.moderation_mode = ModerationMode.PRE
    study.save()
    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_create(contribution=contribution, author=commenter, body="Wait for it")
    assert comment.state == ItemState.PENDING
    assert not Notification.objects.filter(user=author).exists()
    with django_capture_on_commit_callbacks(execute=True):
        item_change_state(item=comment, state=ItemState.PUBLISHED)
    assert Notification.objects.filter(user=author, kind="reply").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        item_change_state(item=comment, state=ItemState.HIDDEN, reason="off_topic")
        item_change_state(item=comment, state=ItemState.PUBLISHED)
    assert Notification.objects.filter(user=author, kind="reply").count() == 1


def test_replies_follow_the_reply_setting(thread, django_capture_on_commit_callbacks):
    from accounts.models import NotificationSetting

    _study, author, commenter, contribution = thread
    NotificationSetting.objects.create(user=author, kind="reply", delivery="none")
    with django_capture_on_commit_callbacks(execute=True):
        comment_create(contribution=contribution, author=commenter, body="Quiet")
    assert Notification.objects.filter(user=author).exists()
    assert not mail.outbox
