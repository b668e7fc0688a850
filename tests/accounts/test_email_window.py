"""Instant e-mails come together: the first at once, the rest of a window in one.

accounts.services.notification_create queues the e-mail after the commit:
the first notification in NOTIFICATION_EMAIL_WINDOW seconds is e-mailed at
once, those that follow go out together at the end of the window.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache

from accounts import services, tasks
from accounts.models import Delivery, NotificationSetting
from accounts.services import notification_create, notification_emails_send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return UserFactory(email="kari@example.org", display_name="Kari", language="en")


@pytest.fixture
def later(monkeypatch):
    """Tasks queued for the end of the window, held instead of run (eager Celery
    would run them at once)."""
    held = []
    run_now = tasks.notification_emails_send.apply_async

    def apply_async(args=None, kwargs=None, countdown=None, **options):
        if countdown is None:  # delay(): at once
            return run_now(args, kwargs, **options)
        held.append((tuple(args), countdown))
        return None

    monkeypatch.setattr(tasks.notification_emails_send, "apply_async", apply_async)
    return held


def _notify(
    person, django_capture_on_commit_callbacks, title, url="/studies/x/", kind="reply", body=""
):
    with django_capture_on_commit_callbacks(execute=True):
        return notification_create(user=person, kind=kind, title=title, url=url, body=body)


def test_the_first_goes_at_once_and_the_rest_of_the_window_together(
    person, django_capture_on_commit_callbacks, later, settings
):
    settings.NOTIFICATION_EMAIL_WINDOW = 60
    first = _notify(person, django_capture_on_commit_callbacks, "Ola commented")
    assert [m.subject for m in mail.outbox] == ["[Dugnad] Ola commented"]
    second = _notify(person, django_capture_on_commit_callbacks, "Per commented", "/studies/y/")
    third = _notify(person, django_capture_on_commit_callbacks, "Liv commented", "/studies/z/")
    assert len(mail.outbox) == 1  # nothing more at once
    # One task, not two, for the end of the window that began with the first.
    [(args, countdown)] = later
    assert args == (person.pk,) and 55 <= countdown <= 60

    assert notification_emails_send(user_id=person.pk) == 2
    message = mail.outbox[1]
    assert message.to == ["kari@example.org"]
    assert message.subject == "[Dugnad] 2 new notifications"
    assert "Per commented" in message.body and "Liv commented" in message.body
    assert "Ola commented" not in message.body  # e-mailed already
    assert "http://127.0.0.1:8000/studies/y/" in message.body
    assert "http://127.0.0.1:8000/studies/z/" in message.body
    for notification in (first, second, third):
        notification.refresh_from_db()
        assert notification.emailed_at is not None
    # A task that runs again (a redelivery) finds nothing left.
    assert notification_emails_send(user_id=person.pk) == 0
    assert len(mail.outbox) == 2


def test_after_the_gathered_email_a_new_notification_queues_its_own(
    person, django_capture_on_commit_callbacks, later
):
    _notify(person, django_capture_on_commit_callbacks, "One")
    _notify(person, django_capture_on_commit_callbacks, "Two")
    assert len(later) == 1
    notification_emails_send(user_id=person.pk)
    _notify(person, django_capture_on_commit_callbacks, "Three")
    assert len(later) == 2  # still in the window, so at its end again
    assert notification_emails_send(user_id=person.pk) == 1
    assert [m.subject for m in mail.outbox] == ["[Dugnad] One", "[Dugnad] Two", "[Dugnad] Three"]


def test_the_window_is_per_person(person, django_capture_on_commit_callbacks, later):
    other = UserFactory(email="ola@example.org")
    _notify(person, django_capture_on_commit_callbacks, "For Kari")
    _notify(other, django_capture_on_commit_callbacks, "For Ola")
    assert sorted(m.to[0] for m in mail.outbox) == ["kari@example.org", "ola@example.org"]
    assert later == []


def test_only_instant_notifications_are_gathered(person, django_capture_on_commit_callbacks, later):
    NotificationSetting.objects.create(user=person, kind="moderation", delivery=Delivery.DIGEST)
    _notify(person, django_capture_on_commit_callbacks, "First")
    _notify(person, django_capture_on_commit_callbacks, "For the digest", kind="moderation")
    _notify(person, django_capture_on_commit_callbacks, "Second")
    assert notification_emails_send(user_id=person.pk) == 1
    assert "For the digest" not in mail.outbox[-1].body
    assert mail.outbox[-1].subject == "[Dugnad] Second"  # one: as a single notification


def test_a_window_of_zero_emails_each_at_once(
    person, django_capture_on_commit_callbacks, later, settings
):
    settings.NOTIFICATION_EMAIL_WINDOW = 0
    for title in ("One", "Two", "Three"):
        _notify(person, django_capture_on_commit_callbacks, title)
    assert [m.subject for m in mail.outbox] == ["[Dugnad] One", "[Dugnad] Two", "[Dugnad] Three"]
    assert later == []


def test_with_the_cache_down_each_is_emailed_at_once(
    person, django_capture_on_commit_callbacks, later, caplog
):
    with mock.patch.object(cache, "add", side_effect=ConnectionError("cache down")):
        for title in ("One", "Two"):
            _notify(person, django_capture_on_commit_callbacks, title)
    assert [m.subject for m in mail.outbox] == ["[Dugnad] One", "[Dugnad] Two"]
    assert later == []
    assert "e-mail window" in caplog.text


def test_the_gathered_email_is_in_the_persons_language(
    person, django_capture_on_commit_callbacks, later
):
    person.language = "nb"
    person.save(update_fields=["language"])
    for title in ("En", "To", "Tre"):
        _notify(person, django_capture_on_commit_callbacks, title)
    notification_emails_send(user_id=person.pk)
    message = mail.outbox[-1]
    assert message.subject == "[Dugnad] 2 nye varsler"
    assert "Dette har skjedd i Dugnad" in message.body


def test_a_deleted_account_gets_no_gathered_email(
    person, django_capture_on_commit_callbacks, later
):
    _notify(person, django_capture_on_commit_callbacks, "One")
    _notify(person, django_capture_on_commit_callbacks, "Two")
    person.email = ""
    person.save(update_fields=["email"])
    notification_emails_send(user_id=person.pk)
    assert len(mail.outbox) == 1


def test_posting_many_comments_queues_one_task_for_the_window(
    person, django_capture_on_commit_callbacks, later, monkeypatch
):
    """What the posting benchmark measures: not one task per comment."""
    queued = []
    monkeypatch.setattr(tasks.notification_emails_send, "delay", queued.append)
    monkeypatch.setattr(tasks.notification_email_send, "delay", queued.append)
    for n in range(10):
        _notify(person, django_capture_on_commit_callbacks, f"Comment {n}")
    assert queued == [person.pk] and len(later) == 1
    assert cache.get(services.EMAIL_LATER_KEY.format(person.pk)) == 1


def test_the_gathered_email_carries_each_notifications_text(
    person, django_capture_on_commit_callbacks, later
):
    _notify(person, django_capture_on_commit_callbacks, "First")
    _notify(person, django_capture_on_commit_callbacks, "Hidden", body="Reason: off-topic.")
    _notify(person, django_capture_on_commit_callbacks, "Reply", body="I agree with you.")
    notification_emails_send(user_id=person.pk)
    body = mail.outbox[-1].body
    assert "Reason: off-topic." in body and "I agree with you." in body
    assert body.index("Hidden") < body.index("Reason: off-topic.") < body.index("Reply")


def test_a_title_with_line_breaks_makes_a_one_line_subject(
    person, django_capture_on_commit_callbacks
):
    _notify(person, django_capture_on_commit_callbacks, "Ola replied\r\nBcc: x@example.org")
    [message] = mail.outbox
    assert message.subject == "[Dugnad] Ola replied Bcc: x@example.org"
    assert message.bcc == []


def test_when_queueing_for_the_window_fails_the_next_notification_queues_again(
    person, django_capture_on_commit_callbacks, monkeypatch
):
    _notify(person, django_capture_on_commit_callbacks, "At once")

    def broker_down(*args, countdown=None, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.notification_emails_send, "apply_async", broker_down)
    with pytest.raises(ConnectionError):
        _notify(person, django_capture_on_commit_callbacks, "Lost")
    assert cache.get(services.EMAIL_LATER_KEY.format(person.pk)) is None
    held = []
    monkeypatch.setattr(
        tasks.notification_emails_send,
        "apply_async",
        lambda args=None, kwargs=None, countdown=None, **o: held.append(countdown),
    )
    _notify(person, django_capture_on_commit_callbacks, "Next")
    assert len(held) == 1


def test_overdue_instant_notifications_of_the_last_day_are_emailed(person, settings):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Notification
    from accounts.services import notification_emails_overdue

    settings.NOTIFICATION_EMAIL_WINDOW = 60
    now = timezone.now()

    def waiting(title, age):
        return Notification.objects.create(
            user=person, kind="reply", title=title, delivery=Delivery.INSTANT,
            created_at=now - age,
        )  # fmt: skip

    waiting("Lost task", timedelta(minutes=10))
    waiting("From last month", timedelta(days=30))
    waiting("In its window", timedelta(seconds=30))
    assert notification_emails_overdue() == 2  # the lost one, and the fresh one with it
    [message] = mail.outbox
    assert "Lost task" in message.body and "From last month" not in message.body
    assert notification_emails_overdue() == 0


def test_celery_beat_runs_the_overdue_emails_every_few_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-notification-emails-overdue"]
    assert entry["task"] == "accounts.tasks.notification_emails_overdue"
    assert entry["schedule"] <= 600


@pytest.mark.django_db(transaction=True)
def test_a_locked_person_row_does_not_hold_back_their_emails(requires_postgres):
    """A sign-in updating the person's row must not make the claim skip everything."""
    import threading

    from django.db import connections, transaction

    from accounts.models import Notification, User

    person = UserFactory(email="kari@example.org", language="en")
    Notification.objects.create(
        user=person, kind="reply", title="Waiting", delivery=Delivery.INSTANT
    )
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=person.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        assert notification_emails_send(user_id=person.pk) == 1
    finally:
        release.set()
        holder.join()
    assert [m.subject for m in mail.outbox] == ["[Dugnad] Waiting"]
