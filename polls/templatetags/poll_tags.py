"""Small includes for pages of other apps: the polls on a study page, the figure of
people who only voted or answered on the statistics page. Lower apps' templates
load these tags; their Python never imports polls."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from core.memory import Memory
from polls import selectors
from polls.extensions import survey_results_url_name
from studies.access import Action

register = template.Library()

# A study's polls and surveys as of its event number: every change to a poll
# and every new survey records a study event (polls/services.py,
# polls/survey_services.py), so for one number the rows never change.
# Whether a poll or survey is open now is worked out from them per request.
_rows = Memory("polls.study_rows", 512)


def _study_rows(access, section_id) -> tuple[list, list]:
    study = access.study
    return _rows.get_or_set(
        (study.pk, study.created_at, study.last_event_seq, section_id),
        lambda: (
            selectors.study_polls(access=access, section_id=section_id),
            selectors.study_surveys(study_id=study.pk),
        ),
    )


def study_has_polls(access) -> bool:
    """Whether the study has any poll or survey, as of its event number."""
    polls, surveys = _study_rows(access, None)
    return bool(polls or surveys)


@register.simple_tag(takes_context=True)
def study_polls(context, if_none: bool = False) -> SafeString:
    """The study's polls as this viewer may see them (context: access, request, filters).

    ``if_none``: only for a study with no polls or surveys at all (its empty section,
    which depends on the viewer's rights alone); nothing otherwise.
    """
    access, request = context.get("access"), context.get("request")
    if access is None or request is None:
        return SafeString("")
    if if_none and study_has_polls(access):
        return SafeString("")
    filters = context.get("filters") or {}
    section_id = filters.get("section_id") if hasattr(filters, "get") else None
    polls, every_survey = _study_rows(access, section_id)
    can_vote = access.can(Action.CONTRIBUTE, request.user)
    can_manage = selectors.is_poll_staff(access)
    can_set_up_surveys = access.can(Action.MANAGE, request.user)
    results_url = survey_results_url_name()
    surveys = [s for s in every_survey if s.is_open]
    views = [
        selectors.poll_view(poll=p, access=access, user=request.user, can_vote=can_vote)
        for p in polls
    ]
    return render_to_string(
        "polls/_study_polls.html",
        {
            "views": views,
            "study": access.study,
            "can_manage": can_manage,
            "can_vote": can_vote,
            "surveys": surveys,
            # Facilitators and coordinators: every survey's results.
            "result_surveys": every_survey if can_manage and results_url else [],
            "results_url": results_url,
            "can_set_up_surveys": can_set_up_surveys,
        },
        request=request,
    )


@register.simple_tag
def only_voted_or_answered(study) -> int:
    """People who only voted in a poll or answered a survey: not participants."""
    return selectors.people_only_voted_or_answered(study_id=study.pk)


@register.simple_tag
def answer_values(values: dict, question_id: int) -> list[str]:
    """The values a survey form shows for one question (saved draft or what was posted)."""
    return [str(v) for v in (values or {}).get(question_id, [])]


@register.simple_tag
def answer_error(errors: dict, question_id: int) -> str:
    return (errors or {}).get(question_id, "")
