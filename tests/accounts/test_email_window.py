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


def _notify(person, django_capture_on_commit_callbacks, title, url="/studies/x/", kind="reply"):
    with django_capture_on_commit_callbacks(execute=True):
        return notification_create(user=person, kind=kind, title=title, url=url)


def test_the_first_goes_at_once_and_the_rest_of_the_window_together(
    person, django_capture_on_commit_callbacks, later, settings
):
    settings.NOTIFICATION_EMAIL_WINDOW = 60
    first = _notify(person, django_capture_on_commit_callbacks, "Ola commented")
    assert [m.subject for m in mail.outbox] == ["[Dugnad] Ola commented"]
    second = _notify(person, django_capture_on_commit_callbacks, "Per commented", "/studies/y/")
    third = _notify(person, django_capture_on_commit_callbacks, "Liv commented", "/studies/z/")
    assert len(mail.outbox) == 1  # nothing more at once
    assert later == [((person.pk,), 60)]  # one task for the end of the window, not two

    assert notification_emails_send(user_id=person.pk) == 2
    message = mail.outbox[1]
    assert message.to == ["kari@example.org"]
    assert message.subject == "[Dugnad] 2 new notifications in Dugnad"
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
    assert message.subject == "[Dugnad] 2 nye varsler i Dugnad"
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
