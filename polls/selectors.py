"""Reads on polls: the permission-checked fetch, counts, and what one viewer may see."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404

from contributions.models import Comment, Contribution
from polls.models import Poll, PollChoice, PollOption, PollVote, ResponseStatus, SurveyResponse
from studies.access import FACILITATING, StudyAccess


def poll_for_access(*, access: StudyAccess, pk: int) -> Poll:
    """The poll ``pk`` of the study the caller may see (studies.access.study_for_user);
    404 for a poll of another study."""
    poll = Poll.objects.filter(study=access.study, pk=pk).select_related("study", "section").first()
    if poll is None:
        raise Http404("No such poll")
    poll.study = access.study  # the checked instance, with its membership's view
    return poll


def vote_for_access(*, access: StudyAccess, pk: int) -> PollVote:
    vote = (
        PollVote.objects.filter(poll__study=access.study, pk=pk)
        .select_related("poll", "poll__study")
        .first()
    )
    if vote is None:
        raise Http404("No such vote")
    return vote


@dataclass
class Counts:
    counts: dict[int, int]  # option id -> votes
    other: int
    voters: int


def poll_counts(*, poll: Poll) -> Counts:
    """Votes per option, "other" and voters, in two aggregate queries."""
    per_option = dict(
        PollChoice.objects.filter(vote__poll=poll)
        .values_list("option_id")
        .annotate(n=Count("id"))
        .values_list("option_id", "n")
    )
    figures = PollVote.objects.filter(poll=poll).aggregate(
        voters=Count("id"), other=Count("id", filter=~Q(other_text=""))
    )
    option_ids = PollOption.objects.filter(poll=poll).values_list("pk", flat=True)
    return Counts(
        counts={pk: per_option.get(pk, 0) for pk in option_ids},
        other=figures["other"],
        voters=figures["voters"],
    )


@dataclass
class OptionResult:
    option: PollOption
    votes: int
    percent: int


@dataclass
class PollView:
    """One poll as one viewer sees it."""

    poll: Poll
    options: list[PollOption]
    state: str
    my_option_ids: set[int] = field(default_factory=set)
    my_other: str = ""
    voted: bool = False
    can_vote: bool = False
    can_manage: bool = False
    results_visible: bool = False
    results: list[OptionResult] = field(default_factory=list)
    other_votes: int = 0
    voters: int = 0
    other_texts: list[PollVote] = field(default_factory=list)


def is_poll_staff(access: StudyAccess) -> bool:
    return access.role in FACILITATING and not access.is_blocked


def poll_view(*, poll: Poll, access: StudyAccess, user, can_vote: bool) -> PollView:
    """What ``user`` sees of ``poll``: their own vote and, only where they may, the results.

    Results: the study's facilitators and coordinators always; everyone while they
    are live, or once the poll has closed when so set; otherwise only a person who
    has voted.
    """
    options = list(poll.options.all())
    state = poll.state()
    view = PollView(poll=poll, options=options, state=state)
    view.can_manage = is_poll_staff(access)
    if user is not None and user.is_authenticated:
        vote = PollVote.objects.filter(poll=poll, voter=user).first()
        if vote is not None:
            view.voted = True
            view.my_option_ids = set(vote.choices.values_list("option_id", flat=True))
            view.my_other = vote.other_text
    view.can_vote = can_vote and state == "open"
    view.results_visible = (
        view.can_manage
        or poll.results_public_now()
        or (poll.results_shown == "after_vote" and view.voted)
    )
    if view.results_visible:
        counts = poll_counts(poll=poll)
        view.voters, view.other_votes = counts.voters, counts.other
        total = sum(counts.counts.values()) + counts.other
        view.results = [
            OptionResult(
                option=o,
                votes=counts.counts.get(o.pk, 0),
                percent=round(100 * counts.counts.get(o.pk, 0) / total) if total else 0,
            )
            for o in options
        ]
        texts = PollVote.objects.filter(poll=poll).exclude(other_text="").order_by("created_at")
        if not view.can_manage:
            texts = texts.filter(text_hidden=False)
        view.other_texts = list(texts[:50])
    return view


def study_polls(*, access: StudyAccess, section_id: int | None = None) -> list[Poll]:
    polls = Poll.objects.filter(study=access.study).select_related("section")
    if section_id is not None:
        polls = polls.filter(section_id__in=[section_id]) | polls.filter(section__isnull=True)
    return list(polls.prefetch_related("options").order_by("-created_at", "-id"))


def people_only_voted_or_answered(*, study_id: int) -> int:
    """People with a vote or a submitted survey response in the study and no counted
    contribution or comment: not participants (docs/statistics.md, "Polls and surveys").
    One query."""
    voted = PollVote.objects.filter(poll__study_id=study_id, voter_id=OuterRef("pk"))
    answered = SurveyResponse.objects.filter(
        survey__study_id=study_id, status=ResponseStatus.SUBMITTED, respondent_id=OuterRef("pk")
    )
    posted = Contribution.objects.filter(study_id=study_id, author_id=OuterRef("pk")).counted()
    commented = Comment.objects.filter(study_id=study_id, author_id=OuterRef("pk")).counted()
    return (
        get_user_model()
        .objects.filter(Exists(voted) | Exists(answered))
        .exclude(Exists(posted))
        .exclude(Exists(commented))
        .count()
    )


# --- surveys --------------------------------------------------------------------------


def survey_for_access(*, access: StudyAccess, pk: int):
    from polls.models import Survey

    survey = Survey.objects.filter(study=access.study, pk=pk).select_related("phase").first()
    if survey is None:
        raise Http404("No such survey")
    survey.study = access.study
    return survey


def answer_for_access(*, access: StudyAccess, pk: int):
    from polls.models import SurveyAnswer

    answer = (
        SurveyAnswer.objects.filter(response__survey__study=access.study, pk=pk)
        .select_related("response__survey")
        .first()
    )
    if answer is None:
        raise Http404("No such answer")
    answer.response.survey.study = access.study
    return answer


def study_surveys(*, study_id: int) -> list:
    from polls.models import Survey

    return list(Survey.objects.filter(study_id=study_id).select_related("phase"))


@dataclass
class QuestionResult:
    question: object
    answered: int  # submitted responses that answered it
    counts: list[tuple[str, int]]  # (choice label or scale value, count), in order
    mean: float | None = None
    texts: list = field(default_factory=list)  # SurveyAnswer rows with text (hidden ones too)


@dataclass
class SurveyResults:
    survey: object
    respondents: int
    questions: list[QuestionResult]


def survey_results(*, survey) -> SurveyResults:
    """Counts per choice and scale value over submitted responses, in aggregate queries
    (one per kind of figure), and the free-text answers."""
    from django.db.models import Avg

    from polls.models import (
        CHOICE_KINDS,
        SCALE_MAX,
        SCALE_MIN,
        QuestionKind,
        SurveyAnswer,
        SurveyChoice,
    )

    submitted = {"response__status": ResponseStatus.SUBMITTED, "response__survey": survey}
    respondents = SurveyResponse.objects.filter(
        survey=survey, status=ResponseStatus.SUBMITTED
    ).count()
    answered = dict(
        SurveyAnswer.objects.filter(**submitted)
        .values_list("question_id")
        .annotate(n=Count("id"))
        .values_list("question_id", "n")
    )
    choice_counts = dict(
        SurveyChoice.objects.filter(question__survey=survey)
        .annotate(
            n=Count(
                "answers",
                filter=Q(answers__response__status=ResponseStatus.SUBMITTED),
            )
        )
        .values_list("pk", "n")
    )
    scale_counts: dict[tuple[int, int], int] = {
        (q, v): n
        for q, v, n in SurveyAnswer.objects.filter(**submitted, scale__isnull=False)
        .values_list("question_id", "scale")
        .annotate(n=Count("id"))
        .values_list("question_id", "scale", "n")
    }
    means = dict(
        SurveyAnswer.objects.filter(**submitted, scale__isnull=False)
        .values_list("question_id")
        .annotate(m=Avg("scale"))
        .values_list("question_id", "m")
    )
    texts: dict[int, list] = {}
    for answer in (
        SurveyAnswer.objects.filter(**submitted)
        .exclude(text="")
        .select_related("response")
        .order_by("response__submitted_at", "id")
    ):
        texts.setdefault(answer.question_id, []).append(answer)
    results = []
    for question in survey.questions.prefetch_related("choices"):
        if question.kind in CHOICE_KINDS:
            counts = [(c.label, choice_counts.get(c.pk, 0)) for c in question.choices.all()]
        elif question.kind == QuestionKind.SCALE:
            counts = [
                (str(v), scale_counts.get((question.pk, v), 0))
                for v in range(SCALE_MIN, SCALE_MAX + 1)
            ]
        else:
            counts = []
        mean = means.get(question.pk)
        results.append(
            QuestionResult(
                question=question,
                answered=answered.get(question.pk, 0),
                counts=counts,
                mean=round(mean, 2) if mean is not None else None,
                texts=texts.get(question.pk, []),
            )
        )
    return SurveyResults(survey=survey, respondents=respondents, questions=results)
