"""Writes on contributions, comments, reactions and attachments.

Every write runs in one transaction and publishes the item's new look through
``contributions.live.publish_item`` inside it; the broadcast happens only
after commit. Services re-check what they can (membership, study open,
section, parent state) so that every caller gets the same rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F, IntegerField, Subquery, Value
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.selectors import claim_state
from contributions import listing, live
from contributions.models import (
    DOCUMENT_KINDS,
    Amendment,
    AmendmentStatus,
    Attachment,
    Comment,
    Contribution,
    ContributionKind,
    ItemState,
    ModerationReason,
    Reaction,
    Revision,
    attachment_filename,
    attachment_type_of,
)
from contributions.notifications import comment_posted_after_commit, reply_notify_after_commit
from core.cache import count_up
from core.queries import first_row
from studies import events
from studies.access import FACILITATING, Action, can, membership_of
from studies.markdown import render_markdown
from studies.models import Membership, ModerationMode, Section, Study

TITLE_MAX = 200
BODY_MAX = 10_000
COMMENT_MAX = 5_000
# The reason given for an amendment (passages.amendment_create and the edit form).
AMENDMENT_REASON_MAX = 1000
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_PER_CONTRIBUTION = 3
# Items in these states take no new replies, reactions or edits.
CLOSED_TO_REPLIES = (
    ItemState.HIDDEN,
    ItemState.REMOVED,
    ItemState.WITHDRAWN,
    ItemState.REJECTED,
    ItemState.PENDING,
)


# Sent by contributions.tasks.comment_posted once a published comment's post has
# committed (``comment_id``), in the worker: search writes its document then
# (search/indexing.py, WITH_POST), in the same message as the reply notifications.
comment_posted = Signal()


class RateLimited(Exception):
    """The person posted too often; ``retry_after`` seconds until they may again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(value: str) -> Rate:
    """'20/m' -> 20 per 60 seconds (s, m, h, d)."""
    count, _sep, period = value.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[:1] or "m"]
    return Rate(int(count), seconds)


def posting_rate_check(*, user: User) -> None:
    """Count one post for ``user``; raise RateLimited past settings.POSTING_RATE_LIMIT.

    A fixed window in the shared cache: one counter per person per window, no
    database write.
    """
    rate = parse_rate(settings.POSTING_RATE_LIMIT)
    now = int(timezone.now().timestamp())
    window = now // rate.seconds
    used = count_up(cache, f"posting-rate:{user.pk}:{window}", rate.seconds + 5)
    if used > rate.count:
        raise RateLimited(retry_after=(window + 1) * rate.seconds - now)


# --- checks -----------------------------------------------------------------


def _require_contribute(
    *, study: Study, user: User, membership: Membership | None = None
) -> Membership:
    """The person's membership if they may post in the study now; PermissionDenied if not.

    ``membership``: theirs as the caller read it in this request
    (studies.access.membership_of); read here when not given.
    """
    if membership is None or membership.study_id != study.pk or membership.user_id != user.pk:
        membership = membership_of(user, study)
    if not can(study, membership, Action.CONTRIBUTE, user=user):
        if not study.is_open:
            raise PermissionDenied(_("This study is not open for contributions."))
        raise PermissionDenied(_("You cannot post in this study."))
    return membership


def _snapshot(membership: Membership) -> dict:
    organisation = membership.organisation.canonical() if membership.organisation else None
    return {
        "acted_for": organisation,
        "acted_for_sector": organisation.sector if organisation else "",
        "acted_for_claim": claim_state(user_id=membership.user_id, organisation=organisation)
        if organisation
        else "",
    }


def _clean_text(value: str, *, field: str, label: str, max_length: int, required=True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("%(label)s cannot be empty.") % {"label": label}})
    if len(value) > max_length:
        raise ValidationError(
            {
                field: ngettext(
                    "%(label)s can be at most %(max)d character long (it is %(length)d).",
                    "%(label)s can be at most %(max)d characters long (it is %(length)d).",
                    max_length,
                )
                % {"label": label, "max": max_length, "length": len(value)}
            }
        )
    return value


def _check_section(*, study: Study, section: Section | None) -> None:
    if section is None:
        return
    if section.study_id != study.pk:
        raise ValidationError({"section": _("This section does not belong to this study.")})
    try:
        from studies import selectors as study_selectors
    except ImportError:
        return
    open_sections = getattr(study_selectors, "open_sections", None)
    if open_sections is None:
        return
    if not open_sections(study=study).filter(pk=section.pk).exists():
        raise ValidationError({"section": _("This section is not open for contributions now.")})


def _initial_state(study: Study) -> str:
    if study.moderation_mode == ModerationMode.PRE:
        return ItemState.PENDING
    return ItemState.PUBLISHED


def attachment_type(file: UploadedFile) -> tuple[str, str]:
    """(content type, extension) from the file's first bytes; ValidationError if not allowed."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    found = attachment_type_of(head)
    if found is not None:
        return found
    raise ValidationError(
        {
            "attachments": _(
                "“%(name)s” is not a PDF, PNG or JPEG file (checked from its content)."
            )
            % {"name": file.name}
        }
    )


def _validate_attachments(files: Sequence[UploadedFile], *, existing: int = 0) -> list:
    if existing + len(files) > ATTACHMENTS_PER_CONTRIBUTION:
        raise ValidationError(
            {
                "attachments": ngettext(
                    "At most %(count)d file can be attached to a contribution.",
                    "At most %(count)d files can be attached to a contribution.",
                    ATTACHMENTS_PER_CONTRIBUTION,
                )
                % {"count": ATTACHMENTS_PER_CONTRIBUTION}
            }
        )
    checked = []
    for file in files:
        if file.size > ATTACHMENT_MAX_BYTES:
            raise ValidationError(
                {"attachments": _("“%(name)s” is larger than 10 MB.") % {"name": file.name}}
            )
        checked.append((file, *attachment_type(file)))
    return checked


def _save_attachments(*, contribution: Contribution, checked: list) -> None:
    for file, content_type, extension in checked:
        attachment = Attachment(
            contribution=contribution,
            # The uploaded name's stem with the checked type's extension: a PDF sent
            # as "report.html" is kept, shown and downloaded as "report.pdf".
            original_name=attachment_filename(file.name, extension),
            content_type=content_type,
            size=file.size,
        )
        # The stored name is ours; the original name is only shown and sent back.
        attachment.file.save(f"{uuid.uuid4().hex}.{extension}", file, save=False)
        attachment.save()


def _posted_with(model, *, author: User, idempotency_key):
    """The id of ``author``'s item posted with this key, as a subquery (NULL: none)."""
    if idempotency_key is None:
        return Value(None, output_field=IntegerField())
    return Subquery(
        model.objects.filter(author=author, idempotency_key=idempotency_key).values("pk")[:1]
    )


def _existing(model, *, author: User, idempotency_key) -> Contribution | Comment | None:
    if idempotency_key is None:
        return None
    return first_row(model.objects.filter(author=author, idempotency_key=idempotency_key))


# --- contributions ----------------------------------------------------------


def contribution_create(
    *,
    study: Study,
    author: User,
    title: str,
    body: str,
    kind: str = ContributionKind.IDEA,
    section: Section | None = None,
    idempotency_key: uuid.UUID | None = None,
    attachments: Sequence[UploadedFile] = (),
    membership: Membership | None = None,
    _document: Callable[[Contribution], None] | None = None,
) -> Contribution:
    """Post a contribution; a repeated ``idempotency_key`` returns the first one unchanged.

    Raises PermissionDenied (not a member, blocked, study not open),
    ValidationError (empty or too long fields, wrong section, bad files) or
    RateLimited. Nothing is saved when it raises. ``membership``: the
    author's, as the caller read it in this request, saves reading it again.
    """
    existing = _existing(Contribution, author=author, idempotency_key=idempotency_key)
    if existing is not None:
        return existing
    membership = _require_contribute(study=study, user=author, membership=membership)
    title = _clean_text(title, field="title", label=_("The title"), max_length=TITLE_MAX)
    body = _clean_text(body, field="body", label=_("The text"), max_length=BODY_MAX)
    if kind not in ContributionKind.values or (kind in DOCUMENT_KINDS and not _document):
        raise ValidationError({"kind": _("Choose a kind of contribution.")})
    _check_section(study=study, section=section)
    checked = _validate_attachments(attachments)
    posting_rate_check(user=author)
    try:
        with transaction.atomic():
            contribution = Contribution(
                study=study,
                author=author,
                title=title,
                body=body,
                body_html=render_markdown(body),
                kind=kind,
                section=section,
                state=_initial_state(study),
                idempotency_key=idempotency_key,
                **_snapshot(membership),
            )
            # Its search document (with a passage's or amendment's rows) is
            # written by a task after commit (search/indexing.py).
            contribution.index_after_commit = True
            contribution.save(force_insert=True)
            _save_attachments(contribution=contribution, checked=checked)
            if _document is not None:
                # Its place in the concept document (contributions.passages), saved
                # before the item is published so the first look shows it.
                _document(contribution)
            if contribution.state == ItemState.PUBLISHED:
                live.publish_item(item=contribution, kind=live.CREATED)
            else:
                _tell_moderators(item=contribution)
    except IntegrityError:
        # A concurrent double submit won the race on (author, idempotency_key).
        existing = _existing(Contribution, author=author, idempotency_key=idempotency_key)
        if existing is None:
            raise
        return existing
    return contribution


def contribution_edit(
    *, contribution: Contribution, editor: User, title: str, body: str, kind: str | None = None
) -> Contribution:
    """The author edits their contribution; the earlier text is kept as a Revision.

    A passage comment or amendment (DOCUMENT_KINDS) keeps the rules it was written
    under (docs/passages.md): its heading quotes the document and is not the
    author's to change, its text keeps the passage limits, and a decided
    amendment is no longer edited.
    """
    _require_own_editable(item=contribution, editor=editor)
    if contribution.kind in DOCUMENT_KINDS:
        title, body = _document_kind_edit_check(contribution, title=title, body=body)
    title = _clean_text(title, field="title", label=_("The title"), max_length=TITLE_MAX)
    body = _clean_text(body, field="body", label=_("The text"), max_length=BODY_MAX)
    if kind is not None and kind not in ContributionKind.values:
        raise ValidationError({"kind": _("Choose a kind of contribution.")})
    if kind in DOCUMENT_KINDS or contribution.kind in DOCUMENT_KINDS:
        kind = None  # pinned to the document: the kind is not the author's to change
    posting_rate_check(user=editor)
    with transaction.atomic():
        locked = Contribution.objects.select_for_update().get(pk=contribution.pk)
        _require_own_editable(item=locked, editor=editor)
        if locked.kind in DOCUMENT_KINDS:
            _document_kind_edit_check(locked, title=title, body=body)
        if locked.title == title and locked.body == body and (kind is None or kind == locked.kind):
            return locked
        Revision.objects.create(contribution=locked, title=locked.title, body=locked.body)
        locked.title = title
        locked.body = body
        locked.body_html = render_markdown(body)
        if kind is not None:
            locked.kind = kind
        locked.edited_at = timezone.now()
        locked.revision = locked.revision + 1
        locked.save(
            update_fields=[
                "title",
                "body",
                "body_html",
                "kind",
                "edited_at",
                "revision",
                "updated_at",
            ]
        )
        if locked.state == ItemState.PUBLISHED:
            live.publish_item(item=locked, kind=live.EDITED)
    return locked


def _document_kind_edit_check(contribution: Contribution, *, title: str, body: str):
    """Refuse an edit of a passage comment or amendment past its rules; returns the
    title (always the generated one) and body to save."""
    if "\x00" in (title or "") or "\x00" in (body or ""):
        raise ValidationError({"body": _("The text contains a character that is not allowed.")})
    if (
        contribution.kind == ContributionKind.AMENDMENT
        and Amendment.objects.filter(
            contribution=contribution,
            status__in=[AmendmentStatus.ACCEPTED, AmendmentStatus.DECLINED],
        ).exists()
    ):
        raise ValidationError(_("A decided amendment can no longer be edited."), code="decided")
    if (title or "").strip() not in ("", contribution.title):
        raise ValidationError(
            {
                "title": ValidationError(
                    _("The heading quotes the concept document and cannot be changed."),
                    code="title",
                )
            }
        )
    if contribution.kind == ContributionKind.AMENDMENT:
        body = _clean_text(
            body, field="body", label=_("The reason"), max_length=AMENDMENT_REASON_MAX
        )
    else:
        body = _clean_text(body, field="body", label=_("The comment"), max_length=COMMENT_MAX)
    return contribution.title, body


def contribution_withdraw(*, contribution: Contribution, user: User) -> Contribution:
    """The author withdraws their contribution; its comments stay readable."""
    return _withdraw(model=Contribution, item=contribution, user=user)


# --- comments ---------------------------------------------------------------


def comment_create(
    *,
    contribution: Contribution,
    author: User,
    body: str,
    parent: Comment | None = None,
    official: bool = False,
    idempotency_key: uuid.UUID | None = None,
    membership: Membership | None = None,
) -> Comment:
    """Comment on a contribution, reply to a comment, or (facilitators) answer officially.

    Replies are one level deep: a reply to a reply joins the same thread.
    Replying to or commenting on an item that is withdrawn, hidden, removed
    or not yet approved is refused. ``membership``: the author's, as the
    caller read it in this request, saves reading it again.
    """
    # Judge by the states in the database, not by possibly stale objects; and
    # a comment already posted with this key (a retry) is the answer, in the
    # same query. A contribution read in this request for this post
    # (selectors.contribution_with_access with the key) brings both.
    read_with = getattr(contribution, "comment_posted_with", None)
    if read_with is not None and read_with[:2] == (author.pk, idempotency_key):
        contribution_state, existing_pk = contribution.state, read_with[2]
    else:
        contribution_state, existing_pk = (
            Contribution.objects.filter(pk=contribution.pk)
            .annotate(
                existing=_posted_with(Comment, author=author, idempotency_key=idempotency_key)
            )
            .values_list("state", "existing")
            .get()
        )
    if existing_pk is not None:
        return Comment.objects.get(pk=existing_pk)
    study = contribution.study
    membership = _require_contribute(study=study, user=author, membership=membership)
    if official and membership.role not in FACILITATING:
        raise PermissionDenied(_("Only facilitators can post official answers."))
    body = _clean_text(body, field="body", label=_("The comment"), max_length=COMMENT_MAX)
    if contribution_state in CLOSED_TO_REPLIES:
        contribution.state = contribution_state
        raise ValidationError(
            {
                "body": _("This contribution is %(state)s and takes no comments.")
                % {"state": contribution.get_state_display().lower()}
            }
        )
    if parent is not None:
        parent = Comment.objects.get(pk=parent.pk)
        if parent.contribution_id != contribution.pk:
            raise ValidationError(
                {"parent": _("You can only reply to a comment on this contribution.")}
            )
        if parent.state in CLOSED_TO_REPLIES:
            raise ValidationError(
                {
                    "parent": _("This comment is %(state)s and takes no replies.")
                    % {"state": parent.get_state_display().lower()}
                }
            )
        if parent.parent_id:
            parent = Comment.objects.get(pk=parent.parent_id)
            if parent.state in CLOSED_TO_REPLIES:
                raise ValidationError({"parent": _("This thread is closed to replies.")})
        official = False  # official answers stand on their own
    posting_rate_check(user=author)
    try:
        with transaction.atomic():
            comment = Comment(
                study=study,
                contribution=contribution,
                parent=parent,
                official=official,
                author=author,
                body=body,
                body_html=render_markdown(body),
                state=ItemState.PUBLISHED if official else _initial_state(study),
                idempotency_key=idempotency_key,
                **_snapshot(membership),
            )
            if comment.state != ItemState.PUBLISHED:
                comment.index_after_commit = True  # search/indexing.py: after commit, in a task
                comment.save(force_insert=True)
                _tell_moderators(item=comment)
            else:
                # The comment's row locks its participation summaries (reports
                # triggers) and its event the study row, both until commit.
                # With its id taken beforehand (PostgreSQL), the rendering
                # happens first, outside those locks, and other posts to the
                # study wait only for two inserts and the commit.
                # Its search document comes with the reply notifications, in
                # one task after commit (comment_posted): one message, not two.
                comment.index_after_commit = "with-post"  # search.indexing.WITH_POST
                comment.pk = _reserve_pk(Comment)
                comment.reaction_count = 0  # new: nothing to count
                written_first = comment.pk is None  # SQLite: one lock anyway
                if written_first:
                    comment.save(force_insert=True)
                payload = live.item_payload(item=comment, kind=live.CREATED, new=True)
                if not written_first:
                    comment.save(force_insert=True)
                live.record_payload(study_id=comment.study_id, payload=payload)
                comment.event_payload = payload  # for the poster's own page
                # The poster waits for none of this: one task after commit,
                # reading the comment as it is then.
                comment_posted_after_commit(comment=comment)
    except IntegrityError:
        existing = _existing(Comment, author=author, idempotency_key=idempotency_key)
        if existing is None:
            raise
        return existing
    return comment


def _reserve_pk(model) -> int | None:
    """The next id of ``model``'s table, taken from its sequence (PostgreSQL only).

    SQLite has no sequence to take from, and holds one write lock for the
    whole transaction anyway: there the row is inserted first.
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s))",
            [model._meta.db_table, model._meta.pk.column],
        )
        return cursor.fetchone()[0]


def comment_edit(*, comment: Comment, editor: User, body: str) -> Comment:
    """The author edits their comment; the earlier text is kept as a Revision."""
    _require_own_editable(item=comment, editor=editor)
    body = _clean_text(body, field="body", label=_("The comment"), max_length=COMMENT_MAX)
    posting_rate_check(user=editor)
    with transaction.atomic():
        locked = Comment.objects.select_for_update().get(pk=comment.pk)
        _require_own_editable(item=locked, editor=editor)
        if locked.body == body:
            return locked
        Revision.objects.create(comment=locked, body=locked.body)
        locked.body = body
        locked.body_html = render_markdown(body)
        locked.edited_at = timezone.now()
        locked.revision = locked.revision + 1
        locked.save(update_fields=["body", "body_html", "edited_at", "revision", "updated_at"])
        if locked.state == ItemState.PUBLISHED:
            live.publish_item(item=locked, kind=live.EDITED)
    return locked


def comment_withdraw(*, comment: Comment, user: User) -> Comment:
    """The author withdraws their comment; replies to it stay readable."""
    return _withdraw(model=Comment, item=comment, user=user)


def _require_own_editable(*, item: Contribution | Comment, editor: User) -> None:
    if item.author_id != editor.pk:
        raise PermissionDenied(_("Only the author can change this."))
    membership = membership_of(editor, item.study)
    if not can(item.study, membership, Action.CONTRIBUTE, user=editor):
        raise PermissionDenied(_("This study is not open for changes."))
    if item.state not in (ItemState.PUBLISHED, ItemState.PENDING):
        raise ValidationError(
            _("This item is %(state)s and can no longer be changed.")
            % {"state": item.get_state_display().lower()}
        )


def _withdraw(*, model, item, user: User):
    _require_own_editable(item=item, editor=user)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=item.pk)
        _require_own_editable(item=locked, editor=user)
        if (
            model is Contribution
            and locked.kind == ContributionKind.AMENDMENT
            and Amendment.objects.filter(
                contribution=locked, status__in=[AmendmentStatus.ACCEPTED, AmendmentStatus.DECLINED]
            ).exists()
        ):
            raise ValidationError(_("A decided amendment can no longer be withdrawn."))
        was_on_page = locked.state == ItemState.PUBLISHED
        locked.state = ItemState.WITHDRAWN
        locked.revision = locked.revision + 1
        locked.save(update_fields=["state", "revision", "updated_at"])
        if was_on_page:
            live.publish_item(item=locked, kind=live.WITHDRAWN)
    return locked


# --- reactions --------------------------------------------------------------


def reaction_toggle(*, item: Contribution | Comment, user: User) -> tuple[bool, int]:
    """Add the person's reaction, or take it back if they had one.

    Returns (reacted now, count). The unique constraint keeps it to one row
    per person per item even when two requests race.
    """
    _require_contribute(study=item.study, user=user)
    if item.state != ItemState.PUBLISHED:
        raise ValidationError(_("You can only react to published items."))
    if (
        isinstance(item, Contribution)
        and item.kind == ContributionKind.AMENDMENT
        and item.author_id == user.pk
    ):
        raise ValidationError(_("You cannot support your own amendment."))
    model = type(item)
    field = "contribution" if isinstance(item, Contribution) else "comment"
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=item.pk)
        if (
            isinstance(locked, Contribution)
            and locked.kind == ContributionKind.AMENDMENT
            and Amendment.objects.filter(contribution=locked)
            .exclude(status__in=(AmendmentStatus.OPEN, AmendmentStatus.CONSIDERING))
            .exists()
        ):
            # As passages.amendment_support: a decided amendment neither gains nor
            # loses support, so the count shown beside the decision stays the one
            # decided on.
            raise ValidationError(_("This amendment takes no more support."), code="closed")
        mine = Reaction.objects.filter(user=user, **{field: locked})
        if mine.exists():
            mine.delete()
            reacted = False
        else:
            try:
                with transaction.atomic():
                    Reaction.objects.create(user=user, **{field: locked})
            except IntegrityError:
                pass  # a concurrent request added it; one row either way
            reacted = True
        model.objects.filter(pk=locked.pk).update(revision=F("revision") + 1)
        locked.refresh_from_db(fields=["revision"])
        count = locked.reactions.count()
        locked.reaction_count = count
        live.publish_item(item=locked, kind=live.REACTION)
    return reacted, count


# --- state changes (moderation) ---------------------------------------------


def item_change_state(
    *, item: Contribution | Comment, state: ItemState | str, reason: str = "", note: str = ""
) -> Contribution | Comment:
    """Set an item's state with a reason (hide, restore, approve, reject, remove).

    Saves with update_fields, raises the revision and publishes the new look
    in the same transaction. The caller checks who may do it (moderation).
    Approving a pending item (to PUBLISHED) publishes it as new.
    """
    if state not in ItemState.values:
        raise ValidationError(_("Unknown state."))
    if reason and reason not in ModerationReason.values:
        raise ValidationError(_("Unknown moderation reason."))
    model = type(item)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=item.pk)
        previous = locked.state
        locked.state = state
        locked.moderation_reason = reason
        locked.moderation_note = note[:500]
        locked.revision = locked.revision + 1
        locked.save(
            update_fields=[
                "state",
                "moderation_reason",
                "moderation_note",
                "revision",
                "updated_at",
            ]
        )
        was_on_page = previous not in (ItemState.PENDING, ItemState.REJECTED)
        on_page = state not in (ItemState.PENDING, ItemState.REJECTED)
        if on_page and not was_on_page:
            if isinstance(locked, Comment) and locked.state == ItemState.PUBLISHED:
                reply_notify_after_commit(comment=locked)
            live.publish_item(item=locked, kind=live.PUBLISHED)
        elif on_page or was_on_page:
            live.publish_item(item=locked, kind=live.STATE)
        if reason == ModerationReason.PERSONAL_DATA:
            _forget_after_commit(items=[locked])
    item.state = locked.state
    item.moderation_reason = locked.moderation_reason
    item.moderation_note = locked.moderation_note
    item.revision = locked.revision
    return locked


def contributions_taken_up(sender, *, version, taken_up_ids: list[int], **kwargs) -> None:
    """A document version took these contributions up: record it and show it on open pages.

    Receiver of ``studies.services.document_version_published``, called inside
    the publishing transaction. Only published contributions of the version's
    study can be taken up; anything else raises a ValidationError on
    ``taken_up`` and the version is not published. Each contribution's
    revision is raised and its new look ("taken up in version …") recorded
    and, after commit, broadcast.
    """
    if not taken_up_ids:
        return
    with transaction.atomic():
        contributions = list(
            Contribution.objects.select_for_update(of=("self",))
            .filter(study_id=version.study_id, pk__in=taken_up_ids, state=ItemState.PUBLISHED)
            .select_related("author", "acted_for", "section", "study")
            .order_by("pk")
        )
        if len(contributions) != len(set(taken_up_ids)):
            raise ValidationError(
                {"taken_up": _("Choose published contributions of this study.")},
                code="taken_up",
            )
        version.taken_up.add(*contributions)
        for contribution in contributions:
            contribution.revision += 1
            contribution.save(update_fields=["revision", "updated_at"])
            live.publish_item(item=contribution, kind=live.TAKEN_UP)


def _forget_after_commit(*, items: Sequence[Contribution | Comment]) -> None:
    """After commit, drop every kept copy of these items' earlier look (fragments and lists)."""
    contribution_ids = [i.pk for i in items if isinstance(i, Contribution)]
    comment_ids = [i.pk for i in items if isinstance(i, Comment)]
    study_ids = sorted({i.study_id for i in items})
    transaction.on_commit(
        lambda: listing.forget_items(
            contribution_ids=contribution_ids, comment_ids=comment_ids, study_ids=study_ids
        )
    )


def items_forget_deleted_author(sender, *, user: User, **kwargs) -> None:
    """Receiver of ``accounts.signals.account_deleted``: no kept copy shows the old name.

    The items stay (shown as by "Deleted participant"); their kept fragments
    and their studies' kept lists go, after the deletion commits.
    """
    rows = list(Contribution.objects.filter(author=user).values_list("pk", "study_id"))
    comments = list(Comment.objects.filter(author=user).values_list("pk", "study_id"))
    study_ids = sorted({study_id for _pk, study_id in [*rows, *comments]})
    contribution_ids = [pk for pk, _study in rows]
    comment_ids = [pk for pk, _study in comments]
    transaction.on_commit(
        lambda: listing.forget_items(
            contribution_ids=contribution_ids, comment_ids=comment_ids, study_ids=study_ids
        )
    )


def _tell_moderators(*, item: Contribution | Comment) -> None:
    events.send_to_moderators(
        study_id=item.study_id,
        kind="item.pending",
        data={"item_type": live.item_type(item), "item_id": item.pk, "key": item.dom_id},
    )


# Items re-published one by one to open pages after a claim decision; beyond
# this the pages show the new label on their next load (the decision's study
# event refreshes the statistics and the kept lists either way).
CLAIM_LIVE_ITEMS = 50


def items_follow_claim(
    sender, *, user_id: int, organisation_id: int, state: str, **kwargs
) -> list[int]:
    """Receiver of ``accounts.signals.claim_decided``: items show the decision, statistics
    refresh. Returns the studies concerned.

    The person's items for the organisation (or one merged with it) take the
    claim's state: confirmed, they name the organisation; refused, they name
    none (they stay, as posted by the person as themselves). Refused, the
    person's memberships stop acting for it. Every study with such an item or
    membership records a membership event, so cached figures refresh.
    """
    from accounts.models import ClaimState, Organisation
    from accounts.selectors import claim_state
    from studies.services import membership_changed

    organisation = Organisation.objects.get(pk=organisation_id)
    related = {organisation.pk, *organisation.merged_from.values_list("pk", flat=True)}
    if organisation.merged_into_id:
        related.add(organisation.merged_into_id)
    study_ids: set[int] = set()
    changed: list[Contribution | Comment] = []
    for org_id in sorted(related):
        now = claim_state(user_id=user_id, organisation=Organisation(pk=org_id)) or state
        for model in (Contribution, Comment):
            items = model.objects.filter(author_id=user_id, acted_for_id=org_id).exclude(
                acted_for_claim=now
            )
            study_ids.update(items.values_list("study_id", flat=True).distinct())
            ids = list(items.values_list("pk", flat=True))
            if ids:
                model.objects.filter(pk__in=ids).update(
                    acted_for_claim=now, revision=F("revision") + 1, updated_at=timezone.now()
                )
                if len(changed) < CLAIM_LIVE_ITEMS:
                    changed.extend(
                        model.objects.filter(pk__in=ids[:CLAIM_LIVE_ITEMS]).select_related(
                            "author", "acted_for", "study"
                        )
                    )
    memberships = Membership.objects.filter(user_id=user_id, organisation_id__in=related)
    study_ids.update(memberships.values_list("study_id", flat=True))
    if state == ClaimState.REFUSED:
        memberships.update(organisation=None, updated_at=timezone.now())
    for item in changed[:CLAIM_LIVE_ITEMS]:
        if item.state not in (ItemState.PENDING, ItemState.REJECTED):
            live.publish_item(item=item, kind=live.STATE)
    for study_id in sorted(study_ids):
        membership_changed(study_id=study_id)
    return sorted(study_ids)
