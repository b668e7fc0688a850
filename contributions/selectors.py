"""Reads on contributions and comments for the study page.

The page reads a fixed number of queries whatever the number of items: one
for a page of contributions (reaction counts annotated), one for their
attachments, one for the document versions that took them up, one for the
place of each of their comments (ids only) and one for the comments the page
shows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Count, FilteredRelation, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from accounts.models import User
from accounts.second_factor import second_factor_for
from accounts.selectors import iso_time
from contributions.models import Attachment, Comment, Contribution, ItemState, Reaction, Revision
from core.prepared import Prepared
from core.queries import first_row
from studies.access import Action, StudyAccess, study_for_user
from studies.models import DocumentVersion, Study

# The study page is a window (docs/live.md, "The window"): PAGE_SIZE contributions,
# each with its COMMENTS_SHOWN latest top-level comments; older comments behind
# "Show all N comments" and every reply behind "N replies: show", both loaded on demand.
PAGE_SIZE = 10
COMMENTS_SHOWN = 2  # the latest top-level comments shown per contribution

# What a passage comment's or amendment's card shows (contributions/_passage_ref.html),
# joined in the same query; empty for other kinds.
PASSAGE_RELATED = ("passage__origin__version", "amendment__credited_in")


@dataclass
class ContributionPage:
    contributions: list[Contribution]
    has_more: bool
    next_before: int | None


def _comments_queryset() -> QuerySet[Comment]:
    return (
        Comment.objects.visible_on_page()
        .select_related("author", "acted_for")
        .annotate(reaction_count=Count("reactions", distinct=True))
        .order_by("created_at", "id")
    )


def _published_ids(comments: list[Comment]) -> tuple[int, ...]:
    return tuple(c.pk for c in comments if c.state == ItemState.PUBLISHED)


def _arrange_comments(contribution: Contribution, comments: list[Comment], *, limit: int | None):
    """Split a contribution's comments into official answers, threads and replies.

    With ``limit`` (the page's window) only the latest ``limit`` top-level
    comments are kept, without their replies: each keeps the ids of its
    published replies (``reply_ids``, for "N replies: show"), and the
    contribution those of all its published top-level comments
    (``comment_ids``, for "Show all N comments" when some are left out).
    Only published items are counted: a marker (hidden, removed, withdrawn)
    is not a comment anyone can read.
    """
    by_parent: dict[int, list[Comment]] = {}
    top: list[Comment] = []
    official: list[Comment] = []
    for comment in comments:
        comment.contribution = contribution
        if comment.parent_id:
            by_parent.setdefault(comment.parent_id, []).append(comment)
        elif comment.official:
            official.append(comment)
        else:
            top.append(comment)
    for comment in top:
        replies = by_parent.get(comment.pk, [])
        comment.reply_ids = _published_ids(replies)
        comment.reply_list = replies if limit is None else []
    contribution.official_list = official
    contribution.comment_ids = ()
    if limit is not None and len(top) > limit:
        contribution.comment_list = top[-limit:] if limit else []
        contribution.comment_ids = _published_ids(top)
    else:
        contribution.comment_list = top


def _window_comments(contributions: list[Contribution], *, limit: int) -> None:
    """Arrange the page's comments as ``_arrange_comments`` with ``limit`` does, loading
    only the comments the window shows: every official answer and the latest
    ``limit`` top-level comments of each contribution, with their authors.

    The rest are counted by id only (``comment_ids``, ``reply_ids``), from one
    query of small rows. Loading every comment with its author to show two
    made each new list as heavy as the busiest contribution, and a list is
    built anew after every event: with 2,600 comments on one contribution a
    list took 6.1 MiB at its peak and 148 ms, now 0.5 MiB and 25 ms
    (docs/benchmarks.md, "Where it went").
    """
    places: dict[int, tuple[list[int], list[tuple[int, str]], dict[int, list[int]]]] = {
        c.pk: ([], [], {}) for c in contributions
    }
    rows = (
        Comment.objects.visible_on_page()
        .filter(contribution_id__in=list(places))
        .order_by("created_at", "id")
        .values_list("pk", "contribution_id", "parent_id", "official", "state")
    )
    for pk, contribution_id, parent_id, official, state in rows:
        official_ids, top, replies = places[contribution_id]
        if parent_id:
            if state == ItemState.PUBLISHED:
                replies.setdefault(parent_id, []).append(pk)
        elif official:
            official_ids.append(pk)
        else:
            top.append((pk, state))
    shown = []
    for official_ids, top, _replies in places.values():
        shown.extend(official_ids)
        shown.extend(pk for pk, _state in (top[-limit:] if limit else ()))
    # A comment changed since the ids were read (hidden as personal data, say)
    # is shown as it is now; one gone from the page in between is left out.
    loaded = {c.pk: c for c in _comments_queryset().filter(pk__in=shown)} if shown else {}
    for contribution in contributions:
        official_ids, top, replies = places[contribution.pk]
        contribution.official_list = [loaded[pk] for pk in official_ids if pk in loaded]
        window = top[-limit:] if limit else []
        contribution.comment_list = [loaded[pk] for pk, _state in window if pk in loaded]
        published = (pk for pk, state in top if state == ItemState.PUBLISHED)
        contribution.comment_ids = tuple(published) if len(top) > limit else ()
        for comment in contribution.official_list + contribution.comment_list:
            comment.contribution = contribution
        for comment in contribution.comment_list:
            comment.reply_ids = tuple(replies.get(comment.pk, ()))
            comment.reply_list = []


def contribution_page(
    *,
    study: Study,
    before: int | None = None,
    section_id: int | None = None,
    kind: str | None = None,
) -> ContributionPage:
    """A page of the study's contributions, newest first, with comments arranged.

    Paged by key (``before`` = the last id shown), so items that arrive live
    never shift a page. ``section_id`` and ``kind`` narrow the list (the
    page's filter); the number of queries stays the same.
    """
    queryset = (
        Contribution.objects.filter(study=study)
        .visible_on_page()
        .select_related("author", "acted_for", "section", *PASSAGE_RELATED)
        .annotate(reaction_count=Count("reactions", distinct=True))
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at", "id")),
            Prefetch(
                "taken_up_in",
                queryset=DocumentVersion.objects.order_by("published_at", "id").only(
                    "id", "number", "study_id", "published_at"
                ),
            ),
        )
        .order_by("-id")
    )
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    if section_id is not None:
        queryset = queryset.filter(section_id=section_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    rows = list(queryset[: PAGE_SIZE + 1])
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    for contribution in rows:
        contribution.study = study
    _window_comments(rows, limit=COMMENTS_SHOWN)
    return ContributionPage(
        contributions=rows, has_more=has_more, next_before=rows[-1].pk if has_more else None
    )


def contribution_comments(*, contribution: Contribution) -> Contribution:
    """All comments of one contribution, arranged, replies inline (for "Show all N comments")."""
    _arrange_comments(
        contribution, list(_comments_queryset().filter(contribution=contribution)), limit=None
    )
    return contribution


def comment_replies(*, comment: Comment) -> list[Comment]:
    """The replies to one top-level comment that have a place on the page (for "N replies")."""
    replies = list(
        _comments_queryset().filter(contribution_id=comment.contribution_id, parent=comment)
    )
    for reply in replies:
        reply.contribution = comment.contribution
    return replies


def contribution_for_user(
    *, access: StudyAccess, pk: int, user=None, content: bool = True
) -> Contribution:
    """A contribution of this study that the person may see; Http404 otherwise.

    With ``content=False`` hidden and withdrawn items are returned too (their
    marker and comments stay on the page).
    """
    return _item_for_user(Contribution, "section", access=access, pk=pk, user=user, content=content)


def contribution_with_access(
    *, user, slug: str, pk: int, comment_key: uuid.UUID | None = None
) -> tuple[StudyAccess, Contribution]:
    """The study ``slug`` with the person's access to it, and its contribution ``pk``
    that they may see, read together in one query.

    Raises Http404 where ``study_for_user`` and then ``contribution_for_user``
    would. The membership comes with its study's row through a join on the
    person, so a member posting reads the study, the membership and the
    contribution at once. ``comment_key``: the idempotency key of a comment the
    person is posting; the same query then finds the comment they already posted
    with it, if any, and the contribution carries the answer as
    ``comment_posted_with`` (person's id, key, comment id or None) for
    ``services.comment_create``, which then reads nothing more.
    """
    if user is None or not user.is_authenticated:
        access = study_for_user(user, slug)
        return access, contribution_for_user(access=access, pk=pk, user=user)
    if comment_key is None:
        contribution = _CONTRIBUTION.get(slug=slug, pk=pk, user_id=user.pk)
    else:
        contribution = _CONTRIBUTION_POSTING.get(
            slug=slug, pk=pk, user_id=user.pk, comment_key=comment_key
        )
    if contribution is None:
        # No such contribution in a study by that name: a 404 either way.
        raise Http404("No such contribution")
    if comment_key is not None:
        contribution.comment_posted_with = (user.pk, comment_key, contribution.posted_comment_id)
    membership = getattr(contribution, "person_membership", None)  # unset: no such row
    if membership is not None:
        membership.study = contribution.study
        membership.user = user
    access = StudyAccess(study=contribution.study, membership=membership)
    if not access.can(Action.VIEW, user):
        raise Http404("No such study")
    if not _may_fetch(access, contribution, user, True):
        raise Http404("No such contribution")
    return access, contribution


def _contribution_with_membership(slug: str, pk: int, user_id: int, comment_key=None):
    queryset = Contribution.objects.filter(study__slug=slug, pk=pk).annotate(
        person_membership=FilteredRelation(
            "study__memberships", condition=Q(study__memberships__user_id=user_id)
        )
    )
    if comment_key is not None:
        queryset = queryset.annotate(
            posted_comment_id=Subquery(
                Comment.objects.filter(author_id=user_id, idempotency_key=comment_key).values("pk")[
                    :1
                ]
            )
        )
    # Only the rows a comment's form and post use: the contribution's own author,
    # organisation and section are shown by neither (each join's columns cost
    # the request CPU to load; docs/benchmarks.md, "Posting").
    return queryset.select_related("study", "person_membership", "person_membership__organisation")


# Compiled once (core.prepared): every comment posted and every comment form runs one.
_CONTRIBUTION = Prepared(_contribution_with_membership, slug=str, pk=int, user_id=int)
_CONTRIBUTION_POSTING = Prepared(
    _contribution_with_membership, slug=str, pk=int, user_id=int, comment_key=uuid.UUID
)


def comment_for_user(*, access: StudyAccess, pk: int, user=None, content: bool = True) -> Comment:
    """A comment of this study that the person may see; Http404 otherwise."""
    comment = _item_for_user(
        Comment, "contribution", access=access, pk=pk, user=user, content=content
    )
    comment.contribution.study = access.study
    return comment


def _item_for_user(model, shown: str, *, access: StudyAccess, pk: int, user, content: bool):
    """The study's contribution or comment ``pk``, read with its author, the
    organisation it was posted for and ``shown``; Http404 unless the person may see it."""
    item = first_row(
        model.objects.filter(study=access.study, pk=pk).select_related("author", "acted_for", shown)
    )
    if item is None or not _may_fetch(access, item, user, content):
        raise Http404(f"No such {model._meta.model_name}")
    item.study = access.study
    return item


def _may_fetch(access: StudyAccess, item, user, content: bool) -> bool:
    # Without ``content`` the caller only needs the item's place on the page
    # (its marker and its replies), which every viewer of the study has.
    if not content and item.state not in (ItemState.PENDING, ItemState.REJECTED):
        return True
    return item_visible_to(access=access, item=item, user=user)


def item_visible_to(*, access: StudyAccess, item: Contribution | Comment, user=None) -> bool:
    """Whether the item's content may be shown to this person.

    Everyone who can view the study sees published items; authors see their
    own pending items; facilitators and coordinators see every item.
    """
    if item.state == ItemState.PUBLISHED:
        return True
    if user is not None and user.is_authenticated and item.author_id == user.pk:
        return item.state != ItemState.REMOVED
    if access.role is None or not access.can(Action.MODERATE, user):
        return False
    return second_factor_for(user)


def reacted_keys(*, user, study: Study) -> list[str]:
    """DOM keys of the items this person reacted to in the study (one query)."""
    if user is None or not user.is_authenticated:
        return []
    rows = (
        Reaction.objects.filter(user=user)
        .filter(Q(contribution__study=study) | Q(comment__study=study))
        .values_list("contribution_id", "comment_id")
    )
    keys = []
    for contribution_id, comment_id in rows:
        keys.append(
            f"contribution-{contribution_id}" if contribution_id else f"comment-{comment_id}"
        )
    return keys


def item_revisions(*, item: Contribution | Comment) -> list[Revision]:
    """Earlier texts of an edited item, newest first."""
    return list(item.revisions.all())


# --- Personal data ----------------------------------------------------------


def _personal_data_item(item: Contribution | Comment) -> dict:
    """What the archive shows of any item the person wrote."""
    return {
        "id": item.pk,
        "study": item.study.slug,
        "body": item.body,
        "state": item.get_state_display(),
        "acted_for": item.acted_for.name if item.acted_for_id else None,
        "created_at": iso_time(item.created_at),
        "edited_at": iso_time(item.edited_at),
    }


def _written_by(model, user: User):
    return (
        model.objects.filter(author=user)
        .select_related("study", "acted_for")
        .prefetch_related("revisions")
        .order_by("created_at", "id")
    )


def personal_data_contributions(user: User) -> list[dict]:
    """The person's contributions with their earlier versions, for their archive."""
    return [
        {
            **_personal_data_item(c),
            "title": c.title,
            "versions": [
                {"title": r.title, "body": r.body, "created_at": iso_time(r.created_at)}
                for r in c.revisions.all()
            ],
        }
        for c in _written_by(Contribution, user)
    ]


def personal_data_comments(user: User) -> list[dict]:
    """The person's comments with their earlier versions, for their archive."""
    return [
        {
            **_personal_data_item(c),
            "on_contribution": c.contribution_id,
            "in_reply_to": c.parent_id,
            "versions": [
                {"body": r.body, "created_at": iso_time(r.created_at)} for r in c.revisions.all()
            ],
        }
        for c in _written_by(Comment, user)
    ]


def personal_data_reactions(user: User) -> list[dict]:
    """The person's reactions, for their archive."""
    return [
        {
            "contribution": r.contribution_id,
            "comment": r.comment_id,
            "created_at": iso_time(r.created_at),
        }
        for r in Reaction.objects.filter(user=user).order_by("created_at", "id")
    ]


# --- Document versions (studies.extensions.TakenUp) -------------------------


def taken_up_choices(study: Study) -> list[tuple[int, str]]:
    """Published contributions of the study, for choosing what a version took up."""
    return list(
        Contribution.objects.filter(study=study, state=ItemState.PUBLISHED)
        .order_by("-created_at")
        .values_list("pk", "title")[:500]
    )


def taken_up_in_version(version: DocumentVersion):
    """The published contributions a version took up, newest first."""
    return version.taken_up.filter(state=ItemState.PUBLISHED).order_by("-created_at")
