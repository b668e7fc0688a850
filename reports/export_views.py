"""Exports for a study's coordinators, and the published participation report.

Thin: every study comes through studies.access.study_for_user (exports need
Action.EXPORT, which asks coordinators for a second factor used in this
session, and a named export's download for a recent sign-in or
reauthentication; the report needs only
Action.VIEW, so it follows the study's visibility), every export through
``_export_for``, and the work is done by reports.services.
"""

from __future__ import annotations

import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.second_factor import require_recent_authentication
from core.tasks import task
from reports import services
from reports.disclosure import withheld_label
from reports.exports import UnknownExport, write
from reports.models import Export, ExportFormat, ExportStatus, ExportTier, ParticipationReport
from reports.views import public_rows
from studies.access import Action, study_for_user

RECENT_EXPORTS = 20


class ExportForm(forms.Form):
    tier = forms.ChoiceField(
        label=gettext_lazy("What the export contains"),
        choices=ExportTier.choices,
        initial=ExportTier.AGGREGATE,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose what the export contains."),
            "invalid_choice": gettext_lazy("Unknown export tier “%(value)s”."),
        },
    )
    format = forms.ChoiceField(
        label=gettext_lazy("File format"),
        choices=ExportFormat.choices,
        initial=ExportFormat.XLSX,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose a file format."),
            "invalid_choice": gettext_lazy("Unknown export format “%(value)s”."),
        },
    )


def _export_for(user, slug: str, token) -> tuple[Export, object]:
    """The export with this token, if ``user`` may export from its study (else 403/404)."""
    access = study_for_user(user, slug, Action.EXPORT)
    export = (
        Export.objects.select_related("study", "requested_by")
        .filter(study=access.study, token=token)
        .first()
    )
    if export is None:
        raise Http404("No such export")
    return export, access


@login_required
@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest, slug: str) -> HttpResponse:
    """Choose a tier and a format; the file is written by a task, its progress shown live."""
    access = study_for_user(request.user, slug, Action.EXPORT)
    study = access.study
    status = 200
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            try:
                export = services.export_request(
                    study=study,
                    user=request.user,
                    tier=form.cleaned_data["tier"],
                    fmt=form.cleaned_data["format"],
                )
            except UnknownExport as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Your export is being made."))
                return redirect(
                    reverse("reports:exports", args=[study.slug]) + f"#export-{export.token}"
                )
        status = 400
    else:
        form = ExportForm()
    recent = Export.objects.filter(study=study).select_related("requested_by")[:RECENT_EXPORTS]
    return render(
        request,
        "reports/exports.html",
        {
            "study": study,
            "access": access,
            "form": form,
            "exports": recent,
            "export_retention_days": settings.EXPORT_RETENTION_DAYS,
            "exports_inline": _exports_inline(),
        },
        status=status,
    )


def _exports_inline() -> bool:
    """Whether exports are made inside the request: eager Celery without the embedded scheduler.

    Then an export is done before its page comes back, and the page says why
    it shows no progress. With a worker, or under the embedded scheduler (which
    runs it on a thread of its own), the page shows its progress.
    """
    return task("reports.tasks.build_export").runs_in_request()


@login_required
@require_GET
def export_status(request: HttpRequest, slug: str, token) -> HttpResponse:
    """One export's status row; htmx polls it until the file is ready or failed."""
    export, _access = _export_for(request.user, slug, token)
    return render(
        request,
        "reports/exports_status.html",
        {
            "export": export,
            "study": export.study,
            "export_retention_days": settings.EXPORT_RETENTION_DAYS,
        },
    )


@login_required
@require_GET
def export_download(request: HttpRequest, slug: str, token) -> HttpResponse:
    export, _access = _export_for(request.user, slug, token)
    if export.status != ExportStatus.DONE or not export.file:
        raise Http404("The export is not ready")
    minutes = settings.NAMED_EXPORT_REAUTHENTICATION_MINUTES
    if export.tier == ExportTier.NAMED and minutes > 0:
        # Names and e-mail addresses: the person proves again who they are
        # (allauth's reauthentication page), unless they just did.
        require_recent_authentication(request, max_age_seconds=minutes * 60)
    try:
        handle = export.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The export file is no longer available") from missing
    response = FileResponse(handle, as_attachment=True, filename=export.filename)
    response["Cache-Control"] = "private, no-store"
    return response


# --- The frozen participation report ------------------------------------------


def _report_for(user, slug: str) -> tuple[ParticipationReport | None, object]:
    access = study_for_user(user, slug, Action.VIEW)
    return ParticipationReport.objects.filter(study=access.study).first(), access


@require_GET
def report(request: HttpRequest, slug: str) -> HttpResponse:
    """The participation report frozen when the study closed; the same for everyone who sees it."""
    frozen, access = _report_for(request.user, slug)
    if frozen is None:
        return render(request, "reports/report_missing.html", {"study": access.study}, status=404)
    document = services.report_document(report=frozen)
    statistics = document.statistics
    language = (translation.get_language() or "nb")[:2]
    public = document.public
    return render(
        request,
        "reports/report.html",
        {
            "study": access.study,
            "report": frozen,
            "statistics": statistics,
            "headline": public["headline"][language],
            **public_rows(public),
            "days": public["days"],
            "withheld_label": withheld_label(),
            "rules": document.definition_rows(),
            "formats": ExportFormat.choices,
            "can_export": access.can(Action.EXPORT, request.user),
        },
    )


@require_GET
def report_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The frozen report as CSV, XLSX or JSON (the aggregate tier), from stored figures only."""
    frozen, access = _report_for(request.user, slug)
    if frozen is None:
        raise Http404("No participation report")
    if fmt not in ExportFormat.values:
        raise Http404("Unknown format")
    buffer = io.BytesIO()
    write(services.report_document(report=frozen), fmt, buffer)
    buffer.seek(0)
    filename = f"{access.study.slug}-participation-report.{fmt}"
    return FileResponse(buffer, as_attachment=True, filename=filename)
