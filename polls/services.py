"""Writes on polls: create, fix the wording, close, vote, flag and hide "other" texts.

Every write runs in one transaction, re-checks who may do it, validates all
input before the first write (so a refusal leaves nothing half-saved) and,
for what open pages show, records a study event as its last write
(``studies.events.record_event``; broadcast after commit). The event is a
reference: the poll's id, revision and state, plus the counts only while
everyone who may see the study may see them (docs/polls.md). Where results
are hidden until voting or closing, nothing on the socket carries a count:
pages whose viewer may see the results fetch them over HTTP, where the
server decides per viewer.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from contributions.services import RateLimited, posting_rate_check
from core.params import whole_number
from moderation.models import LogAction
from moderation.services import log_action
from polls import selectors
from polls.models import (
    Poll,
    PollChoice,
    PollKind,
    PollOption,
    PollRevision,
    PollState,
    PollVote,
    ResultsShown,
    TextFlag,
)
from studies import events
from studies.access import Action, can, membership_of
from studies.models import Membership, Section, Study

MIN_OPTIONS, MAX_OPTIONS = 2, 12
QUESTION_MAX, OPTION_MAX, OTHER_MAX, DESCRIPTION_MAX = 300, 200, 200, 2000
REASON_MAX = 500


class PollError(Exception):
    """A poll write refused for a reason the person can fix or should know; nothing saved."""

    def __init__(self, message: str, status: int = 422, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def snapshot(membership: Membership | None) -> dict:
    """Who the person acts for now, as stored with their vote or answer (never rewritten)."""
    organisation = None
    if membership is not None and membership.organisation is not None:
        organisation = membership.organisation.canonical()
    return {
        "acted_for": organisation,
        "acted_for_sector": organisation.sector if organisation else "",
    }


def refuse_null_characters(value: str) -> None:
    """NUL never reaches the database (PostgreSQL refuses it in text); Django's own message."""
    if "\x00" in value:
        raise PollError(_("Null characters are not allowed."))


def _text(value, *, label: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    refuse_null_characters(value)
    if required and not value:
        raise PollError(_("%(label)s cannot be empty.") % {"label": label})
    if len(value) > max_length:
        raise PollError(
            ngettext(
                "%(label)s can be at most %(max)d character long.",
                "%(label)s can be at most %(max)d characters long.",
                max_length,
            )
            % {"label": label, "max": max_length}
        )
    return value


def _option_labels(labels: list[str]) -> list[str]:
    cleaned = [label.strip() for label in labels if label and label.strip()]
    if len(cleaned) < MIN_OPTIONS:
        raise PollError(_("A poll needs at least two options."))
    if len(cleaned) > MAX_OPTIONS:
        raise PollError(_("A poll can have at most %(max)d options.") % {"max": MAX_OPTIONS})
    if len({label.casefold() for label in cleaned}) != len(cleaned):
        raise PollError(_("Two options have the same wording."))
    for label in cleaned:
        _text(label, label=_("An option"), max_length=OPTION_MAX)
    return cleaned


def _times(opens_at: dt.datetime | None, closes_at: dt.datetime | None) -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        raise PollError(_("A poll must close after it opens."))


def _section(study: Study, section_id: int | None) -> Section | None:
    if section_id is None:
        return None
    section = Section.objects.filter(study=study, pk=section_id).first()
    if section is None:
        raise PollError(_("Choose a section of this study."))
    return section


def _require_staff(*, study: Study, user: User) -> None:
    if not can(study, membership_of(user, study), Action.MODERATE, user=user):
        raise PermissionDenied(_("Only the study's facilitators and coordinators manage polls."))


def publish_poll(*, poll: Poll, kind: str) -> None:
    """Record a reference to the poll's new look as the transaction's last write.

    Counts go in only while everyone who may see the study may see them.
    """
    data = {
        "item_type": "poll",
        "item_id": poll.pk,
        "revision": poll.revision,
        "state": poll.state(),
        "section_id": poll.section_id,
    }
    if poll.results_public_now():
        results = selectors.poll_counts(poll=poll)
        data["counts"] = {str(k): v for k, v in results.counts.items()}
        data["other"] = results.other
        data["voters"] = results.voters
    events.record_event(study_id=poll.study_id, kind=f"poll.{kind}", key=poll.dom_id, data=data)


def poll_create(
    *,
    study: Study,
    by: User,
    question: str,
    options: list[str],
    kind: str = PollKind.SINGLE,
    description: str = "",
    allow_other: bool = False,
    results_shown: str = ResultsShown.LIVE,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    section_id: int | None = None,
) -> Poll:
    _require_staff(study=study, user=by)
    question = _text(question, label=_("The question"), max_length=QUESTION_MAX)
    description = _text(
        description, label=_("The description"), max_length=DESCRIPTION_MAX, required=False
    )
    labels = _option_labels(options)
    if kind not in PollKind.values:
        raise PollError(_("Choose one choice or several choices."))
    if results_shown not in ResultsShown.values:
        raise PollError(_("Choose when the results are shown."))
    _times(opens_at, closes_at)
    section = _section(study, section_id)
    with transaction.atomic():
        poll = Poll.objects.create(
            study=study,
            section=section,
            question=question,
            description=description,
            kind=kind,
            allow_other=allow_other,
            results_shown=results_shown,
            opens_at=opens_at,
            closes_at=closes_at,
            created_by=by,
        )
        PollOption.objects.bulk_create(
            PollOption(poll=poll, order=i, label=label) for i, label in enumerate(labels)
        )
        publish_poll(poll=poll, kind="created")
    return poll


def poll_update(
    *,
    poll: Poll,
    by: User,
    question: str,
    options: list[str],
    kind: str,
    description: str = "",
    allow_other: bool = False,
    results_shown: str = ResultsShown.LIVE,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    section_id: int | None = None,
) -> Poll:
    """Change a poll. Once votes have arrived only the wording of the question, the
    description and the options may change (same options, same order); each such fix
    is kept as a PollRevision and written to the moderation log."""
    _require_staff(study=poll.study, user=by)
    question = _text(question, label=_("The question"), max_length=QUESTION_MAX)
    description = _text(
        description, label=_("The description"), max_length=DESCRIPTION_MAX, required=False
    )
    labels = _option_labels(options)
    if kind not in PollKind.values or results_shown not in ResultsShown.values:
        raise PollError(_("Choose the kind of poll and when its results are shown."))
    _times(opens_at, closes_at)
    section = _section(poll.study, section_id)
    with transaction.atomic():
        poll = Poll.objects.select_for_update().select_related("study").get(pk=poll.pk)
        current = list(poll.options.all())
        has_votes = poll.votes.exists()
        before = {
            "question": poll.question,
            "description": poll.description,
            "options": [o.label for o in current],
        }
        if has_votes:
            structural = (
                len(labels) != len(current)
                or kind != poll.kind
                or allow_other != poll.allow_other
                or results_shown != poll.results_shown
                or opens_at != poll.opens_at
                or closes_at != poll.closes_at
                or (section.pk if section else None) != poll.section_id
            )
            if structural:
                raise PollError(
                    _(
                        "Votes have arrived: only the wording of the question, the "
                        "description and the options can be fixed now. To change anything "
                        "else, close this poll and add a new one."
                    ),
                    status=409,
                )
        poll.question, poll.description = question, description
        poll.kind, poll.allow_other, poll.results_shown = kind, allow_other, results_shown
        poll.opens_at, poll.closes_at, poll.section = opens_at, closes_at, section
        if has_votes:
            for option, label in zip(current, labels, strict=True):
                if option.label != label:
                    option.label = label
                    option.save(update_fields=["label"])
        else:
            poll.options.all().delete()
            PollOption.objects.bulk_create(
                PollOption(poll=poll, order=i, label=label) for i, label in enumerate(labels)
            )
        after = {"question": question, "description": description, "options": labels}
        if has_votes and before != after:
            PollRevision.objects.create(poll=poll, by=by, before=before, after=after)
            log_action(
                study=poll.study,
                actor=by,
                action=LogAction.POLL_WORDING,
                target_type="poll",
                target_id=poll.pk,
                details={"before": before, "after": after},
            )
        poll.revision = F("revision") + 1
        poll.save()
        poll.refresh_from_db(fields=["revision"])
        publish_poll(poll=poll, kind="edited")
    return poll


def poll_close(*, poll: Poll, by: User) -> Poll:
    _require_staff(study=poll.study, user=by)
    with transaction.atomic():
        poll = Poll.objects.select_for_update().get(pk=poll.pk)
        if poll.state() == PollState.CLOSED:
            raise PollError(_("This poll is already closed."), status=409)
        poll.closed_at = timezone.now()
        poll.revision = F("revision") + 1
        poll.save(update_fields=["closed_at", "revision"])
        poll.refresh_from_db(fields=["revision"])
        publish_poll(poll=poll, kind="state")
    return poll


def _parse_ids(values) -> list[int]:
    ids = []
    for value in values or []:
        if isinstance(value, int) and not isinstance(value, bool):
            ids.append(value)
            continue
        number = whole_number(value)
        if number is None:
            raise PollError(_("That option does not belong to this poll."))
        ids.append(number)
    return ids


def poll_vote(
    *,
    poll: Poll,
    user: User,
    option_ids: list,
    other: bool = False,
    other_text: str = "",
    membership: Membership | None = None,
) -> tuple[PollVote, bool]:
    """Cast or change ``user``'s vote; (the vote, whether anything changed).

    One vote per person and poll (a unique constraint; the poll row is locked, so
    parallel identical requests make one vote and one event). The same choice again
    changes nothing and records nothing.
    """
    if membership is None or membership.user_id != user.pk or membership.study_id != poll.study_id:
        membership = membership_of(user, poll.study)
    if not can(poll.study, membership, Action.CONTRIBUTE, user=user):
        raise PermissionDenied(_("Only members of this open study can vote."))
    ids = _parse_ids(option_ids)
    if len(set(ids)) != len(ids):
        raise PollError(_("Each option can be chosen once."))
    other_text = _text(other_text, label=_("“Other”"), max_length=OTHER_MAX, required=False)
    if other and not poll.allow_other:
        raise PollError(_("This poll has no “Other” option."))
    if other and not other_text:
        raise PollError(_("Say what “Other” is, or choose one of the options."))
    if not other:
        other_text = ""
    chosen = len(ids) + (1 if other else 0)
    if chosen == 0:
        raise PollError(_("Choose an option before you vote."))
    if poll.kind == PollKind.SINGLE and chosen > 1:
        raise PollError(_("This poll takes one choice."))
    with transaction.atomic():
        poll = Poll.objects.select_for_update().select_related("study").get(pk=poll.pk)
        state = poll.state()
        if state == PollState.UPCOMING:
            raise PollError(_("This poll is not open yet."), status=409)
        if state == PollState.CLOSED:
            raise PollError(_("This poll is closed: votes can no longer be cast or changed."), 409)
        valid = set(poll.options.values_list("pk", flat=True))
        if not set(ids) <= valid:
            raise PollError(_("That option does not belong to this poll."))
        vote = PollVote.objects.filter(poll=poll, voter=user).first()
        if vote is not None:
            current = set(vote.choices.values_list("option_id", flat=True))
            if current == set(ids) and vote.other_text == other_text:
                return vote, False
            # Each change is an event on every open page: changes count against
            # the person's posting limit (POSTING_RATE_LIMIT); a first vote does not.
            try:
                posting_rate_check(user=user)
            except RateLimited as error:
                raise PollError(
                    _("You are changing your vote too often. Try again in %(seconds)s s.")
                    % {"seconds": error.retry_after},
                    status=429,
                    retry_after=error.retry_after,
                ) from error
            vote.choices.all().delete()
            if vote.other_text != other_text:
                vote.text_hidden, vote.text_hidden_reason, vote.text_flags = False, "", 0
                TextFlag.objects.filter(vote=vote).delete()
            vote.other_text = other_text
            vote.changed_at = timezone.now()
            vote.save()
        else:
            try:
                with transaction.atomic():
                    vote = PollVote.objects.create(
                        poll=poll, voter=user, other_text=other_text, **snapshot(membership)
                    )
            except IntegrityError as error:  # only without the row lock (SQLite's, say)
                raise PollError(_("Your vote was already counted."), status=409) from error
        PollChoice.objects.bulk_create(PollChoice(vote=vote, option_id=i) for i in ids)
        Poll.objects.filter(pk=poll.pk).update(revision=F("revision") + 1)
        poll.refresh_from_db(fields=["revision"])
        publish_poll(poll=poll, kind="results")
    return vote, True


def vote_text_flag(*, vote: PollVote, user: User) -> bool:
    """A member flags an "other" text; False when they had flagged it already."""
    study = vote.poll.study
    if not can(study, membership_of(user, study), Action.CONTRIBUTE, user=user):
        raise PermissionDenied(_("Only members of this open study can flag."))
    if not vote.other_text or vote.text_hidden:
        raise PollError(_("There is no text to flag here."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                TextFlag.objects.create(vote=vote, flagged_by=user)
        except IntegrityError:
            return False
        PollVote.objects.filter(pk=vote.pk).update(text_flags=F("text_flags") + 1)
    return True


def text_hidden_set(
    *, row, hide: bool, reason: str, study, by, target_type: str, error=PollError
) -> None:
    """Hide a person's free text (a poll's "other", a survey answer) or show it again,
    in the caller's transaction, logged; refused with ``error`` (409) when it is so already."""
    if row.text_hidden == hide:
        raise error(
            _("This text is already hidden.") if hide else _("This text is not hidden."), 409
        )
    row.text_hidden, row.text_hidden_reason = hide, reason if hide else ""
    row.save(update_fields=["text_hidden", "text_hidden_reason"])
    log_action(
        study=study,
        actor=by,
        action=LogAction.TEXT_HIDE if hide else LogAction.TEXT_RESTORE,
        target_type=target_type,
        target_id=row.pk,
        reason=reason,
    )


def vote_text_moderate(*, vote: PollVote, by: User, hide: bool, reason: str = "") -> PollVote:
    """Hide or restore an "other" text. The vote still counts either way."""
    study = vote.poll.study
    _require_staff(study=study, user=by)
    reason = _text(reason, label=_("The reason"), max_length=REASON_MAX, required=hide)
    with transaction.atomic():
        vote = PollVote.objects.select_for_update().select_related("poll").get(pk=vote.pk)
        text_hidden_set(
            row=vote, hide=hide, reason=reason, study=study, by=by, target_type="poll_vote"
        )
        poll = vote.poll
        Poll.objects.filter(pk=poll.pk).update(revision=F("revision") + 1)
        poll.refresh_from_db(fields=["revision"])
        publish_poll(poll=poll, kind="edited")
    return vote
