"""Comments on a passage of the concept document, and amendments to it.

Both are contributions (kinds ``passage`` and ``amendment``) with a
``Passage`` row pinning them to a block of the latest published version, so
they are posted, moderated, flagged, counted, exported and sent live exactly
like every other contribution (contributions.services.contribution_create
does the checks, the organisation snapshot and the event). An amendment also
has an ``Amendment`` row: the proposed wording and its decision. Support is
a reaction, one per person, never on one's own amendment.

When a version is published (``passages_carry``, a receiver of
studies.services.document_version_published), each pinned item moves to the
block of the new version that holds its quoted words or resembles its block
most (studies.blocks.best_match); an item whose passage is gone stays visible
as "on version 0.8: …", and accepted amendments are credited in the version.
"""

from __future__ import annotations

import difflib
import re
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import NotificationKind, User
from accounts.services import notification_create
from contributions import live, services
from contributions.models import (
    Amendment,
    AmendmentStatus,
    Comment,
    Contribution,
    ContributionKind,
    ItemState,
    Passage,
    Reaction,
)
from core.memory import Memory, MiB
from studies.access import Action, can, membership_of
from studies.blocks import (
    best_match,
    latest_version,
    parse_blocks,
    previous_version,
    version_blocks,
)
from studies.models import DocumentBlock, DocumentVersion, Membership, Study, StudyStatus
from studies.selectors import current_phase

QUOTE_MAX = 1000
WORDING_MAX = 5000
REASON_MAX = services.AMENDMENT_REASON_MAX
TITLE_WORDS = 80
DECISIONS = (AmendmentStatus.CONSIDERING, AmendmentStatus.ACCEPTED, AmendmentStatus.DECLINED)
# Amendments whose decision is still open take support and may be withdrawn.
UNDECIDED = (AmendmentStatus.OPEN, AmendmentStatus.CONSIDERING)


def _squash(text: str) -> str:
    return " ".join((text or "").split())


def _excerpt(text: str, length: int = TITLE_WORDS) -> str:
    text = _squash(text)
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# --- reading ---------------------------------------------------------------------


# Items in these states have no place in a panel, not even as a marker
# (Contribution.objects.visible_on_page()): nor have the replies under them.
NOT_ON_PAGE = (ItemState.PENDING, ItemState.REJECTED)
ON_PAGE = tuple(state for state in ItemState if state not in NOT_ON_PAGE)


def block_counts(*, study: Study, version: DocumentVersion) -> dict[str, dict[str, int]]:
    """Per anchor of ``version``: the comments a reader can read in its panel, and its
    published amendments.

    The comments are what the panel (block_items, attach_replies) shows with
    its content: the published passage comments and every published reply
    (to a comment or amendment, or to a reply) the panel shows, as a
    contribution's "N comments" counts its replies. A hidden, removed or
    withdrawn item is a marker, not a comment anyone can read, so it counts
    nothing; the published replies the panel shows under that marker count.
    Pending and rejected items have no place in the panel, and neither have
    the replies under them. The panel is the same for every reader (a
    facilitator sees hidden items as markers too), so the counts are too.
    A block with nothing to read has no entry. One grouped query, however many
    blocks and items (each passage joined with its item's replies, so its own
    row is counted once: distinct).
    """
    shown = Passage.objects.filter(
        block__version=version, gone=False, contribution__study=study
    ).exclude(contribution__state__in=NOT_ON_PAGE)
    published = Q(contribution__state=ItemState.PUBLISHED)
    reply = "contribution__comments__"
    rows = shown.values("block__anchor").annotate(
        comments=Count(
            "pk",
            distinct=True,
            filter=published & Q(contribution__kind=ContributionKind.PASSAGE),
        ),
        amendments=Count(
            "pk",
            distinct=True,
            filter=published & Q(contribution__kind=ContributionKind.AMENDMENT),
        ),
        replies=Count(
            "contribution__comments",
            distinct=True,
            filter=Q(**{f"{reply}state": ItemState.PUBLISHED})
            & (Q(**{f"{reply}parent__isnull": True}) | Q(**{f"{reply}parent__state__in": ON_PAGE})),
        ),
    )
    return {
        row["block__anchor"]: {
            "comments": row["comments"] + row["replies"],
            "amendments": row["amendments"],
        }
        for row in rows
        if row["comments"] or row["amendments"] or row["replies"]
    }


def _pinned(queryset):
    return queryset.select_related(
        "contribution__author",
        "contribution__acted_for",
        "contribution__amendment__credited_in",
        "origin__version",
        "block__version",
    ).annotate(
        support=Count("contribution__reactions", distinct=True),
        comments=Count(
            "contribution__comments",
            filter=Q(contribution__comments__state=ItemState.PUBLISHED),
            distinct=True,
        ),
    )


def block_items(*, study: Study, block: DocumentBlock) -> list[Passage]:
    """What is pinned to ``block`` and has a place on the page, oldest first."""
    return list(
        _pinned(
            Passage.objects.filter(block=block, gone=False, contribution__study=study)
            .exclude(contribution__state__in=NOT_ON_PAGE)
            .order_by("contribution__created_at", "pk")
        )
    )


def attach_replies(items: list[Passage]) -> list[Passage]:
    """Give each item its thread: ``passage.replies``, the comments on it oldest first,
    each with ``reply_list`` (the replies to it, one level), in one query.

    Pending and rejected comments have no place yet; hidden, removed and
    withdrawn ones stay as markers, as on the study page.
    """
    by_item: dict[int, list[Comment]] = {p.contribution_id: [] for p in items}
    replies: dict[int, list[Comment]] = {}
    if by_item:
        comments = (
            Comment.objects.filter(contribution_id__in=by_item)
            .exclude(state__in=NOT_ON_PAGE)
            .select_related("author", "acted_for")
            .order_by("created_at", "pk")
        )
        for comment in comments:
            if comment.parent_id is None:
                comment.reply_list = replies.setdefault(comment.pk, [])
                by_item[comment.contribution_id].append(comment)
            else:
                replies.setdefault(comment.parent_id, []).append(comment)
    for passage in items:
        passage.replies = by_item[passage.contribution_id]
    return items


# Per study and latest version: whether any item's passage is gone. Only publishing
# a version makes a passage gone (passages_carry), so under one latest version the
# answer never turns true; asked once, the items' query is skipped for a study
# with none (building it was about a sixth of the document page's CPU).
_any_gone = Memory("contributions.any_gone", 1024, max_bytes=MiB // 8)


def gone_items(*, study: Study, version: DocumentVersion | None = None) -> list[Passage]:
    """What was pinned to a passage the latest version no longer has, oldest version
    first: as in a block's panel, with what has a place on the page (hidden, removed
    and withdrawn items as markers) and with their replies (attach_replies).

    ``version``: the study's latest version, to skip the query (once that is known)
    when no passage of the study is gone."""
    if version is not None and not _any_gone.get_or_set(
        (study.pk, version.pk),
        lambda: Passage.objects.filter(gone=True, contribution__study=study).exists(),
    ):
        return []
    return attach_replies(
        list(
            _pinned(
                Passage.objects.filter(gone=True, contribution__study=study)
                .exclude(contribution__state__in=NOT_ON_PAGE)
                .order_by("block__version__published_at", "contribution__created_at", "pk")
            )
        )
    )


def block_credits(*, version: DocumentVersion) -> dict[str, list[Amendment]]:
    """Per anchor of ``version``: the amendments it took in (credited there), oldest first."""
    credits: dict[str, list[Amendment]] = {}
    rows = (
        Amendment.objects.filter(credited_in=version, contribution__passage__block__version=version)
        .select_related(
            "contribution__author", "contribution__acted_for", "contribution__passage__block"
        )
        .order_by("contribution__created_at", "pk")
    )
    for amendment in rows:
        credits.setdefault(amendment.contribution.passage.block.anchor, []).append(amendment)
    return credits


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word by word: ("same" | "removed" | "added", text), whitespace kept."""
    a, b = re.findall(r"\S+|\s+", old or ""), re.findall(r"\S+|\s+", new or "")
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(("same", "".join(a[i1:i2])))
            continue
        if tag in ("replace", "delete"):
            out.append(("removed", "".join(a[i1:i2])))
        if tag in ("replace", "insert"):
            out.append(("added", "".join(b[j1:j2])))
    return out


def credit_line(amendment: Amendment) -> str:
    """ "Amendment from Kari Nordmann, NAV": the name and the organisation acted for.

    The organisation as the item shows it: named only on a confirmed claim,
    "says they represent" while the claim waits, left out once it is refused.
    """
    contribution = amendment.contribution
    name = contribution.author.public_name
    organisation = contribution.shown_organisation
    if organisation is not None:
        if contribution.organisation_unconfirmed:
            shown = _("says they represent %(name)s") % {"name": organisation.name}
        else:
            shown = organisation.name
        name = f"{name}, {shown}"
    return _("Amendment from %(name)s") % {"name": name}


# --- checks ---------------------------------------------------------------------


def _current_block(*, study: Study, anchor: str, version_id: int | None) -> DocumentBlock:
    """The block ``anchor`` of the latest published version, or a clear refusal."""
    version = latest_version(study)
    if version is None:
        raise ValidationError(
            {
                "anchor": ValidationError(
                    _("No version of the concept document is published yet."), code="no_version"
                )
            }
        )
    if version_id is not None and version_id != version.pk:
        raise ValidationError(
            {
                "anchor": ValidationError(
                    _(
                        "This passage is from an earlier version. The document is now at "
                        "version %(number)s: reload the page and try again."
                    )
                    % {"number": version.number},
                    code="old_version",
                )
            }
        )
    anchor = (anchor or "").strip()
    block = next((b for b in version_blocks(version) if b.anchor == anchor), None)
    if block is None:
        raise ValidationError(
            {
                "anchor": ValidationError(
                    _("This passage is not in version %(number)s of the concept document any more.")
                    % {"number": version.number},
                    code="no_block",
                )
            }
        )
    return block


def _clean_quote(quote: str, block: DocumentBlock) -> str:
    quote = _squash(quote)
    if not quote:
        return ""
    if "\x00" in quote or len(quote) > QUOTE_MAX:
        raise ValidationError({"quote": _("Quote at most 1,000 characters of the passage.")})
    if quote not in _squash(block.text):
        raise ValidationError({"quote": _("The quoted words are not in this passage.")})
    return quote


def _refuse_nul(**fields: str) -> None:
    for name, value in fields.items():
        if "\x00" in (value or ""):
            raise ValidationError({name: _("The text contains a character that is not allowed.")})


# --- writing ----------------------------------------------------------------------


def passage_comment_create(
    *,
    study: Study,
    author: User,
    anchor: str,
    body: str,
    quote: str = "",
    version_id: int | None = None,
    idempotency_key: uuid.UUID | None = None,
    membership: Membership | None = None,
) -> Contribution:
    """Comment on a block of the latest published version (optionally on quoted words).

    Refused (nothing saved) when the block is not in the latest version, the
    quote is not in it, or the person may not post (services' checks).
    ``membership``: the author's, as the caller read it in this request.
    """
    done = services._existing(Contribution, author=author, idempotency_key=idempotency_key)
    if done is not None:
        return done
    membership = services._require_contribute(study=study, user=author, membership=membership)
    _refuse_nul(body=body, quote=quote)
    block = _current_block(study=study, anchor=anchor, version_id=version_id)
    quote = _clean_quote(quote, block)

    def pin(contribution: Contribution) -> None:
        Passage.objects.create(contribution=contribution, origin=block, block=block, quote=quote)

    return services.contribution_create(
        study=study,
        author=author,
        title=f"«{_excerpt(quote or block.text)}»",
        body=body,
        kind=ContributionKind.PASSAGE,
        idempotency_key=idempotency_key,
        membership=membership,
        _document=pin,
    )


def amendment_create(
    *,
    study: Study,
    author: User,
    anchor: str,
    wording: str,
    reason: str,
    version_id: int | None = None,
    idempotency_key: uuid.UUID | None = None,
    membership: Membership | None = None,
) -> Contribution:
    """Propose new wording for a block of the latest published version, with a reason.

    Refused (nothing saved) outside a running phase, on a block that is not in
    the latest version, and for empty, too long or unchanged wording.
    ``membership``: the author's, as the caller read it in this request.
    """
    done = services._existing(Contribution, author=author, idempotency_key=idempotency_key)
    if done is not None:
        return done
    membership = services._require_contribute(study=study, user=author, membership=membership)
    _refuse_nul(wording=wording, body=reason)
    if study.phases.exists() and current_phase(study) is None:
        raise ValidationError(
            {
                "wording": ValidationError(
                    _("No phase of the study is running now, so amendments are closed."),
                    code="phase_closed",
                )
            }
        )
    block = _current_block(study=study, anchor=anchor, version_id=version_id)
    wording = (wording or "").strip()
    if not wording:
        raise ValidationError({"wording": _("Write the wording you propose.")})
    if len(wording) > WORDING_MAX:
        raise ValidationError(
            {"wording": _("The proposed wording can be at most 5,000 characters long.")}
        )
    if _squash(wording) == _squash(block.source):
        raise ValidationError(
            {
                "wording": ValidationError(
                    _("The proposed wording is the same as the passage: change something."),
                    code="identical",
                )
            }
        )
    if not (reason or "").strip():
        raise ValidationError({"body": _("Say why the wording should change.")})
    if len(reason.strip()) > REASON_MAX:
        raise ValidationError({"body": _("The reason can be at most 1,000 characters long.")})

    def pin(contribution: Contribution) -> None:
        Passage.objects.create(contribution=contribution, origin=block, block=block)
        Amendment.objects.create(contribution=contribution, wording=wording)

    return services.contribution_create(
        study=study,
        author=author,
        title=f"«{_excerpt(block.text)}»",
        body=reason,
        kind=ContributionKind.AMENDMENT,
        idempotency_key=idempotency_key,
        membership=membership,
        _document=pin,
    )


def passage_item(*, study: Study, anchor: str, pk: int) -> Contribution | None:
    """The comment or amendment ``pk`` of ``study`` pinned to the block ``anchor`` of the
    latest published version, or None (another study, another passage, a passage
    no longer in the document, or not an item of the document at all)."""
    version = latest_version(study)
    if version is None:
        return None
    return (
        Contribution.objects.select_related("study", "passage__block")
        .filter(
            study=study,
            pk=pk,
            kind__in=[ContributionKind.PASSAGE, ContributionKind.AMENDMENT],
            passage__block__version=version,
            passage__block__anchor=anchor,
            passage__gone=False,
        )
        .first()
    )


def passage_reply_create(
    *,
    contribution: Contribution,
    author: User,
    body: str,
    idempotency_key: uuid.UUID | None = None,
) -> Comment:
    """Reply to a comment or amendment on a passage: a comment on it, one level.

    A reply is an ordinary comment (services.comment_create: membership, open
    study, posting limit, organisation snapshot, pre-moderation, the event),
    so it is moderated, counted, indexed and sent live like every comment.
    Refused (code "closed", nothing saved) while the item is not published:
    hidden, removed, withdrawn or waiting for approval.
    """
    done = services._existing(Comment, author=author, idempotency_key=idempotency_key)
    if done is not None:
        return done
    services._require_contribute(study=contribution.study, user=author)
    state = Contribution.objects.filter(pk=contribution.pk).values_list("state", flat=True).get()
    if state != ItemState.PUBLISHED:
        contribution.state = state
        raise ValidationError(
            _("This item is %(state)s and takes no replies.")
            % {"state": contribution.get_state_display().lower()},
            code="closed",
        )
    return services.comment_create(
        contribution=contribution, author=author, body=body, idempotency_key=idempotency_key
    )


def _amendment_of(contribution: Contribution) -> Amendment:
    amendment = (
        Amendment.objects.select_related("contribution__study")
        .filter(contribution_id=contribution.pk)
        .first()
    )
    if amendment is None:
        raise ValidationError(_("This is not an amendment."), code="not_amendment")
    return amendment


def amendment_support(*, contribution: Contribution, user: User) -> int:
    """Support an amendment once; returns the number of supporters.

    Refused for one's own amendment, a second time, and once decided.
    """
    amendment = _amendment_of(contribution)
    services._require_contribute(study=contribution.study, user=user)
    if contribution.author_id == user.pk:
        raise ValidationError(_("You cannot support your own amendment."), code="own")
    if contribution.state != ItemState.PUBLISHED or amendment.status not in UNDECIDED:
        raise ValidationError(_("This amendment takes no more support."), code="closed")
    with transaction.atomic():
        locked = Contribution.objects.select_for_update().get(pk=contribution.pk)
        if Reaction.objects.filter(user=user, contribution=locked).exists():
            raise ValidationError(_("You support this amendment already."), code="twice")
        try:
            with transaction.atomic():
                Reaction.objects.create(user=user, contribution=locked)
        except IntegrityError:
            raise ValidationError(_("You support this amendment already."), code="twice") from None
        return _republish(locked, kind=live.REACTION)


def _republish(contribution: Contribution, *, kind: str) -> int:
    Contribution.objects.filter(pk=contribution.pk).update(
        revision=F("revision") + 1, updated_at=timezone.now()
    )
    contribution.refresh_from_db(fields=["revision", "updated_at"])
    count = contribution.reactions.count()
    contribution.reaction_count = count
    if contribution.state not in (ItemState.PENDING, ItemState.REJECTED):
        live.publish_item(item=contribution, kind=kind)
    return count


def amendment_decide(
    *, contribution: Contribution, by: User, status: str, reason: str
) -> Amendment:
    """A facilitator or coordinator marks an amendment; the author is told.

    Accepting writes the wording into the study's draft in place of the
    passage, so the next version carries it; refused (nothing saved) when
    the draft no longer holds the passage as published.
    """
    study = contribution.study
    membership = membership_of(by, study)
    if not can(study, membership, Action.MODERATE, user=by):
        raise PermissionDenied(_("Only the study's facilitators and coordinators decide."))
    if status not in DECISIONS:
        raise ValidationError({"status": _("Choose a decision.")})
    reason = (reason or "").strip()
    _refuse_nul(reason=reason)
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the decision.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("The reason can be at most 1,000 characters long.")})
    with transaction.atomic():
        amendment = Amendment.objects.select_for_update().get(contribution_id=contribution.pk)
        locked = Contribution.objects.select_for_update().get(pk=contribution.pk)
        if locked.state != ItemState.PUBLISHED:
            raise ValidationError(
                _("This amendment is %(state)s and cannot be decided.")
                % {"state": locked.get_state_display().lower()}
            )
        if amendment.decided:
            raise ValidationError(_("This amendment is decided already."), code="decided")
        if status == AmendmentStatus.ACCEPTED:
            _write_into_draft(study=study, amendment=amendment)
        amendment.status = status
        amendment.decision_reason = reason
        amendment.decided_by = by
        amendment.decided_at = timezone.now()
        amendment.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
        _republish(locked, kind="contribution.amendment")
        _tell_author(amendment=amendment, contribution=locked)
    return amendment


def _write_into_draft(*, study: Study, amendment: Amendment) -> None:
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status not in (StudyStatus.DRAFT, StudyStatus.OPEN):
        raise ValidationError(_("The study is closed: its document no longer changes."))
    passage = Passage.objects.select_related("block").get(contribution_id=amendment.contribution_id)
    source = passage.block.source
    if passage.gone or source not in study.body:
        raise ValidationError(
            _(
                "The draft of the next version no longer holds this passage as published, "
                "so the wording cannot be put in its place. Edit the draft by hand first."
            ),
            code="draft_changed",
        )
    study.body = study.body.replace(source, amendment.wording, 1)
    study.save(update_fields=["body", "updated_at"])


def _tell_author(*, amendment: Amendment, contribution: Contribution) -> None:
    author = contribution.author
    url = reverse("passages:document", kwargs={"slug": contribution.study.slug})
    url += f"#{contribution.passage.block.anchor}"
    with translation.override(author.preferred_language):
        title = _("Your amendment to %(title)s is now: %(status)s") % {
            "title": contribution.title,
            "status": amendment.get_status_display().lower(),
        }
    notification_create(
        user=author,
        kind=NotificationKind.MODERATION,
        title=title,
        body=amendment.decision_reason,
        url=url,
    )


def amendment_withdraw(*, contribution: Contribution, user: User) -> Contribution:
    """The author withdraws an amendment that is not decided yet."""
    amendment = _amendment_of(contribution)
    if amendment.decided:
        raise ValidationError(_("A decided amendment can no longer be withdrawn."))
    return services.contribution_withdraw(contribution=contribution, user=user)


# --- a new version ------------------------------------------------------------------


def passages_carry(sender, *, version: DocumentVersion, **kwargs) -> None:
    """A version is published: carry pinned items to its blocks and credit amendments.

    Receiver of studies.services.document_version_published, inside the
    publishing transaction.
    """
    previous = previous_version(version)
    blocks = version_blocks(version)
    if previous is not None:
        pinned = Passage.objects.filter(block__version=previous, gone=False).select_related(
            "block", "contribution__amendment"
        )
        for passage in pinned:
            text = passage.block.text
            amendment = getattr(passage.contribution, "amendment", None)
            if amendment is not None and amendment.status == AmendmentStatus.ACCEPTED:
                # Its wording replaced the passage: follow the wording.
                text = " ".join(b.text for b in parse_blocks(amendment.wording)) or text
            found = best_match(
                text=text, quote=passage.quote, blocks=blocks, anchor=passage.block.anchor
            )
            if found is None:
                passage.gone = True
                passage.save(update_fields=["gone"])
            else:
                passage.block = found
                passage.save(update_fields=["block"])
    accepted = Amendment.objects.filter(
        contribution__study_id=version.study_id,
        status=AmendmentStatus.ACCEPTED,
        credited_in__isnull=True,
    ).select_related("contribution__author", "contribution__study")
    for amendment in accepted:
        amendment.credited_in = version
        amendment.save(update_fields=["credited_in"])
        contribution = Contribution.objects.select_for_update().get(pk=amendment.contribution_id)
        _republish(contribution, kind="contribution.amendment")
