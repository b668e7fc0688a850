"""How studies take part in the account lifecycle (signals defined in accounts).

accounts sits below studies and cannot import it, so it asks through signals
and these receivers answer. Connected in StudiesConfig.ready().
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from studies import events
from studies.models import Membership, MembershipStatus, Role, StudyStatus

# Studies that would be left without anyone to run them.
RUNNING = (StudyStatus.DRAFT, StudyStatus.OPEN)


def last_coordinator_of_open_studies(sender, *, user, **kwargs) -> list[str]:
    """Refuse deleting the only active coordinator of a draft or open study, and say what to do."""
    reasons = []
    mine = Membership.objects.filter(
        user=user, role=Role.COORDINATOR, status=MembershipStatus.ACTIVE, study__status__in=RUNNING
    ).select_related("study")
    for membership in mine:
        others = (
            Membership.objects.filter(
                study=membership.study, role=Role.COORDINATOR, status=MembershipStatus.ACTIVE
            )
            .exclude(user=user)
            .exists()
        )
        if not others:
            reasons.append(
                _(
                    "You are the last coordinator of “%(study)s”, which is still running. "
                    "Make another member coordinator, or close the study, then delete your account."
                )
                % {"study": membership.study.title}
            )
    return reasons


def withdraw_consent_of_deleted_account(sender, *, user, **kwargs) -> None:
    """A deleted account is never named in an export again."""
    Membership.objects.filter(user=user).update(consent_named=False)


def push_unread_count(sender, *, user_id: int, unread: int, title: str = "", **kwargs) -> None:
    """Update the unread count on the person's open pages."""
    events.send_to_user(
        user_id=user_id, kind="notifications", data={"unread": unread, "title": title}
    )


def close_sockets_of_inactive_account(sender, *, instance, **kwargs) -> None:
    """A deactivated (or deleted) account's open study pages stop receiving at once."""
    if not instance.is_active and instance.pk is not None:
        events.access_changed(user_id=instance.pk)


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save

    from accounts.signals import account_deleted, account_deletion_check, unread_count_changed

    post_save.connect(
        close_sockets_of_inactive_account,
        sender=get_user_model(),
        dispatch_uid="studies.inactive_account_sockets",
    )

    account_deletion_check.connect(
        last_coordinator_of_open_studies, dispatch_uid="studies.last_coordinator"
    )
    account_deleted.connect(withdraw_consent_of_deleted_account, dispatch_uid="studies.consent")
    unread_count_changed.connect(push_unread_count, dispatch_uid="studies.unread_count")
