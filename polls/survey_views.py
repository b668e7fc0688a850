"""Survey pages: set up (coordinators), answer with a saved draft (members), hide
free-text answers (facilitators). Results and exports are the reports app's
(reports/survey_views.py), which reuses the statistics page's charts and the
export writers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.params import whole_number
from polls import selectors
from polls.extensions import survey_results_url_name
from polls.forms import HideTextForm
from polls.models import QuestionKind, ResponseStatus, SurveyResponse
from polls.survey_services import (
    QuestionData,
    SurveyError,
    answer_text_moderate,
)
from polls.survey_services import (
    survey_answer as survey_answer_service,
)
from polls.survey_services import (
    survey_create as survey_create_service,
)
from studies.access import Action, study_for_user
from studies.models import Phase

QUESTION_ROWS = 8


@login_required
@require_GET
def survey_manage(request: HttpRequest, slug: str) -> HttpResponse:
    """The study's surveys for its coordinators: answers so far, results, exports."""
    access = study_for_user(request.user, slug, Action.MANAGE)
    surveys = selectors.study_surveys(study_id=access.study.pk)
    counts = {
        s.pk: SurveyResponse.objects.filter(survey=s, status=ResponseStatus.SUBMITTED).count()
        for s in surveys
    }
    rows = [(s, counts[s.pk]) for s in surveys]
    return render(
        request,
        "polls/surveys.html",
        {"study": access.study, "rows": rows, "results_url": survey_results_url_name()},
    )


def _question_rows(post=None) -> list[dict]:
    rows = []
    for i in range(QUESTION_ROWS):
        rows.append(
            {
                "i": i,
                "kind": (post or {}).get(f"q{i}_kind", ""),
                "text": (post or {}).get(f"q{i}_text", ""),
                "required": (post or {}).get(f"q{i}_required") == "1",
                "choices": (post or {}).get(f"q{i}_choices", ""),
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def survey_create(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MANAGE)
    study = access.study
    phases = list(Phase.objects.filter(study=study).order_by("starts_at"))
    context = {
        "study": study,
        "phases": phases,
        "kinds": QuestionKind.choices,
        "rows": _question_rows(),
        "values": {},
    }
    if request.method == "GET":
        return render(request, "polls/survey_form.html", context)
    rows = _question_rows(request.POST)
    questions = [
        QuestionData(
            kind=row["kind"],
            text=row["text"],
            required=row["required"],
            choices=row["choices"].splitlines(),
        )
        for row in rows
        if row["text"].strip()
    ]
    phase_raw = request.POST.get("phase", "")
    context.update(rows=rows, values=request.POST)
    phase_id = whole_number(phase_raw)
    if phase_raw and phase_id is None:
        context["error"] = _("Choose a phase of this study.")
        return render(request, "polls/survey_form.html", context, status=422)
    try:
        survey_create_service(
            study=study,
            by=request.user,
            title=request.POST.get("title", ""),
            intro=request.POST.get("intro", ""),
            phase_id=phase_id,
            questions=questions,
        )
    except SurveyError as error:
        context["error"] = error.message
        return render(request, "polls/survey_form.html", context, status=error.status)
    return redirect("polls:surveys", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A member answers a survey: "Save draft" keeps what they have, "Submit" is final."""
    access = study_for_user(request.user, slug)
    if not access.can(Action.CONTRIBUTE, request.user):
        raise PermissionDenied(_("Only members of this open study can answer its surveys."))
    survey = selectors.survey_for_access(access=access, pk=pk)
    questions = list(survey.questions.prefetch_related("choices"))
    response = (
        SurveyResponse.objects.filter(survey=survey, respondent=request.user)
        .prefetch_related("answers__choices")
        .first()
    )
    saved: dict[int, list[str]] = {}
    if response is not None:
        for answer in response.answers.all():
            values = [str(c.pk) for c in answer.choices.all()]
            if answer.scale is not None:
                values.append(str(answer.scale))
            if answer.text:
                values.append(answer.text)
            saved[answer.question_id] = values
    context = {
        "study": access.study,
        "survey": survey,
        "questions": questions,
        "response": response,
        "values": saved,
        "errors": {},
        "scale": [1, 2, 3, 4, 5],
    }
    if request.method == "GET":
        return render(request, "polls/survey_answer.html", context)
    values = {q.pk: request.POST.getlist(f"q{q.pk}") for q in questions}
    submit = "submit" in request.POST
    try:
        survey_answer_service(
            survey=survey,
            user=request.user,
            values=values,
            submit=submit,
            membership=access.membership,
        )
    except SurveyError as error:
        context.update(values=values, errors=error.errors, error=error.message)
        return render(request, "polls/survey_answer.html", context, status=error.status)
    context["saved_message"] = (
        _("Thank you: your answers are submitted.") if submit else _("Your draft is saved.")
    )
    context["response"] = SurveyResponse.objects.get(survey=survey, respondent=request.user)
    context["values"] = values
    return render(request, "polls/survey_answer.html", context)


@login_required
@require_POST
def answer_hide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Hide or restore a free-text answer (facilitators and coordinators)."""
    access = study_for_user(request.user, slug, Action.MODERATE)
    answer = selectors.answer_for_access(access=access, pk=pk)
    form = HideTextForm(request.POST)
    message = ""
    status = 200
    if not form.is_valid():
        message, status = _("Choose hide or restore."), 422
    else:
        try:
            answer_text_moderate(
                answer=answer,
                by=request.user,
                hide=form.cleaned_data["action"] == "hide",
                reason=form.cleaned_data["reason"],
            )
        except SurveyError as error:
            message, status = error.message, error.status
    if status != 200:
        return render(
            request,
            "contributions/refusal_page.html",
            {"message": message, "study": access.study},
            status=status,
        )
    return redirect("reports:survey_results", slug=slug, pk=answer.response.survey_id)
