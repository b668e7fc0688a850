"""Moderation e-mails: batched digests to facilitators (notices go through accounts)."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def send_moderation_digests() -> int:
    """Tell each study's facilitators about flags and waiting items since the last batch."""
    from moderation.services import moderation_digests_send

    return moderation_digests_send()
