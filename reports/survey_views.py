"""Survey results (charts with tables, like the statistics page) and exports of answers.

Here rather than in polls because they reuse the statistics page's charts and
the export writers, and reports sits above polls in the layering.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from polls import selectors
from reports import charts
from reports.exports import UnknownExport
from reports.models import ExportFormat, ExportTier
from reports.survey_exports import survey_export as make_survey_export
from studies.access import Action, study_for_user

CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.JSON: "application/json",
}


def _chart(result, number: int) -> charts.Chart | None:
    if not result.counts:
        return None
    bars = [charts.Bar(label, n) for label, n in result.counts]
    return charts.bar_chart(
        chart_id=f"chart-q{number}",
        title=result.question.text,
        description=charts.describe(
            _("Bar chart of answers per choice; the table beside it has the same figures."),
            [(b.label, str(b.value)) for b in bars],
        ),
        bars=bars,
    )


@login_required
@require_GET
def survey_results(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Facilitators and coordinators: every question as a chart with its table, and the
    free-text answers (hidden ones marked, with hide and restore)."""
    access = study_for_user(request.user, slug, Action.VIEW_STATISTICS)
    survey = selectors.survey_for_access(access=access, pk=pk)
    results = selectors.survey_results(survey=survey)
    blocks = [
        {"number": n, "result": r, "chart": _chart(r, n)}
        for n, r in enumerate(results.questions, 1)
    ]
    return render(
        request,
        "reports/survey_results.html",
        {
            "study": access.study,
            "survey": survey,
            "results": results,
            "blocks": blocks,
            "can_export": access.can(Action.EXPORT, request.user),
            "tiers": ExportTier.choices,
            "formats": ExportFormat.values,
        },
    )


@login_required
@require_GET
def survey_export(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """?tier=aggregate|pseudonymous|named&format=csv|xlsx|json, for the study's coordinators."""
    access = study_for_user(request.user, slug, Action.EXPORT)
    survey = selectors.survey_for_access(access=access, pk=pk)
    tier = request.GET.get("tier", ExportTier.AGGREGATE)
    fmt = request.GET.get("format", ExportFormat.CSV)
    try:
        content, name = make_survey_export(survey=survey, tier=tier, fmt=fmt, by=request.user)
    except UnknownExport as error:
        return render(
            request,
            "contributions/refusal_page.html",
            {"message": str(error), "study": access.study},
            status=400,
        )
    response = HttpResponse(content, content_type=CONTENT_TYPES[ExportFormat(fmt)])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
