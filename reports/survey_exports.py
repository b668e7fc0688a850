"""Survey answers as export files: aggregate, pseudonymous and named (with consent), each
as CSV, XLSX or JSON, through the statistics exports' writers (formula escaping
included) and their small-count rule.

- **Aggregate** (safe to publish): respondents, and per question the count of
  each choice or scale value. Counts from 1 to k−1 (k: the study's small-count
  threshold) are shown as "<k"; where a question would have exactly one such
  cell, its smallest other cell is suppressed too, so no hidden count follows
  from the ones shown (complementary suppression). No free text.
- **Pseudonymous**: a row per submitted response, with the stable per-study
  pseudonym of the statistics exports, the organisation snapshot (named only
  through the respondent's confirmed claim, as in the statistics; sector
  "unconfirmed" otherwise, "individual" after a refusal), the week it was
  submitted and each answer. A hidden free-text answer is exported as
  "[hidden]": it drops out of the text, never out of the counts.
- **Named**: the same rows with name and e-mail, only for members who consented
  to be named; written to the moderation log.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.utils import timezone

from accounts.models import Affiliation, ClaimState
from moderation.models import LogAction
from moderation.services import log_action
from polls.models import QuestionKind, ResponseStatus, Survey, SurveyResponse
from polls.selectors import survey_results
from reports.exports import check_kind, pseudonym, write_csv_sheets, write_xlsx_sheets
from reports.models import ExportFormat, ExportTier
from reports.statistics import DEFINITIONS_VERSION, UNCONFIRMED
from studies.models import Membership

HIDDEN_TEXT = "[hidden]"
SUMMARY, COUNTS, ANSWERS = "Summary", "Counts", "Answers"
COUNT_COLUMNS = ["question_number", "question", "kind", "answered", "value", "count"]


def suppress(counts: list[int], threshold: int) -> list[int | str]:
    """Counts 1..threshold−1 as "<k"; never exactly one suppressed cell in a group."""
    if threshold <= 1:
        return list(counts)
    shown: list[int | str] = list(counts)
    hidden = [i for i, n in enumerate(counts) if 0 < n < threshold]
    if len(hidden) == 1 and len(counts) > 1:
        others = sorted((n, i) for i, n in enumerate(counts) if i not in hidden)
        hidden.append(others[0][1])
    for i in hidden:
        shown[i] = f"<{threshold}"
    return shown


def _count_rows(survey: Survey, tier: str, threshold: int) -> tuple[int, list[list[Any]]]:
    results = survey_results(survey=survey)
    rows = []
    for number, result in enumerate(results.questions, 1):
        q = result.question
        counts = [n for _label, n in result.counts]
        shown = suppress(counts, threshold) if tier == ExportTier.AGGREGATE else counts
        for (label, _n), value in zip(result.counts, shown, strict=True):
            rows.append([number, q.text, q.kind, result.answered, label, value])
        mean_shown = tier != ExportTier.AGGREGATE or result.answered >= threshold
        if q.kind == QuestionKind.SCALE and result.mean is not None and mean_shown:
            rows.append([number, q.text, q.kind, result.answered, "mean", result.mean])
        if q.kind in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT):
            rows.append([number, q.text, q.kind, result.answered, "text_answers", result.answered])
    return results.respondents, rows


def _answer_value(answer) -> Any:
    if answer.question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return "; ".join(c.label for c in answer.choices.all())
    if answer.question.kind == QuestionKind.SCALE:
        return answer.scale
    return HIDDEN_TEXT if answer.text_hidden else answer.text


CLAIM_RANK = {"": 0, ClaimState.REFUSED: 1, ClaimState.PENDING: 2, ClaimState.CONFIRMED: 3}


def _response_rows(survey: Survey, tier: str) -> tuple[list[str], list[list[Any]], int]:
    questions = list(survey.questions.all())
    responses = (
        SurveyResponse.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED)
        .select_related("respondent", "acted_for")
        .prefetch_related("answers__choices", "answers__question")
        .order_by("submitted_at", "id")
    )
    consenting = set(
        Membership.objects.filter(study=survey.study, consent_named=True).values_list(
            "user_id", flat=True
        )
    )
    person = ["name", "email"] if tier == ExportTier.NAMED else ["pseudonym"]
    columns = [
        *person,
        "organisation",
        "org_number",
        "sector",
        "submitted_week",
        *[f"q{n}" for n in range(1, len(questions) + 1)],
    ]
    rows = []
    left_out = 0
    responses = list(responses)
    # As in the statistics (definitions version 2): an organisation is named only
    # through the respondent's confirmed claim; unconfirmed, the row says so
    # without naming it; refused, the respondent answered as themselves.
    claims: dict[tuple[int, int], str] = {}
    for user_id, org_id, merged_into, state in Affiliation.objects.filter(
        user_id__in={r.respondent_id for r in responses}
    ).values_list("user_id", "organisation_id", "organisation__merged_into_id", "state"):
        for key in ((user_id, org_id), (user_id, merged_into)):
            if key[1] is not None and CLAIM_RANK[state] > CLAIM_RANK[claims.get(key, "")]:
                claims[key] = state
    for response in responses:
        if tier == ExportTier.NAMED:
            if response.respondent_id not in consenting:
                left_out += 1
                continue
            who = [response.respondent.public_name, response.respondent.email]
        else:
            who = [pseudonym(study_id=survey.study_id, user_id=response.respondent_id)]
        org, sector = response.acted_for, response.acted_for_sector or "individual"
        if org is not None:
            state = claims.get((response.respondent_id, org.pk), ClaimState.PENDING)
            if state == ClaimState.REFUSED:
                org, sector = None, "individual"
            elif state != ClaimState.CONFIRMED:
                org, sector = None, UNCONFIRMED
        year, week, _day = timezone.localtime(response.submitted_at).isocalendar()
        answers = {a.question_id: a for a in response.answers.all()}
        rows.append(
            [
                *who,
                org.name if org else "",
                (org.org_number or "") if org else "",
                sector,
                f"{year}-W{week:02d}",
                *[_answer_value(answers[q.pk]) if q.pk in answers else "" for q in questions],
            ]
        )
    return columns, rows, left_out


def survey_export(*, survey: Survey, tier: str, fmt: str, by) -> tuple[bytes, str]:
    """The file's bytes and its name. UnknownExport for a tier or format that does not exist."""
    check_kind(tier, fmt)
    study = survey.study
    threshold = study.small_count_threshold
    respondents, counts = _count_rows(survey, tier, threshold)
    summary = [
        ["study", study.title],
        ["study_slug", study.slug],
        ["survey", survey.title],
        ["definitions_version", DEFINITIONS_VERSION],
        ["exported_at", timezone.now().isoformat()],
        ["tier", tier],
        ["respondents", respondents],
        ["small_count_threshold", threshold],
    ]
    sheets: list = [(SUMMARY, ["field", "value"], summary), (COUNTS, COUNT_COLUMNS, counts)]
    questions = list(survey.questions.all())
    answers_payload: list[dict] = []
    if tier != ExportTier.AGGREGATE:
        columns, rows, left_out = _response_rows(survey, tier)
        sheets.append((ANSWERS, columns, rows))
        summary.append(
            ["questions", " | ".join(f"q{i}: {q.text}" for i, q in enumerate(questions, 1))]
        )
        answers_payload = [dict(zip(columns, r, strict=True)) for r in rows]
        if tier == ExportTier.NAMED:
            log_action(
                study=study,
                actor=by,
                action=LogAction.EXPORT_NAMED,
                target_type="survey",
                target_id=survey.pk,
                details={"format": fmt, "named_people": len(rows), "left_out_people": left_out},
            )
    out = io.BytesIO()
    if fmt == ExportFormat.CSV:
        write_csv_sheets(sheets, out)
    elif fmt == ExportFormat.XLSX:
        write_xlsx_sheets(sheets, out)
    else:
        payload = {
            **{key: value for key, value in summary if key != "questions"},
            "questions": [
                {"number": i, "text": q.text, "kind": q.kind, "required": q.required}
                for i, q in enumerate(questions, 1)
            ],
            "counts": [dict(zip(COUNT_COLUMNS, r, strict=True)) for r in counts],
        }
        if tier != ExportTier.AGGREGATE:
            payload["answers"] = answers_payload
        out.write(json.dumps(payload, ensure_ascii=False, indent=1).encode())
    name = f"{study.slug}-survey-{survey.pk}-{tier}.{fmt}"
    return out.getvalue(), name
