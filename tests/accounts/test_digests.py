"""Daily and weekly digests: each period once per person, nothing skipped, nothing empty."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import IntegrityError

from accounts import services
from accounts.models import Delivery, DigestRun, Notification, NotificationSetting
from accounts.services import digest_period, digests_send_due
from tests.at_once import at_once
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
# Wednesday 10 June 2026, 06:05 in Oslo: the daily run for Tuesday 9 June.
MORNING = dt.datetime(2026, 6, 10, 6, 5, tzinfo=OSLO)


def _digest_person(email: str, frequency: str = "daily"):
    user = UserFactory(email=email, digest_frequency=frequency)
    NotificationSetting.objects.create(user=user, kind="reply", delivery=Delivery.DIGEST)
    return user


def _notify(user, title: str, at: dt.datetime) -> Notification:
    notification = services.notification_create(user=user, kind="reply", title=title)
    Notification.objects.filter(pk=notification.pk).update(created_at=at)
    return notification


def test_the_daily_period_is_yesterday_in_oslo():
    start, end = digest_period(frequency="daily", now=MORNING)
    assert (start, end) == (
        dt.datetime(2026, 6, 9, tzinfo=OSLO),
        dt.datetime(2026, 6, 10, tzinfo=OSLO),
    )


def test_the_weekly_period_is_last_monday_to_this_monday():
    start, end = digest_period(frequency="weekly", now=MORNING)
    assert (start, end) == (
        dt.datetime(2026, 6, 1, tzinfo=OSLO),
        dt.datetime(2026, 6, 8, tzinfo=OSLO),
    )


def test_a_day_across_the_clock_change_is_still_one_whole_day():
    start, end = digest_period(frequency="daily", now=dt.datetime(2026, 3, 30, 6, tzinfo=OSLO))
    # 29 March 2026 had 23 hours in Oslo.
    assert end.timestamp() - start.timestamp() == 23 * 3600


def test_a_digest_gathers_the_periods_notifications_into_one_email():
    kari = _digest_person("kari@example.org")
    _notify(kari, "First reply", MORNING - dt.timedelta(hours=10))
    _notify(kari, "Second reply", MORNING - dt.timedelta(hours=9))
    assert digests_send_due(now=MORNING) == 1
    [message] = mail.outbox
    assert message.to == ["kari@example.org"]
    assert "First reply" in message.body and "Second reply" in message.body
    run = DigestRun.objects.get(user=kari)
    assert run.sent_at is not None and run.item_count == 2


def test_a_digest_with_nothing_to_report_sends_no_email():
    kari = _digest_person("kari@example.org")
    assert digests_send_due(now=MORNING) == 0
    assert not mail.outbox
    run = DigestRun.objects.get(user=kari)
    assert run.sent_at is not None and run.item_count == 0


def test_read_notifications_are_not_reported_again():
    kari = _digest_person("kari@example.org")
    notification = _notify(kari, "Already seen", MORNING - dt.timedelta(hours=10))
    services.notification_mark_read(user=kari, notification_id=notification.pk)
    assert digests_send_due(now=MORNING) == 0
    assert not mail.outbox


def test_running_again_in_the_same_period_repeats_nothing():
    kari = _digest_person("kari@example.org")
    _notify(kari, "A reply", MORNING - dt.timedelta(hours=10))
    digests_send_due(now=MORNING)
    digests_send_due(now=MORNING + dt.timedelta(hours=1))
    digests_send_due(now=MORNING + dt.timedelta(hours=5))
    assert len(mail.outbox) == 1
    assert DigestRun.objects.count() == 1


def test_todays_notifications_wait_for_tomorrows_digest_and_are_not_skipped():
    kari = _digest_person("kari@example.org")
    _notify(kari, "Yesterday", MORNING - dt.timedelta(hours=10))
    _notify(kari, "This morning", MORNING - dt.timedelta(minutes=1))
    digests_send_due(now=MORNING)
    assert "This morning" not in mail.outbox[0].body
    digests_send_due(now=MORNING + dt.timedelta(days=1))
    assert len(mail.outbox) == 2
    assert "This morning" in mail.outbox[1].body and "Yesterday" not in mail.outbox[1].body


def test_a_day_without_a_run_is_carried_into_the_next_digest_not_skipped():
    kari = _digest_person("kari@example.org")
    _notify(kari, "Monday's reply", MORNING - dt.timedelta(days=1, hours=10))
    # No run on Tuesday morning (beat was down); Wednesday's run carries it.
    digests_send_due(now=MORNING)
    assert "Monday's reply" in mail.outbox[0].body


def test_one_period_is_recorded_once_per_person():
    kari = _digest_person("kari@example.org")
    start, end = digest_period(frequency="daily", now=MORNING)
    DigestRun.objects.create(user=kari, frequency="daily", period_start=start, period_end=end)
    with pytest.raises(IntegrityError):
        DigestRun.objects.create(user=kari, frequency="daily", period_start=start, period_end=end)


def _kari_and_ola_with_a_reply_each():
    kari = _digest_person("kari@example.org")
    ola = _digest_person("ola@example.org")
    _notify(kari, "For Kari", MORNING - dt.timedelta(hours=10))
    _notify(ola, "For Ola", MORNING - dt.timedelta(hours=10))
    return kari, ola


def _mail_to(address: str, *, fails_with: BaseException):
    """Sending mail to ``address`` raises ``fails_with``; mail to anyone else goes out."""
    real_send = services.send_mail

    def send(subject, message, sender, recipients, **kwargs):
        if recipients == [address]:
            raise fails_with
        return real_send(subject, message, sender, recipients, **kwargs)

    return mock.patch.object(services, "send_mail", side_effect=send)


def test_a_worker_that_dies_mid_run_neither_skips_nor_repeats_a_digest():
    kari, ola = _kari_and_ola_with_a_reply_each()

    with (
        # The process dies: nothing after runs.
        _mail_to("ola@example.org", fails_with=SystemExit("worker killed")),
        pytest.raises(SystemExit),
    ):
        digests_send_due(now=MORNING)
    assert [m.to for m in mail.outbox] == [["kari@example.org"]]
    ola_run = DigestRun.objects.get(user=ola)
    assert ola_run.sent_at is None  # claimed, not sent

    # The task is delivered again at once (acks_late): Ola's claim is fresh,
    # so a second worker does not send alongside the first.
    digests_send_due(now=MORNING + dt.timedelta(minutes=1))
    assert len(mail.outbox) == 1

    # Once the claim's lease has run out, the next run finishes it.
    digests_send_due(now=MORNING + dt.timedelta(hours=1))
    assert [m.to for m in mail.outbox] == [["kari@example.org"], ["ola@example.org"]]
    assert "For Ola" in mail.outbox[1].body
    ola_run.refresh_from_db()
    assert ola_run.sent_at is not None and ola_run.item_count == 1

    # And nothing is ever sent twice afterwards.
    digests_send_due(now=MORNING + dt.timedelta(hours=2))
    assert len(mail.outbox) == 2


def test_a_notification_created_while_a_claimed_digest_waits_is_not_lost():
    kari = _digest_person("kari@example.org")
    _notify(kari, "Before", MORNING - dt.timedelta(hours=10))
    with (
        mock.patch.object(services, "send_mail", side_effect=SystemExit("killed")),
        pytest.raises(SystemExit),
    ):
        digests_send_due(now=MORNING)
    _notify(kari, "After the claim", MORNING + dt.timedelta(minutes=30))
    digests_send_due(now=MORNING + dt.timedelta(hours=1))
    assert "Before" in mail.outbox[0].body and "After the claim" not in mail.outbox[0].body
    digests_send_due(now=MORNING + dt.timedelta(days=1))
    assert "After the claim" in mail.outbox[1].body


def test_weekly_people_are_not_sent_a_daily_digest():
    kari = _digest_person("kari@example.org", frequency="weekly")
    _notify(kari, "A reply", MORNING - dt.timedelta(hours=10))
    digests_send_due(now=MORNING)  # a Wednesday: last week's digest, which has nothing
    assert not mail.outbox
    digests_send_due(now=dt.datetime(2026, 6, 15, 6, 5, tzinfo=OSLO))  # next Monday
    assert len(mail.outbox) == 1
    assert "weekly" in mail.outbox[0].subject or "ukentlige" in mail.outbox[0].subject


def test_a_deleted_account_gets_no_digest():
    from accounts.services import account_delete

    kari = _digest_person("kari@example.org")
    _notify(kari, "A reply", MORNING - dt.timedelta(hours=10))
    account_delete(user=kari)
    digests_send_due(now=MORNING)
    assert not mail.outbox


def test_celery_beat_schedules_the_digest_task_at_least_hourly():
    import accounts.tasks
    from config.celery import app

    entry = app.conf.beat_schedule["accounts-digests"]
    assert entry["task"] == "accounts.tasks.digests_send_due"
    assert entry["task"] in app.tasks
    assert accounts.tasks.digests_send_due.name == entry["task"]
    schedule = entry["schedule"]
    seconds = schedule if isinstance(schedule, int | float) else schedule.run_every.total_seconds()
    assert 0 < seconds <= 3600
    # Redelivered when a worker dies mid-run; the claims make that safe.
    assert accounts.tasks.digests_send_due.acks_late


def test_the_beat_task_sends_the_due_digests(settings):
    from accounts.tasks import digests_send_due as task

    kari = _digest_person("kari@example.org")
    _notify(kari, "A reply", MORNING - dt.timedelta(hours=10))
    with mock.patch.object(services.timezone, "now", return_value=MORNING):
        assert task.delay().get() == 1
        assert task.delay().get() == 0  # the same period again: nothing repeated
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_meeting_the_same_period_send_one_digest(requires_postgres):

    kari = _digest_person("kari@example.org")
    _notify(kari, "A reply", MORNING - dt.timedelta(hours=10))
    start, end = digest_period(frequency="daily", now=MORNING)

    def worker(_):
        return services.digest_send(
            user=kari, frequency="daily", period_start=start, period_end=end, now=MORNING
        ).sent

    outcomes = at_once(worker, range(2))
    assert sorted(outcomes) == [False, True]
    assert len(mail.outbox) == 1
    assert DigestRun.objects.get(user=kari).item_count == 1


def test_one_persons_failing_digest_does_not_hold_back_the_others():
    kari, ola = _kari_and_ola_with_a_reply_each()
    with _mail_to("kari@example.org", fails_with=ConnectionError("mail server refused")):
        assert digests_send_due(now=MORNING) == 1
        # Kari's claim has expired an hour later; it fails again, Ola is not repeated.
        assert digests_send_due(now=MORNING + dt.timedelta(hours=1)) == 0
    assert [m.to for m in mail.outbox] == [["ola@example.org"]]
    # Once the mail server takes it, Kari gets her digest, once.
    digests_send_due(now=MORNING + dt.timedelta(hours=2))
    digests_send_due(now=MORNING + dt.timedelta(hours=3))
    assert [m.to for m in mail.outbox] == [["ola@example.org"], ["kari@example.org"]]
    assert "For Kari" in mail.outbox[1].body
