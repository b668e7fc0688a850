"""Survey answers exported in three tiers as CSV, XLSX and JSON, parsed back."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from moderation.models import LogAction, ModerationLog
from polls.models import SurveyAnswer
from polls.survey_services import answer_text_moderate, survey_answer
from reports.statistics import DEFINITIONS_VERSION
from reports.survey_exports import HIDDEN_TEXT, suppress
from studies.models import Membership
from tests.contributions.factories import member
from tests.factories import StudyFactory, login_as
from tests.polls.factories import coordinator, make_survey, survey_values

pytestmark = pytest.mark.django_db


def _download(client, survey, tier, fmt):
    return client.get(
        reverse("reports:survey_export", kwargs={"slug": survey.study.slug, "pk": survey.pk}),
        {"tier": tier, "format": fmt},
    )


def _csv_sheets(content: bytes) -> dict[str, list[list[str]]]:
    sheets: dict[str, list[list[str]]] = {}
    current = None
    for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))):
        if len(row) == 1 and row[0].startswith("[") and row[0].endswith("]"):
            current = sheets.setdefault(row[0][1:-1], [])
        elif row and current is not None:
            current.append(row)
    return sheets


@pytest.fixture
def answered():
    study = StudyFactory(small_count_threshold=3)
    boss = coordinator(study)
    survey = make_survey(study, by=boss)
    people = [member(study) for _ in range(5)]
    choices = [0, 0, 0, 0, 1]  # A: 4, B: 1, C: 0
    for person, single in zip(people, choices, strict=True):
        survey_answer(
            survey=survey,
            user=person,
            values=survey_values(survey, single=single, long=f"=cmd| text of {person.pk}"),
            submit=True,
        )
    Membership.objects.filter(user=people[0]).update(consent_named=True)
    secret = SurveyAnswer.objects.get(text=f"=cmd| text of {people[1].pk}")
    answer_text_moderate(answer=secret, by=boss, hide=True, reason="personal data")
    return study, boss, survey, people


def test_suppression_never_leaves_a_single_hidden_cell():
    assert suppress([4, 1, 0], 3) == [4, "<3", "<3"]
    assert suppress([5, 2, 2], 3) == [5, "<3", "<3"]
    assert suppress([5, 4, 0], 3) == [5, 4, 0]
    assert suppress([1, 2], 1) == [1, 2]


def test_aggregate_csv_suppresses_small_counts_and_carries_no_text(answered):
    study, boss, survey, _people = answered
    response = _download(_client(boss), survey, "aggregate", "csv")
    assert response.status_code == 200
    sheets = _csv_sheets(response.content)
    summary = dict(sheets["Summary"][1:])
    assert summary["respondents"] == "5"
    assert summary["definitions_version"] == str(DEFINITIONS_VERSION)
    rows = [r for r in sheets["Counts"][1:] if r[0] == "1"]
    assert [(r[4], r[5]) for r in rows] == [("A", "4"), ("B", "<3"), ("C", "<3")]
    assert "text of" not in response.content.decode("utf-8-sig")
    assert "Answers" not in sheets


def _client(user):
    client = Client()
    client.cookies["django_language"] = "en"
    login_as(client, user)
    return client


def test_pseudonymous_json_has_a_row_per_response_and_hidden_text_drops_out(answered):
    study, boss, survey, people = answered
    data = json.loads(_download(_client(boss), survey, "pseudonymous", "json").content)
    assert data["respondents"] == 5 and data["tier"] == "pseudonymous"
    assert len(data["answers"]) == 5
    assert all(row["pseudonym"].startswith("P-") for row in data["answers"])
    texts = [row["q5"] for row in data["answers"]]
    assert HIDDEN_TEXT in texts
    assert f"=cmd| text of {people[1].pk}" not in json.dumps(data)
    counts = [c for c in data["counts"] if c["question_number"] == 1]
    assert [c["count"] for c in counts] == [4, 1, 0]  # exact beyond the aggregate tier
    assert [c for c in data["counts"] if c["question_number"] == 5][0]["answered"] == 5


def test_pseudonymous_csv_escapes_formulas(answered):
    study, boss, survey, people = answered
    content = _download(_client(boss), survey, "pseudonymous", "csv").content.decode("utf-8-sig")
    assert f"'=cmd| text of {people[0].pk}" in content
    assert ",=cmd| text of" not in content


def test_named_xlsx_names_only_those_who_consented_and_is_logged(answered):
    from openpyxl import load_workbook

    study, boss, survey, people = answered
    response = _download(_client(boss), survey, "named", "xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook["Answers"].values)
    assert rows[0][:2] == ("name", "email")
    assert [r[1] for r in rows[1:]] == [people[0].email]
    assert rows[1][-1] == f"'=cmd| text of {people[0].pk}"
    log = ModerationLog.objects.get(action=LogAction.EXPORT_NAMED, target_type="survey")
    assert log.details["named_people"] == 1 and log.details["left_out_people"] == 4


@pytest.mark.parametrize("tier, fmt", [("everything", "csv"), ("aggregate", "pdf")])
def test_an_unknown_tier_or_format_is_refused(answered, tier, fmt):
    _study, boss, survey, _people = answered
    response = _download(_client(boss), survey, tier, fmt)
    assert response.status_code == 400
    assert (tier if tier == "everything" else fmt) in response.content.decode()


def test_only_coordinators_export_survey_answers(answered):
    from studies.models import Role
    from tests.factories import give_mfa

    study, _boss, survey, people = answered
    facilitator = give_mfa(member(study, role=Role.FACILITATOR))
    assert _download(_client(facilitator), survey, "aggregate", "csv").status_code == 403
    assert _download(_client(people[0]), survey, "aggregate", "csv").status_code == 403


def test_survey_rows_name_an_organisation_only_through_a_confirmed_claim():
    from accounts.models import Sector
    from accounts.services import affiliation_add
    from tests.factories import AffiliationFactory, OrganisationFactory, UserFactory

    study = StudyFactory(small_count_threshold=1)
    boss = coordinator(study)
    survey = make_survey(study, by=boss)
    confirmed = OrganisationFactory(name="Confirmed Agency", sector=Sector.PUBLIC)
    claimed = OrganisationFactory(name="Claimed Company", sector=Sector.PRIVATE)
    first, second = UserFactory(), UserFactory()
    AffiliationFactory(user=first, organisation=confirmed)
    affiliation_add(user=second, organisation=claimed)  # pending
    for person, org in ((first, confirmed), (second, claimed)):
        Membership.objects.create(study=study, user=person, organisation=org)
        survey_answer(survey=survey, user=person, values=survey_values(survey), submit=True)
    data = json.loads(_download(_client(boss), survey, "pseudonymous", "json").content)
    rows = {(row["organisation"], row["sector"]) for row in data["answers"]}
    assert rows == {("Confirmed Agency", "public"), ("", "unconfirmed")}
    assert "Claimed Company" not in json.dumps(data)
