"""Tell people about replies to what they posted (accounts delivers and e-mails it).

Queued after commit when a comment becomes visible: at once under
post-moderation, with its search document in the same message
(``comment_posted_after_commit``), or when a facilitator approves it under
pre-moderation (``reply_notify_after_commit``). The task reads the comment as it is when it
runs, so a comment hidden, withdrawn, edited or deleted before then notifies
nobody with text it no longer has.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationKind
from accounts.services import notification_create
from contributions.models import Comment, ItemState
from core.tasks import task

REPLY_NOTIFY_TASK = "contributions.tasks.reply_notify"
COMMENT_POSTED_TASK = "contributions.tasks.comment_posted"


def reply_notify_after_commit(*, comment: Comment) -> None:
    """Queue the reply notification of ``comment`` once the current transaction commits."""
    comment_id = comment.pk
    transaction.on_commit(lambda: task(REPLY_NOTIFY_TASK).delay(comment_id))


def comment_posted_after_commit(*, comment: Comment) -> None:
    """Queue what follows a published comment's post once the current transaction
    commits: its reply notifications and its search document, in one message.

    Queued on commit, acknowledged by the worker only when done (``acks_late``):
    a worker restarted meanwhile leaves the message to the next one.
    """
    comment_id = comment.pk
    transaction.on_commit(lambda: task(COMMENT_POSTED_TASK).delay(comment_id))


def reply_notify(*, comment_id: int) -> int:
    """Notify the contribution's author and, for a reply, the author of the comment replied to;
    returns how many were notified now.

    Nobody is told about their own comment, each person once, and only while
    the comment is published. Idempotent: the comment's row is locked and a
    person who already has the notification of this comment gets no second.
    """
    with transaction.atomic():
        comment = (
            Comment.objects.select_for_update(of=("self",))
            .select_related(
                "author", "contribution__author", "contribution__study", "parent__author"
            )
            .filter(pk=comment_id)
            .first()
        )
        if comment is None or comment.state != ItemState.PUBLISHED:
            return 0
        contribution = comment.contribution
        url = (
            reverse("study_detail", kwargs={"slug": contribution.study.slug}) + f"#{comment.dom_id}"
        )
        told = {comment.author_id}
        recipients = []
        if comment.parent_id:
            recipients.append((comment.parent.author, "comment"))
        recipients.append((contribution.author, "contribution"))
        recipients = [(person, what) for person, what in recipients if person.pk not in told]
        already = set(
            Notification.objects.filter(
                user__in=[person for person, _what in recipients],
                kind=NotificationKind.REPLY,
                url=url,
            ).values_list("user_id", flat=True)
        )
        told |= already
        count = 0
        for person, what in recipients:
            if person.pk in told:
                continue
            told.add(person.pk)
            with translation.override(person.preferred_language):
                name = comment.author.public_name
                values = {"name": name, "title": contribution.title}
                if comment.official:
                    title = _("An official answer to your contribution “%(title)s”") % values
                elif what == "comment":
                    title = _("%(name)s replied to your comment on “%(title)s”") % values
                else:
                    title = _("%(name)s commented on your contribution “%(title)s”") % values
            if notification_create(
                user=person,
                kind=NotificationKind.REPLY,
                title=title,
                body=comment.body[:500],
                url=url,
            ):
                count += 1
    return count
