"""Background work of contributions: what follows a post once it is committed."""

from celery import shared_task

from contributions import notifications, services
from contributions.models import Comment


@shared_task(acks_late=True)
def reply_notify(comment_id: int) -> int:
    return notifications.reply_notify(comment_id=comment_id)


@shared_task(acks_late=True)
def comment_posted(comment_id: int) -> int:
    """What follows a published comment's post, in one message: its reply notifications
    (with their unread counts and e-mails) and, on ``services.comment_posted``, its
    search document. Both read the comment as it is now and may run twice; the
    document is written even when the notifications fail (their error is raised
    afterwards). Returns how many people were notified.
    """
    try:
        return notifications.reply_notify(comment_id=comment_id)
    finally:
        services.comment_posted.send(sender=Comment, comment_id=comment_id)
