"""Surveys: set up by coordinators, answered once per member with a saved draft, bad input."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from moderation.models import ModerationLog
from polls.models import ResponseStatus, SurveyAnswer, SurveyResponse
from polls.selectors import people_only_voted_or_answered, survey_results
from polls.survey_services import QuestionData, SurveyError, survey_answer, survey_create
from studies.models import Phase, Role
from tests.contributions.factories import member, organisation
from tests.factories import StudyFactory, give_mfa
from tests.polls.factories import (
    client_for,
    coordinator,
    english,
    make_survey,
    post_as_coordinator,
    survey_values,
)

pytestmark = pytest.mark.django_db


def post_values(values: dict, *, submit: bool) -> dict:
    data = {f"q{pk}": v for pk, v in values.items()}
    data["submit" if submit else "draft"] = "1"
    return data


def url(survey):
    return reverse("polls:survey", kwargs={"slug": survey.study.slug, "pk": survey.pk})


def test_coordinator_sets_up_a_survey_through_the_form():
    study = StudyFactory()
    response = post_as_coordinator(
        study,
        "polls:survey_create",
        {
            "title": "Phase 1",
            "q0_text": "Pick",
            "q0_kind": "single",
            "q0_required": "1",
            "q0_choices": "A\nB",
            "q1_text": "Rate",
            "q1_kind": "scale",
        },
    )
    assert response.status_code == 302
    survey = study.surveys.get()
    assert [q.kind for q in survey.questions.all()] == ["single", "scale"]


def test_a_choice_question_with_one_choice_is_refused_and_nothing_saved():
    study = StudyFactory()
    response = post_as_coordinator(
        study,
        "polls:survey_create",
        {"title": "S", "q0_text": "Pick", "q0_kind": "single", "q0_choices": "Only"},
    )
    assert response.status_code == 422
    assert "at least two choices" in response.content.decode()
    assert not study.surveys.exists()


def test_facilitators_and_members_cannot_set_up_surveys():
    study = StudyFactory()
    for role in (Role.FACILITATOR, Role.CONTRIBUTOR):
        with pytest.raises(PermissionDenied):
            survey_create(
                study=study,
                by=give_mfa(member(study, role=role)),
                title="S",
                questions=[QuestionData(kind="scale", text="Rate")],
            )


def _phase(study, title: str, *, days: tuple[int, int]) -> Phase:
    """A phase from ``days[0]`` to ``days[1]`` days from now."""
    now = timezone.now()
    return Phase.objects.create(
        study=study,
        title=title,
        starts_at=now + timezone.timedelta(days=days[0]),
        ends_at=now + timezone.timedelta(days=days[1]),
    )


def test_one_survey_per_phase():
    study = StudyFactory()
    phase = _phase(study, "P1", days=(-1, 1))
    make_survey(study, phase_id=phase.pk)
    with pytest.raises(SurveyError):
        make_survey(study, phase_id=phase.pk)


def test_a_draft_is_saved_then_submitted_once_with_the_organisation_snapshot():
    study = StudyFactory()
    survey = make_survey(study)
    org = organisation()
    person = member(study, organisation=org)
    client = client_for(person)
    values = survey_values(survey, scale=None, short="draft word")
    assert client.post(url(survey), post_values(values, submit=False)).status_code == 200
    draft = SurveyResponse.objects.get()
    assert draft.status == ResponseStatus.DRAFT
    page = client.get(url(survey)).content.decode()
    assert 'value="draft word"' in page
    values = survey_values(survey, multiple=(0, 1), short="final", long="=HYPERLINK(1)")
    response = client.post(url(survey), post_values(values, submit=True))
    assert response.status_code == 200
    submitted = SurveyResponse.objects.get()
    assert submitted.status == ResponseStatus.SUBMITTED
    assert submitted.acted_for == org and submitted.acted_for_sector == org.sector
    again = client.post(url(survey), post_values(values, submit=True))
    assert again.status_code == 409
    assert SurveyResponse.objects.count() == 1
    assert SurveyAnswer.objects.filter(response=submitted).count() == 5


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        pytest.param({"scale": None}, "This question needs an answer.", id="required-missing"),
        pytest.param({"short": "a\x00b"}, "Null characters are not allowed.", id="null-character"),
    ],
)
def test_a_bad_answer_is_refused_and_nothing_saved(answers, message):
    study = StudyFactory()
    survey = make_survey(study)
    response = client_for(member(study)).post(
        url(survey), post_values(survey_values(survey, **answers), submit=True)
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("scale", ["0", "6", "3.5", "-1", "x"])
def test_a_scale_value_out_of_range_is_refused(scale):
    study = StudyFactory()
    survey = make_survey(study)
    response = client_for(member(study)).post(
        url(survey), post_values(survey_values(survey, scale=scale), submit=False)
    )
    assert response.status_code == 422
    assert "from 1 to 5" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_choice_of_another_question_is_refused():
    study = StudyFactory()
    survey = make_survey(study)
    values = survey_values(survey)
    questions = list(survey.questions.all())
    values[questions[0].pk] = [str(questions[1].choices.first().pk)]
    with pytest.raises(SurveyError) as error:
        survey_answer(survey=survey, user=member(study), values=values, submit=True)
    assert questions[0].pk in error.value.errors
    assert not SurveyResponse.objects.exists()


def test_a_survey_outside_its_phase_is_closed():
    study = StudyFactory()
    phase = _phase(study, "Later", days=(1, 2))
    survey = make_survey(study, phase_id=phase.pk)
    with pytest.raises(SurveyError) as error:
        survey_answer(survey=survey, user=member(study), values=survey_values(survey), submit=True)
    assert error.value.status == 409


def test_outsiders_cannot_answer():
    from tests.factories import UserFactory

    study = StudyFactory()
    survey = make_survey(study)
    assert client_for(UserFactory()).get(url(survey)).status_code == 403
    assert english().get(url(survey)).status_code == 302


def test_results_count_submitted_answers_only_and_hidden_text_still_counts():
    study = StudyFactory()
    boss = coordinator(study)
    survey = make_survey(study, by=boss)
    for i in range(3):
        survey_answer(
            survey=survey,
            user=member(study),
            values=survey_values(survey, single=i % 2, scale=str(i + 2), long=f"text {i}"),
            submit=True,
        )
    survey_answer(survey=survey, user=member(study), values=survey_values(survey), submit=False)
    results = survey_results(survey=survey)
    assert results.respondents == 3
    assert results.questions[0].counts == [("A", 2), ("B", 1), ("C", 0)]
    assert results.questions[2].mean == 3.0
    answer = SurveyAnswer.objects.filter(text="text 1").get()
    hide = reverse("polls:survey_answer_hide", kwargs={"slug": study.slug, "pk": answer.pk})
    assert (
        client_for(member(study)).post(hide, {"action": "hide", "reason": "x"}).status_code == 403
    )
    assert (
        client_for(boss).post(hide, {"action": "hide", "reason": "names a person"}).status_code
        == 302
    )
    answer.refresh_from_db()
    assert answer.text_hidden
    assert survey_results(survey=survey).questions[4].answered == 3
    assert ModerationLog.objects.filter(target_type="survey_answer", action="text_hide").exists()
    page = client_for(boss).get(
        reverse("reports:survey_results", kwargs={"slug": study.slug, "pk": survey.pk})
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'role="img"' in html and "<table" in html and '<caption id="table-question-' in html


def test_only_answering_a_survey_is_not_participation():
    study = StudyFactory()
    survey = make_survey(study)
    person = member(study)
    survey_answer(survey=survey, user=person, values=survey_values(survey), submit=False)
    assert people_only_voted_or_answered(study_id=study.pk) == 0  # a draft does not count
    survey_answer(survey=survey, user=person, values=survey_values(survey), submit=True)
    assert people_only_voted_or_answered(study_id=study.pk) == 1


def test_the_study_page_invites_members_to_answer_and_shows_staff_the_results():
    study = StudyFactory()
    survey = make_survey(study)
    page = reverse("study_detail", kwargs={"slug": study.slug})
    member_html = client_for(member(study)).get(page).content.decode()
    assert url(survey) in member_html and "Answer the survey" in member_html
    assert "/results/" not in member_html
    facilitator = give_mfa(member(study, role=Role.FACILITATOR))
    results = reverse("reports:survey_results", kwargs={"slug": study.slug, "pk": survey.pk})
    assert results in client_for(facilitator).get(page).content.decode()
    assert "Answer the survey" not in english().get(page).content.decode()
