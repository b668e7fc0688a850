"""Moderation reads: the queue, an item's record, figures, the log and the members list."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.http import Http404

from accounts.models import User
from accounts.selectors import iso_time
from contributions.models import Comment, Contribution, ItemState
from moderation.models import FacilitatorNote, Flag, FlagReason, FlagStatus, ModerationLog
from studies.access import FACILITATING, Action, MFARequired, StudyAccess, study_for_user
from studies.models import Membership, MembershipStatus, Study

Item = Contribution | Comment


def item_for_study(*, study: Study, item_type: str, item_id: int) -> Item:
    """The item of this study, or 404: items of other studies do not exist here."""
    if item_type == "contribution":
        qs = Contribution.objects.select_related("author", "study", "section")
    elif item_type == "comment":
        qs = Comment.objects.select_related("author", "study", "contribution")
    else:
        raise Http404("Unknown item type")
    item = qs.filter(study=study, pk=item_id).first()
    if item is None:
        raise Http404("No such item in this study")
    return item


def moderated_studies(*, user: User) -> list[StudyAccess]:
    """Every study this person moderates, each fetched through the permission helper.

    Raises MFARequired when the person moderates some study but has not used a
    second factor in this session.
    """
    if not user.is_authenticated:
        return []
    slugs = (
        Membership.objects.filter(user=user, role__in=FACILITATING)
        .exclude(status=MembershipStatus.LEFT)
        .order_by("study__title")
        .values_list("study__slug", flat=True)
    )
    accesses = []
    for slug in slugs:
        try:
            accesses.append(study_for_user(user, slug, Action.MODERATE))
        except MFARequired:
            raise
        except (PermissionDenied, Http404):
            continue
    return accesses


@dataclass
class FlaggedItem:
    item: Item
    item_type: str
    study: Study
    people: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    first_flagged_at: datetime | None = None


@dataclass
class Queue:
    flagged: list[FlaggedItem]
    pending: list[tuple[str, Item]]

    @property
    def is_empty(self) -> bool:
        return not self.flagged and not self.pending


QUEUE_LIMIT = 200


def moderation_queue(
    *,
    studies: Iterable[Study],
    show: str = "",
    reason: str = "",
    item_type: str = "",
) -> Queue:
    """Open flags grouped by item (most people first) and items waiting for approval.

    ``show`` is "", "flags" or "pending"; ``reason`` keeps items flagged for
    that reason; ``item_type`` keeps contributions or comments.
    """
    study_ids = [s.pk for s in studies]
    flagged: list[FlaggedItem] = []
    pending: list[tuple[str, Item]] = []
    if show in ("", "flags"):
        flags = (
            Flag.objects.open()
            .filter(study_id__in=study_ids)
            .select_related(
                "study", "contribution__author", "comment__author", "comment__contribution"
            )
            .order_by("created_at", "id")
        )
        if item_type == "contribution":
            flags = flags.filter(contribution__isnull=False)
        elif item_type == "comment":
            flags = flags.filter(comment__isnull=False)
        groups: dict[tuple[str, int], FlaggedItem] = {}
        reasons: dict[tuple[str, int], Counter] = {}
        people: dict[tuple[str, int], set[int]] = {}
        for flag in flags[:5000]:
            key = (flag.item_type, flag.item.pk)
            group = groups.get(key)
            if group is None:
                group = groups[key] = FlaggedItem(
                    item=flag.item,
                    item_type=flag.item_type,
                    study=flag.study,
                    first_flagged_at=flag.created_at,
                )
                reasons[key], people[key] = Counter(), set()
            reasons[key][flag.reason] += 1
            people[key].add(flag.user_id)
            if flag.note:
                group.notes.append(flag.note)
        labels = dict(FlagReason.choices)
        for key, group in groups.items():
            group.people = len(people[key])
            group.reasons = [(str(labels[r]), n) for r, n in reasons[key].most_common()]
            if not reason or reason in reasons[key]:
                flagged.append(group)
        flagged.sort(key=lambda g: (-g.people, g.first_flagged_at))
        flagged = flagged[:QUEUE_LIMIT]
    if show in ("", "pending") and not reason:
        # Each kind of item with what its queue row shows besides author and study.
        for kind, model, shown in (
            ("contribution", Contribution, "section"),
            ("comment", Comment, "contribution"),
        ):
            if item_type in ("", kind):
                items = (
                    model.objects.filter(study_id__in=study_ids, state=ItemState.PENDING)
                    .select_related("author", "study", shown)
                    .order_by("created_at", "id")[:QUEUE_LIMIT]
                )
                pending.extend((kind, item) for item in items)
        pending.sort(key=lambda pair: pair[1].created_at)
    return Queue(flagged=flagged, pending=pending)


@dataclass
class ItemRecord:
    flags: list[Flag]
    notes: list[FacilitatorNote]
    log: list[ModerationLog]
    open_flag_people: int


def item_record(*, item: Item) -> ItemRecord:
    """What facilitators see on an item's moderation page."""
    field_name = "contribution" if isinstance(item, Contribution) else "comment"
    flags = list(
        Flag.objects.filter(**{field_name: item})
        .select_related("handled_by")
        .order_by("created_at")
    )
    notes = list(FacilitatorNote.objects.filter(**{field_name: item}).select_related("author"))
    log = list(
        ModerationLog.objects.filter(
            study_id=item.study_id, target_type=field_name, target_id=item.pk
        ).select_related("actor")
    )
    people = len({f.user_id for f in flags if f.status == FlagStatus.OPEN})
    return ItemRecord(flags=flags, notes=notes, log=log, open_flag_people=people)


@dataclass
class Figures:
    open_flags: int
    flagged_items: int
    pending_items: int
    median_handle_seconds: float | None
    handled_flags: int
    actions: list[tuple[str, int]]

    @property
    def median_handle_display(self) -> str:
        seconds = self.median_handle_seconds
        if seconds is None:
            return "–"
        minutes = round(seconds / 60)
        if minutes < 60:
            return f"{minutes} min"
        hours, minutes = divmod(minutes, 60)
        if hours < 48:
            return f"{hours} h {minutes} min"
        return f"{hours // 24} d {hours % 24} h"


def moderation_figures(*, studies: Iterable[Study]) -> Figures:
    """Open flags, the median time from flag to decision, and actions by type."""
    from moderation.models import LogAction

    study_ids = [s.pk for s in studies]
    flags = Flag.objects.filter(study_id__in=study_ids)
    open_flags = flags.filter(status=FlagStatus.OPEN)
    flagged_items = open_flags.values("contribution_id", "comment_id").distinct().count()
    pending = (
        Contribution.objects.filter(study_id__in=study_ids, state=ItemState.PENDING).count()
        + Comment.objects.filter(study_id__in=study_ids, state=ItemState.PENDING).count()
    )
    durations = [
        d.total_seconds()
        for d in flags.filter(handled_at__isnull=False)
        .annotate(took=F("handled_at") - F("created_at"))
        .values_list("took", flat=True)
    ]
    labels = {a.value: str(a.label) for a in LogAction}
    actions = [
        (labels.get(row["action"], row["action"]), row["n"])
        for row in ModerationLog.objects.filter(study_id__in=study_ids)
        .values("action")
        .annotate(n=Count("id"))
        .order_by("-n", "action")
    ]
    return Figures(
        open_flags=open_flags.count(),
        flagged_items=flagged_items,
        pending_items=pending,
        median_handle_seconds=statistics.median(durations) if durations else None,
        handled_flags=len(durations),
        actions=actions,
    )


def study_log(*, study: Study, action: str = ""):
    qs = ModerationLog.objects.filter(study=study).select_related("actor")
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("-created_at", "-id")


def members_for_moderation(*, study: Study, query: str = "", blocked_only: bool = False):
    qs = (
        Membership.objects.filter(study=study)
        .exclude(status=MembershipStatus.LEFT)
        .select_related("user", "organisation")
        .order_by("user__display_name", "user__id")
    )
    if blocked_only:
        qs = qs.filter(status=MembershipStatus.BLOCKED)
    if query:
        qs = qs.filter(Q(user__display_name__icontains=query) | Q(user__email__iexact=query))
    return qs


def member_for_study(*, study: Study, membership_id: int) -> Membership:
    membership = (
        Membership.objects.filter(study=study, pk=membership_id).select_related("user").first()
    )
    if membership is None:
        raise Http404("No such member in this study")
    return membership


# --- Personal data ----------------------------------------------------------


def personal_data_flags(user: User) -> list[dict]:
    """The flags the person raised (never those raised about them), for their archive."""
    return [
        {
            "id": f.pk,
            "contribution": f.contribution_id,
            "comment": f.comment_id,
            "reason": str(f.get_reason_display()),
            "note": f.note,
            "created_at": iso_time(f.created_at),
        }
        for f in Flag.objects.filter(user=user).order_by("pk")
    ]
