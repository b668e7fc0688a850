"""Moderation writes: flags, decisions on items, blocks, notes, answers and the log.

Every function here runs in one transaction, locks the item (or membership)
it changes, re-checks that the change is still allowed, and refuses with a
ModerationError (nothing changed) otherwise. Item state changes go through
``contributions.services.item_change_state``, which bumps the revision and
publishes the live event; notices, e-mails and queue pings are sent only
after commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.administrators import is_administrator
from accounts.formatting import short_moment
from accounts.models import User
from accounts.services import notification_create
from contributions.models import Comment, Contribution, ItemState, ModerationReason
from moderation.models import (
    FacilitatorNote,
    Flag,
    FlagReason,
    FlagStatus,
    LogAction,
    ModerationLog,
)
from studies import events
from studies.access import Action, can, membership_of
from studies.models import Membership, MembershipStatus, Role, Study
from studies.services import membership_changed

Item = Contribution | Comment

# Reasons a facilitator may give when hiding or rejecting an item.
HIDE_REASONS = [
    ModerationReason.OFF_TOPIC,
    ModerationReason.PERSONAL_DATA,
    ModerationReason.ABUSE,
    ModerationReason.SPAM,
    ModerationReason.OTHER,
]
# Removal is for spam and abuse only: such items leave the statistics.
REMOVE_REASONS = [ModerationReason.SPAM, ModerationReason.ABUSE]

NOTICE_KIND = "moderation"
# Authors whose items flags never hide on their own.
STAFF_ROLES = (Role.FACILITATOR, Role.COORDINATOR)


class ModerationError(ValidationError):
    """A moderation request that cannot be carried out; nothing was changed."""


def _required(text: str, refusal: str, code: str) -> str:
    """``text`` without the space around it; refused with ``refusal`` when nothing is left."""
    text = text.strip()
    if not text:
        raise ModerationError(refusal, code=code)
    return text


# --- the log ----------------------------------------------------------------


def log_action(
    *,
    study: Study,
    actor: User | None,
    action: str,
    target_type: str = "",
    target_id: int | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> ModerationLog:
    """Append one entry to the study's moderation log (never changed afterwards)."""
    return ModerationLog.objects.create(
        study=study,
        actor=actor,
        action=str(action),
        target_type=target_type,
        target_id=target_id,
        reason=str(reason)[:1000],
        details=details or {},
    )


# --- helpers ----------------------------------------------------------------


def item_type_of(item: Item) -> str:
    return "contribution" if isinstance(item, Contribution) else "comment"


def _lock(item: Item) -> Item:
    """The item re-read under a row lock, so two facilitators cannot both act on it."""
    return type(item).objects.select_for_update().get(pk=item.pk)


def _require_same_study(study: Study, item: Item) -> None:
    if item.study_id != study.pk:
        raise ModerationError(_("This item belongs to another study."), code="other_study")


def _require_moderator(study: Study, actor: User) -> None:
    if not can(study, membership_of(actor, study), Action.MODERATE, user=actor):
        raise ModerationError(
            _("Only the study's facilitators can moderate it."), code="not_moderator"
        )


def _already_handled() -> ModerationError:
    return ModerationError(
        _("This item has already been handled; reload the page to see its current state."),
        code="already_handled",
    )


def _change_state(*, item: Item, state: str, reason: str = "", note: str = "") -> None:
    from contributions.services import item_change_state

    item_change_state(item=item, state=ItemState(state), reason=reason, note=note)


def _close_flags(*, item: Item, actor: User | None, status: str) -> int:
    return (
        Flag.objects.for_item(item)
        .open()
        .update(status=status, handled_at=timezone.now(), handled_by=actor)
    )


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("This is not allowed.")


def _item_label(item: Item) -> str:
    if isinstance(item, Contribution):
        return _("your contribution “%(title)s”") % {"title": item.title}
    return _("your comment on “%(title)s”") % {"title": item.contribution.title}


def _item_url(item: Item) -> str:
    url = reverse("study_detail", args=[item.study.slug])
    return f"{url}#{item.dom_id}"


def _notify_author(*, item: Item, decision: str, reason: str = "", note: str = "") -> None:
    """Tell the author what happened to their item and why, here and by e-mail."""
    author = item.author
    if author.deleted_at:
        return
    with translation.override(getattr(author, "language", None) or settings.LANGUAGE_CODE):
        label = _item_label(item)
        titles = {
            "hidden": _("A facilitator hid %(item)s"),
            "auto_hidden": _("%(item)s is hidden while facilitators review flags"),
            "rejected": _("A facilitator did not approve %(item)s"),
            "removed": _("A facilitator removed %(item)s"),
            "restored": _("A facilitator restored %(item)s"),
            "approved": _("A facilitator approved %(item)s"),
        }
        title = titles[decision] % {"item": label}
        title = title[:1].upper() + title[1:]
        lines = [_("Study: %(study)s") % {"study": item.study.title}]
        if reason:
            reason_label = dict(ModerationReason.choices).get(reason, reason)
            lines.append(_("Reason: %(reason)s") % {"reason": reason_label})
        if note:
            lines.append(_("Note from the facilitator: %(note)s") % {"note": note})
        if decision in ("hidden", "rejected", "removed", "auto_hidden"):
            lines.append(
                _(
                    "If you think this is a mistake, contact the study's facilitators "
                    "and tell them why."
                )
            )
        body = "\n".join(lines)
    # accounts e-mails it after commit (through Celery), as the person chose.
    notification_create(
        user=author, kind=NOTICE_KIND, title=title[:300], body=body, url=_item_url(item)
    )


def _ping_queue(study: Study, kind: str, **data: Any) -> None:
    events.send_to_moderators(study_id=study.pk, kind=kind, data=data)


# --- flags ------------------------------------------------------------------


def _protected_from_auto_hide(study: Study, item: Item) -> bool:
    """Official answers and items by the study's staff are never hidden by flags alone.

    Flags on them still reach the moderation queue, where a person decides.
    """
    if getattr(item, "official", False):
        return True
    # Platform administrators count as staff too. Django's is_staff does not: it
    # opens the developers' admin and is no role on the platform.
    if is_administrator(item.author):
        return True
    return (
        Membership.objects.filter(study=study, user_id=item.author_id, role__in=STAFF_ROLES)
        .exclude(status=MembershipStatus.LEFT)
        .exists()
    )


def _counted_flaggers(study: Study, item: Item) -> int:
    """People whose open flags count toward the automatic hide.

    Only members who joined the study before the item was posted, with
    accounts at least FLAG_MIN_ACCOUNT_AGE_HOURS old: accounts made (or
    members who joined) to hide something cannot hide it on their own.
    """
    old_enough = timezone.now() - dt.timedelta(hours=settings.FLAG_MIN_ACCOUNT_AGE_HOURS)
    return (
        Flag.objects.for_item(item)
        .open()
        .filter(
            user__date_joined__lte=old_enough,
            user__memberships__study=study,
            user__memberships__joined_at__lt=item.created_at,
        )
        .values("user")
        .distinct()
        .count()
    )


@transaction.atomic
def flag_create(
    *, study: Study, user: User, item: Item, reason: str, note: str = ""
) -> tuple[Flag, bool]:
    """Flag an item; returns (flag, created). A second flag from the same person changes nothing.

    When the number of distinct people with open flags on a published item
    reaches the study's threshold, the item is hidden pending review, if
    enough of them count (``_counted_flaggers``) and the item is not an
    official answer or a staff member's (``_protected_from_auto_hide``).
    Every flag reaches the moderation queue either way.
    """
    if reason not in FlagReason.values:
        raise ModerationError(_("Choose one of the listed reasons."), code="unknown_reason")
    _require_same_study(study, item)
    if not can(study, membership_of(user, study), Action.CONTRIBUTE, user=user):
        raise ModerationError(_("You cannot flag items in this study."), code="cannot_flag")
    item = _lock(item)
    if item.author_id == user.pk:
        raise ModerationError(_("You cannot flag your own item."), code="own_item")
    existing = Flag.objects.for_item(item).filter(user=user).first()
    if existing is not None:
        return existing, False
    if item.state != ItemState.PUBLISHED:
        raise ModerationError(_("This item can no longer be flagged."), code="not_flaggable")
    kind_field = "contribution" if isinstance(item, Contribution) else "comment"
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                study=study, user=user, reason=reason, note=note.strip()[:500], **{kind_field: item}
            )
    except IntegrityError:
        # A double submit raced us: the person's flag exists, which is all we wanted.
        return Flag.objects.for_item(item).get(user=user), False
    flaggers = Flag.objects.for_item(item).open().values("user").distinct().count()
    hidden_now = False
    if (
        item.state == ItemState.PUBLISHED
        and flaggers >= max(study.flag_threshold, 1)
        and not _protected_from_auto_hide(study, item)
    ):
        counted = _counted_flaggers(study, item)
        if counted >= max(study.flag_threshold, 1):
            _change_state(item=item, state=ItemState.HIDDEN, reason=ModerationReason.FLAGGED)
            log_action(
                study=study,
                actor=None,
                action=LogAction.AUTO_HIDE,
                target_type=item_type_of(item),
                target_id=item.pk,
                reason=ModerationReason.FLAGGED,
                details={
                    "flaggers": flaggers,
                    "counted": counted,
                    "threshold": study.flag_threshold,
                },
            )
            _notify_author(item=item, decision="auto_hidden")
            hidden_now = True
    _ping_queue(
        study,
        "flag",
        item_type=item_type_of(item),
        item_id=item.pk,
        flaggers=flaggers,
        hidden=hidden_now,
    )
    return flag, True


# --- decisions on items -----------------------------------------------------


def _log_item(study: Study, actor: User, action: str, item: Item, reason: str = "", **details):
    return log_action(
        study=study,
        actor=actor,
        action=action,
        target_type=item_type_of(item),
        target_id=item.pk,
        reason=reason,
        details=details,
    )


def _begin(study: Study, actor: User, item: Item) -> Item:
    _require_same_study(study, item)
    _require_moderator(study, actor)
    return _lock(item)


def _decide(
    study: Study, actor: User, item: Item, state, action, decision: str, reason: str, note: str
) -> Item:
    """Take the item out of view with a reason: its state, the flags upheld (a hide or a
    removal; a rejected item has none), the log, the author told, the queue pinged."""
    note = note.strip()[:500]
    _change_state(item=item, state=state, reason=reason, note=note)
    details = {"note": note}
    if state != ItemState.REJECTED:
        details["flags"] = _close_flags(item=item, actor=actor, status=FlagStatus.UPHELD)
    _log_item(study, actor, action, item, reason, **details)
    _notify_author(item=item, decision=decision, reason=reason, note=note)
    _ping_queue(study, "handled", item_type=item_type_of(item), item_id=item.pk)
    return item


@transaction.atomic
def item_hide(*, study: Study, actor: User, item: Item, reason: str, note: str = "") -> Item:
    """Hide a published item (or confirm an automatic hide) with a reason; flags are upheld."""
    if reason not in HIDE_REASONS:
        raise ModerationError(_("Choose a reason for hiding the item."), code="reason_required")
    item = _begin(study, actor, item)
    pending_review = (
        item.state == ItemState.HIDDEN and item.moderation_reason == ModerationReason.FLAGGED
    )
    if item.state != ItemState.PUBLISHED and not pending_review:
        raise _already_handled()
    return _decide(study, actor, item, ItemState.HIDDEN, LogAction.HIDE, "hidden", reason, note)


@transaction.atomic
def item_restore(*, study: Study, actor: User, item: Item, reason: str) -> Item:
    """Publish a hidden or removed item again, saying why; its open flags are dismissed."""
    reason = _required(reason, _("Say why the item is restored."), "reason_required")
    item = _begin(study, actor, item)
    if item.state not in (ItemState.HIDDEN, ItemState.REMOVED):
        raise _already_handled()
    _change_state(item=item, state=ItemState.PUBLISHED)
    flags = _close_flags(item=item, actor=actor, status=FlagStatus.DISMISSED)
    _log_item(study, actor, LogAction.RESTORE, item, reason[:1000], flags=flags)
    _notify_author(item=item, decision="restored", note=reason[:500])
    _ping_queue(study, "handled", item_type=item_type_of(item), item_id=item.pk)
    return item


@transaction.atomic
def item_approve(*, study: Study, actor: User, item: Item) -> Item:
    """Publish an item waiting in pre-moderation."""
    item = _begin(study, actor, item)
    if item.state != ItemState.PENDING:
        raise _already_handled()
    _change_state(item=item, state=ItemState.PUBLISHED)
    _log_item(study, actor, LogAction.APPROVE, item)
    _notify_author(item=item, decision="approved")
    _ping_queue(study, "handled", item_type=item_type_of(item), item_id=item.pk)
    return item


@transaction.atomic
def item_reject(*, study: Study, actor: User, item: Item, reason: str, note: str = "") -> Item:
    """Refuse an item waiting in pre-moderation, with a reason the author is told."""
    if reason not in HIDE_REASONS:
        raise ModerationError(
            _("Choose a reason for not approving the item."), code="reason_required"
        )
    item = _begin(study, actor, item)
    if item.state != ItemState.PENDING:
        raise _already_handled()
    return _decide(
        study, actor, item, ItemState.REJECTED, LogAction.REJECT, "rejected", reason, note
    )


@transaction.atomic
def item_remove(*, study: Study, actor: User, item: Item, reason: str, note: str = "") -> Item:
    """Remove an item as spam or abuse: it leaves the page and the statistics."""
    if reason not in REMOVE_REASONS:
        raise ModerationError(
            _("Items are removed only as spam or abuse; hide it with a reason instead."),
            code="reason_required",
        )
    item = _begin(study, actor, item)
    if item.state == ItemState.REMOVED or item.state in (ItemState.REJECTED, ItemState.WITHDRAWN):
        raise _already_handled()
    return _decide(study, actor, item, ItemState.REMOVED, LogAction.REMOVE, "removed", reason, note)


@transaction.atomic
def flags_dismiss(*, study: Study, actor: User, item: Item, note: str = "") -> int:
    """Dismiss an item's open flags; an item hidden only by flags is published again."""
    item = _begin(study, actor, item)
    note = note.strip()[:500]
    dismissed = _close_flags(item=item, actor=actor, status=FlagStatus.DISMISSED)
    if not dismissed:
        raise _already_handled()
    restored = item.state == ItemState.HIDDEN and item.moderation_reason == ModerationReason.FLAGGED
    if restored:
        _change_state(item=item, state=ItemState.PUBLISHED)
    _log_item(study, actor, LogAction.DISMISS_FLAGS, item, note, flags=dismissed, restored=restored)
    if restored:
        _notify_author(item=item, decision="restored", note=note)
    _ping_queue(study, "handled", item_type=item_type_of(item), item_id=item.pk)
    return dismissed


@transaction.atomic
def note_add(*, study: Study, actor: User, item: Item, body: str) -> FacilitatorNote:
    """A private note on an item for the study's facilitators."""
    body = _required(body, _("Write the note first."), "empty")
    item = _begin(study, actor, item)
    kind_field = item_type_of(item)
    note = FacilitatorNote.objects.create(
        study=study, author=actor, body=body[:4000], **{kind_field: item}
    )
    _log_item(study, actor, LogAction.NOTE, item, note_id=note.pk)
    return note


@transaction.atomic
def official_answer_create(
    *, study: Study, actor: User, contribution: Contribution, body: str
) -> Comment:
    """An official answer from the facilitators, shown apart from the discussion."""
    from contributions.services import comment_create

    body = _required(body, _("Write the answer first."), "empty")
    if not isinstance(contribution, Contribution):
        raise ModerationError(
            _("Official answers are given on contributions."), code="not_contribution"
        )
    contribution = _begin(study, actor, contribution)
    if contribution.state != ItemState.PUBLISHED:
        raise ModerationError(
            _("Official answers are given on published contributions."), code="not_published"
        )
    try:
        answer = comment_create(contribution=contribution, author=actor, body=body, official=True)
    except (ValidationError, PermissionDenied) as exc:
        raise ModerationError(_error_text(exc), code="refused") from exc
    _log_item(study, actor, LogAction.OFFICIAL_ANSWER, contribution, answer_id=answer.pk)
    return answer


# --- members ----------------------------------------------------------------


def _lock_membership(study: Study, membership: Membership) -> Membership:
    if membership.study_id != study.pk:
        raise ModerationError(_("This person is a member of another study."), code="other_study")
    return Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)


def _log_member(
    study: Study, actor: User, action: str, membership: Membership, reason: str, **details
):
    return log_action(
        study=study,
        actor=actor,
        action=action,
        target_type="membership",
        target_id=membership.pk,
        reason=reason,
        details={"user_id": membership.user_id, **details},
    )


@transaction.atomic
def member_block(
    *,
    study: Study,
    actor: User,
    membership: Membership,
    reason: str,
    until: dt.datetime | None = None,
) -> Membership:
    """Block a member from posting, commenting, reacting and flagging; they can still read."""
    reason = _required(reason, _("Say why the member is blocked."), "reason_required")
    if until is not None and until <= timezone.now():
        raise ModerationError(_("The end of the block must be in the future."), code="past_until")
    _require_moderator(study, actor)
    membership = _lock_membership(study, membership)
    if membership.user_id == actor.pk:
        raise ModerationError(_("You cannot block yourself."), code="self")
    if membership.role == Role.COORDINATOR:
        raise ModerationError(_("Coordinators cannot be blocked."), code="coordinator")
    actor_role = membership_of(actor, study).role
    if membership.role == Role.FACILITATOR and actor_role != Role.COORDINATOR:
        raise ModerationError(_("Only a coordinator can block a facilitator."), code="facilitator")
    if membership.status == MembershipStatus.LEFT:
        raise ModerationError(_("This person has left the study."), code="left")
    if membership.is_blocked:
        raise ModerationError(_("This member is already blocked."), code="already_handled")
    membership.status = MembershipStatus.BLOCKED
    membership.blocked_reason = reason[:500]
    membership.blocked_until = until
    membership.save(update_fields=["status", "blocked_reason", "blocked_until", "updated_at"])
    events.access_changed(study_id=study.pk, user_id=membership.user_id)
    _log_member(
        study,
        actor,
        LogAction.BLOCK,
        membership,
        reason,
        until=until.isoformat() if until else None,
    )
    _notify_member(membership=membership, blocked=True)
    membership_changed(study_id=study.pk)
    return membership


@transaction.atomic
def member_unblock(
    *, study: Study, actor: User, membership: Membership, reason: str = ""
) -> Membership:
    """Lift a block; the member can take part again at once."""
    _require_moderator(study, actor)
    membership = _lock_membership(study, membership)
    if membership.status != MembershipStatus.BLOCKED:
        raise ModerationError(_("This member is not blocked."), code="already_handled")
    membership.status = MembershipStatus.ACTIVE
    membership.blocked_reason = ""
    membership.blocked_until = None
    membership.save(update_fields=["status", "blocked_reason", "blocked_until", "updated_at"])
    _log_member(study, actor, LogAction.UNBLOCK, membership, reason.strip())
    _notify_member(membership=membership, blocked=False)
    membership_changed(study_id=study.pk)
    return membership


def _notify_member(*, membership: Membership, blocked: bool) -> None:
    user = membership.user
    if user.deleted_at:
        return
    study = membership.study
    with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
        if blocked:
            title = _("You are blocked from taking part in %(study)s") % {"study": study.title}
            lines = [_("Reason: %(reason)s") % {"reason": membership.blocked_reason}]
            if membership.blocked_until:
                until = short_moment(membership.blocked_until)
                lines.append(_("The block ends %(until)s.") % {"until": until})
            lines.append(_("You can still read the study."))
        else:
            title = _("You can take part in %(study)s again") % {"study": study.title}
            lines = [_("A facilitator lifted your block.")]
        body = "\n".join(lines)
    notification_create(
        user=user,
        kind=NOTICE_KIND,
        title=title[:300],
        body=body,
        url=reverse("study_detail", args=[study.slug]),
    )


# Choices shown in forms, kept here so forms and services agree.
HIDE_REASON_CHOICES = [(r.value, r.label) for r in HIDE_REASONS]
REMOVE_REASON_CHOICES = [(r.value, r.label) for r in REMOVE_REASONS]


# --- account lifecycle ------------------------------------------------------


def flag_notes_clear_for_deleted_account(sender, *, user: User, **kwargs) -> None:
    """A deleted account's flags keep counting, but their free-text notes go."""
    Flag.objects.filter(user=user).exclude(note="").update(note="")


# --- e-mail -----------------------------------------------------------------


def _facilitators_of(study: Study) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            study=study,
            role__in=[Role.FACILITATOR, Role.COORDINATOR],
            status=MembershipStatus.ACTIVE,
            user__deleted_at__isnull=True,
            user__email__isnull=False,
        ).select_related("user")
    ]


def moderation_digests_send(*, now: dt.datetime | None = None) -> int:
    """Send each study's facilitators one e-mail about flags and waiting items since the last one.

    The newest ModerationDigest of a study is its cursor; the study row is
    locked while a batch is collected, so two runs never send the same window.
    Returns the number of studies whose facilitators were e-mailed.
    """
    now = now or timezone.now()
    study_ids = (
        set(Flag.objects.open().filter(created_at__lte=now).values_list("study_id", flat=True))
        | set(
            Contribution.objects.filter(state=ItemState.PENDING).values_list("study_id", flat=True)
        )
        | set(Comment.objects.filter(state=ItemState.PENDING).values_list("study_id", flat=True))
    )
    return sum(_digest_for_study(study_id=sid, now=now) for sid in sorted(study_ids))


@transaction.atomic
def _digest_for_study(*, study_id: int, now: dt.datetime) -> int:
    from moderation.models import ModerationDigest

    study = Study.objects.select_for_update().get(pk=study_id)
    since = (
        ModerationDigest.objects.filter(study=study)
        .order_by("-window_end")
        .values_list("window_end", flat=True)
        .first()
    )
    window = {"created_at__lte": now}
    if since is not None:
        if since >= now:
            return 0
        window["created_at__gt"] = since
    flags = Flag.objects.open().filter(study=study, **window).count()
    flagged_items = (
        Flag.objects.open()
        .filter(study=study, **window)
        .values("contribution_id", "comment_id")
        .distinct()
        .count()
    )
    pending = (
        Contribution.objects.filter(study=study, state=ItemState.PENDING, **window).count()
        + Comment.objects.filter(study=study, state=ItemState.PENDING, **window).count()
    )
    if not flags and not pending:
        return 0
    recipients = _facilitators_of(study)
    ModerationDigest.objects.create(
        study=study,
        window_end=now,
        flag_count=flags,
        pending_count=pending,
        recipients=len(recipients),
    )
    messages = [
        _digest_message(
            user=user, study=study, flags=flags, flagged_items=flagged_items, pending=pending
        )
        for user in recipients
    ]
    transaction.on_commit(lambda: _send_messages(messages))
    return 1


def _digest_message(*, user: User, study: Study, flags: int, flagged_items: int, pending: int):
    from django.core.mail import EmailMessage
    from django.utils.translation import ngettext

    with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
        parts = []
        if flags:
            parts.append(
                ngettext(
                    "%(count)d new flag on %(items)d item",
                    "%(count)d new flags on %(items)d item(s)",
                    flags,
                )
                % {"count": flags, "items": flagged_items}
            )
        if pending:
            parts.append(
                ngettext(
                    "%(count)d new item waiting for approval",
                    "%(count)d new items waiting for approval",
                    pending,
                )
                % {"count": pending}
            )
        summary = "; ".join(parts)
        subject = _("[Dugnad] %(study)s: %(summary)s") % {"study": study.title, "summary": summary}
        url = settings.SITE_URL + reverse("moderation:queue", args=[study.slug])
        body = "\n".join(
            [
                _("Since the last summary in %(study)s:") % {"study": study.title},
                summary + ".",
                "",
                _("Open the moderation queue: %(url)s") % {"url": url},
                "",
                _("You receive this because you facilitate the study."),
            ]
        )
    return EmailMessage(subject=subject[:200], body=body, to=[user.email])


def _send_messages(messages: list) -> None:
    from django.core.mail import get_connection

    if messages:
        get_connection().send_messages(messages)
