"""Tell people about replies to what they posted (accounts delivers and e-mails it).

Called when a comment becomes visible: at once under post-moderation, or
when a facilitator approves it under pre-moderation.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import NotificationKind
from accounts.services import notification_create
from contributions.models import Comment


def reply_notify(*, comment: Comment) -> None:
    """Notify the contribution's author and, for a reply, the author of the comment replied to.

    Nobody is told about their own comment, and each person once.
    """
    contribution = comment.contribution
    url = reverse("study_detail", kwargs={"slug": contribution.study.slug}) + f"#{comment.dom_id}"
    told = {comment.author_id}
    recipients = []
    if comment.parent_id:
        recipients.append((comment.parent.author, "comment"))
    recipients.append((contribution.author, "contribution"))
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
        notification_create(
            user=person, kind=NotificationKind.REPLY, title=title, body=comment.body[:500], url=url
        )
