"""Polls for tests."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from polls import services
from polls.models import ResultsShown
from studies.models import Role
from tests.contributions.factories import member
from tests.factories import give_mfa, login_as


def english() -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    return client


def client_for(user) -> Client:
    client = english()
    login_as(client, user)
    return client


def coordinator(study):
    return give_mfa(member(study, role=Role.COORDINATOR))


def make_poll(study, *, by=None, options=("Layered", "Microservices", "Monolith"), **kwargs):
    by = by or coordinator(study)
    kwargs.setdefault("results_shown", ResultsShown.LIVE)
    return services.poll_create(
        study=study, by=by, question="Which architecture?", options=list(options), **kwargs
    )


def make_survey(study, *, by=None, phase_id=None):
    from polls.survey_services import QuestionData, survey_create

    by = by or coordinator(study)
    return survey_create(
        study=study,
        by=by,
        title="End of phase",
        phase_id=phase_id,
        questions=[
            QuestionData(kind="single", text="Best part?", required=True, choices=["A", "B", "C"]),
            QuestionData(kind="multiple", text="Which apply?", choices=["X", "Y"]),
            QuestionData(kind="scale", text="How useful?", required=True),
            QuestionData(kind="short_text", text="One word"),
            QuestionData(kind="long_text", text="Anything else?"),
        ],
    )


def survey_values(survey, *, single=0, multiple=(), scale="4", short="", long=""):
    """Form values for make_survey's questions, by position."""
    q = list(survey.questions.prefetch_related("choices"))
    return {
        q[0].pk: [str(list(q[0].choices.all())[single].pk)] if single is not None else [],
        q[1].pk: [str(list(q[1].choices.all())[i].pk) for i in multiple],
        q[2].pk: [scale] if scale is not None else [],
        q[3].pk: [short],
        q[4].pk: [long],
    }


def post_as_coordinator(study, view: str, data: dict):
    """Post ``data`` to the study's ``view`` (a create form) as a new coordinator."""
    return client_for(coordinator(study)).post(reverse(view, kwargs={"slug": study.slug}), data)
