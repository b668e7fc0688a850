"""The Celery application. Tasks run eagerly in the embedded default (no REDIS_URL)."""

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class DugnadTask(Task):
    """A task that, run eagerly while the embedded scheduler runs, still waits its countdown.

    Eager Celery ignores ``countdown`` and ``eta``: a notification e-mail meant
    to gather a minute's notifications went out alone at once. Under the
    embedded scheduler (config/scheduler.py) such a task waits on a timer in
    the process instead, and a task marked ``background = True`` (a study
    export, a personal archive: long work with visible progress) runs on one
    at once, so the request returns and the page shows its progress as it
    would with a worker. Everywhere else it behaves as Celery's own.
    """

    background = False

    def runs_in_request(self) -> bool:
        """Whether queuing this task runs it before the call returns: eager Celery without
        the embedded scheduler (which would run it on a thread of its own)."""
        from config import scheduler

        return bool(self.app.conf.task_always_eager) and not scheduler.running()

    def apply_async(self, args=None, kwargs=None, task_id=None, producer=None, **options):
        countdown, eta = options.get("countdown"), options.get("eta")
        if self.app.conf.task_always_eager and (countdown or eta or self.background):
            from config import scheduler

            if scheduler.running():
                if eta is not None:
                    from django.utils import timezone

                    countdown = (eta - timezone.now()).total_seconds()
                scheduler.later(self, tuple(args or ()), dict(kwargs or {}), float(countdown or 0))
                return None
        return super().apply_async(args, kwargs, task_id, producer, **options)


app = Celery("dugnad", task_cls=DugnadTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
