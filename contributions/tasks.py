"""Background work of contributions: what follows a post once it is committed."""

from celery import shared_task

from contributions import notifications


@shared_task(acks_late=True)
def reply_notify(comment_id: int) -> int:
    return notifications.reply_notify(comment_id=comment_id)
