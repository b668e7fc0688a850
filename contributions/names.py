"""A changed name is a study event in every study that shows it (accounts/names.py).

The study ids are read when the change is made, in its transaction (a
deleted person's or organisation's rows are still there); the events are
recorded when it commits, in a transaction of their own, one per study.
``names.changed`` carries nothing (no id: the stream names no one); open
pages ignore it (the next page load shows the name), kept pages of the
study are made again because the event number moved. A person whose
account is closed has their sockets closed first, so none of them receives
the event.
"""

from __future__ import annotations

import logging

from django.db import transaction

from accounts.names import name_changed
from contributions.models import Comment, Contribution
from studies import events
from studies.models import Membership

logger = logging.getLogger(__name__)


def studies_showing(*, person_id: int | None = None, organisation_id: int | None = None) -> set:
    """The studies whose pages can show this person's or organisation's name."""
    if person_id is not None:
        member = {"user_id": person_id}
        item = {"author_id": person_id}
    else:
        member = {"organisation_id": organisation_id}
        item = {"acted_for_id": organisation_id}
    ids = set(Membership.objects.filter(**member).values_list("study_id", flat=True))
    for model in (Contribution, Comment):
        ids.update(model.objects.filter(**item).values_list("study_id", flat=True).distinct())
    return ids


def _changed(sender, pk, account_closed=False, **kwargs) -> None:
    person = sender._meta.model_name == "user"
    study_ids = sorted(
        studies_showing(person_id=pk) if person else studies_showing(organisation_id=pk)
    )
    if not study_ids:
        return
    if account_closed:
        # Registered before the event, so it runs first after commit.
        events.access_changed(user_id=pk)

    def record() -> None:
        # In study order, one short transaction each: the same order as every
        # other writer that takes more than one study's lock.
        for study_id in study_ids:
            try:
                with transaction.atomic():
                    events.record_event(study_id=study_id, kind="names.changed")
            except Exception:
                logger.exception("could not record names.changed in study %s", study_id)

    transaction.on_commit(record, robust=True)


def connect() -> None:
    name_changed.connect(_changed, dispatch_uid="contributions_names_changed")
