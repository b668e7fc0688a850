"""Celery tasks of studies: invitation e-mails."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from studies.models import Invitation


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation_emails(invitations: list[tuple[int, str]]) -> int:
    """E-mail each invitation its link; ``invitations`` pairs an id with its token.

    The database keeps only a hash of each token, so the token travels here
    and into the e-mail, nowhere else. Returns how many e-mails went out.
    """
    from accounts.models import User

    tokens = {int(pk): token for pk, token in invitations}
    sent = 0
    for invitation in Invitation.objects.filter(
        pk__in=tokens, accepted_at__isnull=True
    ).select_related("study", "invited_by"):
        # Someone who already has an account reads it in their language; others in bokmål.
        person = User.objects.filter(email__iexact=invitation.email).first()
        language = person.preferred_language if person else settings.LANGUAGE_CODE
        with translation.override(language):
            url = settings.SITE_URL + reverse("studies:invitation", args=[tokens[invitation.pk]])
            context = {"invitation": invitation, "study": invitation.study, "url": url}
            subject = render_to_string("studies/email/invitation_subject.txt", context).strip()
            body = render_to_string("studies/email/invitation.txt", context)
        send_mail(subject, body, None, [invitation.email])
        sent += 1
    return sent
