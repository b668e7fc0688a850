"""The embedded scheduler (config/scheduler.py): the beat schedule runs under `make run`,
each occurrence once, and tasks queued for later wait their time."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings

from accounts import services as account_services
from accounts import tasks as account_tasks
from config import scheduler
from tests.at_once import at_once

NOW = dt.datetime(2030, 5, 1, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def digests(monkeypatch):
    calls = []
    monkeypatch.setattr(account_services, "digests_send_due", lambda: calls.append(1) or 0)
    return calls


@pytest.mark.django_db
def test_a_due_digest_runs_once_and_only_once(digests):
    assert "accounts-digests" in scheduler.run_due(NOW)
    assert len(digests) == 1
    # Looked at again at once, or half an hour later (a second process, a restart
    # reading the same row): not due, not run.
    assert "accounts-digests" not in scheduler.run_due(NOW)
    assert "accounts-digests" not in scheduler.run_due(NOW + dt.timedelta(minutes=30))
    assert len(digests) == 1
    # An hour on, the next occurrence runs, once.
    assert "accounts-digests" in scheduler.run_due(NOW + dt.timedelta(hours=1))
    assert "accounts-digests" not in scheduler.run_due(NOW + dt.timedelta(hours=1, seconds=5))
    assert len(digests) == 2


@pytest.mark.django_db
def test_the_digest_task_sends_the_digest_it_runs(digests):
    scheduler.run_due(NOW)
    assert digests == [1]


@pytest.mark.django_db
def test_every_entry_of_the_beat_schedule_runs_under_the_embedded_scheduler(monkeypatch):
    ran = []

    def fake_task(name):
        class Task:
            def apply(self, args=(), kwargs=None, throw=False):
                ran.append(name)

        return Task()

    monkeypatch.setattr(scheduler, "_task", fake_task)
    names = scheduler.run_due(NOW)
    assert sorted(names) == sorted(settings.CELERY_BEAT_SCHEDULE)
    assert sorted(ran) == sorted(e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values())
    # Each names a task Celery knows.
    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


@pytest.mark.django_db
def test_a_failing_task_is_logged_and_the_others_still_run(monkeypatch, digests):
    def broken():
        raise RuntimeError("mail server down")

    logged = []

    class Logger:
        def exception(self, message, *args):
            logged.append(message % args)

        warning = info = exception

    monkeypatch.setattr(account_services, "notification_emails_overdue", broken)
    monkeypatch.setattr(scheduler, "logger", Logger())
    names = scheduler.run_due(NOW)
    assert "accounts-notification-emails-overdue" in names and digests == [1]
    assert logged == [
        "scheduled task accounts-notification-emails-overdue failed; it runs again when next due"
    ]


@pytest.mark.django_db(transaction=True)
def test_two_processes_claim_one_occurrence_once(requires_postgres):
    """Two schedulers at the same moment (two web processes): exactly one claims the run."""
    results = at_once(lambda _: scheduler.claim("race", dt.timedelta(hours=1), NOW), range(8))
    assert sorted(results) == [False] * 7 + [True]


@pytest.mark.django_db
def test_a_countdown_waits_under_the_embedded_scheduler(monkeypatch, eager_celery):
    """Eager Celery ignores countdowns: under the scheduler the task waits on a timer."""
    sent, deferred = [], []
    monkeypatch.setattr(
        account_services, "notification_emails_send", lambda user_id: sent.append(user_id)
    )
    monkeypatch.setattr(scheduler, "running", lambda: True)
    monkeypatch.setattr(
        scheduler, "later", lambda task, args, kwargs, seconds: deferred.append((args, seconds))
    )
    account_tasks.notification_emails_send.apply_async((7,), countdown=55)
    assert sent == [] and deferred == [((7,), 55.0)]
    account_tasks.notification_emails_send.delay(8)  # no countdown: at once
    assert sent == [8]


@pytest.mark.django_db
def test_without_the_scheduler_a_countdown_runs_eagerly_as_before(monkeypatch, eager_celery):
    sent = []
    monkeypatch.setattr(
        account_services, "notification_emails_send", lambda user_id: sent.append(user_id)
    )
    assert not scheduler.running()
    account_tasks.notification_emails_send.apply_async((7,), countdown=55)
    assert sent == [7]


def test_a_timer_runs_the_deferred_task_in_the_process(monkeypatch):
    done = threading.Event()
    seen = []

    class Task:
        name = "probe"

        def apply(self, args=(), kwargs=None, throw=False):
            seen.append(args)
            done.set()

    scheduler.later(Task(), (1,), {}, 0.01)
    assert done.wait(5)
    assert seen == [(1,)]


async def test_the_web_process_starts_and_stops_the_scheduler_with_its_lifespan(monkeypatch):
    from config.asgi import application

    calls = []
    monkeypatch.setattr(scheduler, "start", lambda: calls.append("start") or True)
    monkeypatch.setattr(scheduler, "stop", lambda: calls.append("stop"))
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message["type"])

    await application({"type": "lifespan"}, receive, send)
    assert calls == ["start", "stop"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, True),
        ({"REDIS_URL": "redis://127.0.0.1:6379/9"}, False),
        ({"EMBEDDED_SCHEDULER": "0"}, False),
    ],
)
def test_the_scheduler_is_on_by_default_only_without_a_broker(env, expected):
    import os
    import subprocess
    import sys

    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "EMBEDDED_SCHEDULER")
    }
    probe = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.EMBEDDED_SCHEDULER)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    assert out.stdout.strip() == str(expected)


@pytest.mark.django_db
def test_start_does_nothing_when_the_settings_say_no(settings):
    settings.EMBEDDED_SCHEDULER = False
    assert scheduler.start() is False
    assert not scheduler.running()


@pytest.mark.django_db(transaction=True)
def test_under_the_embedded_scheduler_notification_emails_gather(
    monkeypatch, settings, eager_celery, mailoutbox
):
    """`make run`: the first notification is e-mailed at once, those that follow in the window
    together, once, at its end (a real timer in this process)."""
    from django.core.cache import cache

    from accounts.services import notification_create
    from tests.factories import UserFactory

    settings.NOTIFICATION_EMAIL_WINDOW = 5
    cache.clear()
    gathered = threading.Event()
    send = account_services.notification_emails_send

    def send_and_tell(*, user_id):
        sent = send(user_id=user_id)
        if sent > 1:
            gathered.set()
        return sent

    monkeypatch.setattr(account_services, "notification_emails_send", send_and_tell)
    monkeypatch.setattr(scheduler, "running", lambda: True)
    person = UserFactory(email="kari@example.org", display_name="Kari", language="en")
    for n in range(3):
        notification_create(user=person, kind="reply", title=f"Reply {n}", url="/studies/x/")
    # The first at once; the other two wait for the end of the window.
    assert [m.subject for m in mailoutbox] == ["[Dugnad] Reply 0"]
    assert gathered.wait(20)
    assert len(mailoutbox) == 2
    assert "Reply 1" in mailoutbox[1].body and "Reply 2" in mailoutbox[1].body
