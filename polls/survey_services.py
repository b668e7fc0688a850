"""Writes on surveys: set one up, answer it (a saved draft, then one submission), hide
free-text answers.

Answers are checked whole before the first write, so a refused submission
(a required answer missing, a scale value out of range, a choice of another
question) saves nothing, not even the draft part; the person gets one message
per question.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.params import whole_number
from polls.models import (
    CHOICE_KINDS,
    SCALE_MAX,
    SCALE_MIN,
    QuestionKind,
    ResponseStatus,
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
)
from polls.services import REASON_MAX, PollError, _text, snapshot, text_hidden_set
from studies import events
from studies.access import Action, can, membership_of
from studies.models import Membership, Phase, Study

MAX_QUESTIONS = 20
MAX_CHOICES = 12
SHORT_TEXT_MAX, LONG_TEXT_MAX = 200, 5000


class SurveyError(PollError):
    """A refused survey write; ``errors`` maps question ids to messages. Nothing saved."""

    def __init__(self, message: str, status: int = 422, errors: dict | None = None) -> None:
        super().__init__(message, status)
        self.errors = errors or {}


@dataclass
class QuestionData:
    kind: str
    text: str
    required: bool = False
    choices: list[str] = field(default_factory=list)


def survey_create(
    *,
    study: Study,
    by: User,
    title: str,
    questions: list[QuestionData],
    intro: str = "",
    phase_id: int | None = None,
) -> Survey:
    """A survey for the study or one of its phases (one per phase), set up by a coordinator."""
    if not can(study, membership_of(by, study), Action.MANAGE, user=by):
        raise PermissionDenied(_("Only the study's coordinators set up surveys."))
    title = _text(title, label=_("The title"), max_length=200)
    intro = _text(intro, label=_("The introduction"), max_length=2000, required=False)
    if not questions:
        raise SurveyError(_("A survey needs at least one question."))
    if len(questions) > MAX_QUESTIONS:
        raise SurveyError(
            _("A survey can have at most %(max)d questions.") % {"max": MAX_QUESTIONS}
        )
    for number, question in enumerate(questions, 1):
        if question.kind not in QuestionKind.values:
            raise SurveyError(_("Question %(n)d: choose a kind of question.") % {"n": number})
        _text(question.text, label=_("Question %(n)d") % {"n": number}, max_length=300)
        labels = [c.strip() for c in question.choices if c.strip()]
        if question.kind in CHOICE_KINDS:
            if len(labels) < 2:
                raise SurveyError(
                    _("Question %(n)d needs at least two choices, one per line.") % {"n": number}
                )
            if len(labels) > MAX_CHOICES or any(len(c) > 200 for c in labels):
                raise SurveyError(
                    _("Question %(n)d: at most %(max)d choices of up to 200 characters.")
                    % {"n": number, "max": MAX_CHOICES}
                )
        question.choices = labels if question.kind in CHOICE_KINDS else []
    phase = None
    if phase_id is not None:
        phase = Phase.objects.filter(study=study, pk=phase_id).first()
        if phase is None:
            raise SurveyError(_("Choose a phase of this study."))
        if Survey.objects.filter(phase=phase).exists():
            raise SurveyError(_("This phase has a survey already."), status=409)
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                study=study, phase=phase, title=title, intro=intro, created_by=by
            )
            for order, data in enumerate(questions):
                question = SurveyQuestion.objects.create(
                    survey=survey,
                    order=order,
                    kind=data.kind,
                    text=data.text.strip(),
                    required=data.required,
                )
                SurveyChoice.objects.bulk_create(
                    SurveyChoice(question=question, order=i, label=label)
                    for i, label in enumerate(data.choices)
                )
            # The study page lists open surveys and is kept per event number
            # (contributions/page.py): a new survey is a study event.
            events.record_event(
                study_id=study.pk,
                kind="survey.created",
                key=f"survey-{survey.pk}",
                data={"item_type": "survey", "item_id": survey.pk},
            )
    except IntegrityError as error:  # two coordinators at once for one phase
        raise SurveyError(_("This phase has a survey already."), status=409) from error
    return survey


@dataclass
class CleanAnswer:
    question: SurveyQuestion
    choice_ids: list[int] = field(default_factory=list)
    scale: int | None = None
    text: str = ""

    @property
    def empty(self) -> bool:
        return not self.choice_ids and self.scale is None and not self.text


def _ids(values: list) -> list[int] | None:
    out = []
    for value in values:
        number = whole_number(value)
        if number is None:
            return None
        out.append(number)
    return out


def _clean(question: SurveyQuestion, raw: list[str], valid_choices: set[int]) -> CleanAnswer:
    """One question's answer from the form's values; SurveyError(message) when it is wrong."""
    raw = [v for v in raw if isinstance(v, str)]
    answer = CleanAnswer(question=question)
    values = [v.strip() for v in raw if v.strip()]
    if question.kind in CHOICE_KINDS:
        ids = _ids(values)
        if ids is None or not set(ids) <= valid_choices or len(set(ids)) != len(ids):
            raise SurveyError(_("Choose among this question's choices."))
        if question.kind == QuestionKind.SINGLE and len(ids) > 1:
            raise SurveyError(_("This question takes one choice."))
        answer.choice_ids = ids
    elif question.kind == QuestionKind.SCALE:
        if len(values) > 1:
            raise SurveyError(_("Choose one value on the scale."))
        if values:
            if whole_number(values[0], minimum=SCALE_MIN, maximum=SCALE_MAX) is None:
                raise SurveyError(
                    _("Choose a whole number from %(min)d to %(max)d.")
                    % {"min": SCALE_MIN, "max": SCALE_MAX}
                )
            answer.scale = whole_number(values[0])
    else:
        limit = SHORT_TEXT_MAX if question.kind == QuestionKind.SHORT_TEXT else LONG_TEXT_MAX
        text = raw[0].strip() if raw else ""
        if "\x00" in text:
            raise SurveyError(_("Null characters are not allowed."))
        if len(raw) > 1:
            raise SurveyError(_("Write one answer."))
        if len(text) > limit:
            raise SurveyError(
                _("At most %(max)d characters (this is %(length)d).")
                % {"max": limit, "length": len(text)}
            )
        answer.text = text
    return answer


def survey_answer(
    *,
    survey: Survey,
    user: User,
    values: dict[int, list[str]],
    submit: bool,
    membership: Membership | None = None,
) -> SurveyResponse:
    """Save ``user``'s draft or submit their answers (``values``: question id -> form values).

    Answered once per member: a submitted response is final. Everything is checked
    before the first write.
    """
    study = survey.study
    if membership is None or membership.user_id != user.pk or membership.study_id != study.pk:
        membership = membership_of(user, study)
    if not can(study, membership, Action.CONTRIBUTE, user=user):
        raise PermissionDenied(_("Only members of this open study can answer its surveys."))
    if not survey.is_open:
        raise SurveyError(_("This survey is not open now."), status=409)
    questions = list(survey.questions.prefetch_related("choices"))
    errors: dict[int, str] = {}
    clean: list[CleanAnswer] = []
    for question in questions:
        valid = {c.pk for c in question.choices.all()}
        try:
            answer = _clean(question, values.get(question.pk, []), valid)
        except SurveyError as error:
            errors[question.pk] = error.message
            continue
        if submit and question.required and answer.empty:
            errors[question.pk] = _("This question needs an answer.")
            continue
        clean.append(answer)
    if errors:
        raise SurveyError(
            _("Nothing was saved. Please correct the answers marked below."), errors=errors
        )
    with transaction.atomic():
        response = (
            SurveyResponse.objects.select_for_update()
            .filter(survey=survey, respondent=user)
            .first()
        )
        if response is None:
            try:
                with transaction.atomic():
                    response = SurveyResponse.objects.create(
                        survey=survey, respondent=user, **snapshot(membership)
                    )
            except IntegrityError:
                response = SurveyResponse.objects.select_for_update().get(
                    survey=survey, respondent=user
                )
        if response.status == ResponseStatus.SUBMITTED:
            raise SurveyError(_("You have answered this survey already."), status=409)
        response.answers.all().delete()
        for answer in clean:
            if answer.empty:
                continue
            row = SurveyAnswer.objects.create(
                response=response,
                question=answer.question,
                scale=answer.scale,
                text=answer.text,
            )
            if answer.choice_ids:
                row.choices.set(answer.choice_ids)
        if submit:
            response.status = ResponseStatus.SUBMITTED
            response.submitted_at = timezone.now()
            response.save(update_fields=["status", "submitted_at"])
    return response


def answer_text_moderate(*, answer: SurveyAnswer, by: User, hide: bool, reason: str = "") -> None:
    """Hide or restore a free-text answer: it leaves results pages and exports' text, never
    the counts. Written to the moderation log."""
    study = answer.response.survey.study
    if not can(study, membership_of(by, study), Action.MODERATE, user=by):
        raise PermissionDenied(_("Only the study's facilitators and coordinators hide answers."))
    reason = _text(reason, label=_("The reason"), max_length=REASON_MAX, required=hide)
    with transaction.atomic():
        answer = SurveyAnswer.objects.select_for_update().get(pk=answer.pk)
        if not answer.text:
            raise SurveyError(_("There is no text to hide here."))
        text_hidden_set(
            row=answer,
            hide=hide,
            reason=reason,
            study=study,
            by=by,
            target_type="survey_answer",
            error=SurveyError,
        )
