"""Statistics pages (per study, definitions, platform) and the organisation registry.

Thin: studies come through studies.access.study_for_user, figures from
reports.statistics, charts from reports.charts, registry changes from
reports.registry. Exports and frozen reports live in export_views.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.administrators import require_administrator
from accounts.formatting import number, short_date
from accounts.models import Organisation
from accounts.second_factor import (
    has_totp,
    second_factor_in_session,
    second_factor_url,
)
from accounts.services import ClaimError, representative_set
from accounts.services import organisation_domain_add as organisation_domain_add_service
from accounts.services import organisation_domain_remove as organisation_domain_remove_service
from core.params import WholeNumberField, search_text
from reports import charts, registry
from reports.disclosure import public_tables, withheld_label
from reports.services import published_figures
from reports.statistics import (
    DEFINITIONS_VERSION,
    DEFINITIONS_VERSIONS,
    StudyStatistics,
    definitions,
    definitions_changes,
    headline,
    platform_statistics,
    platform_study_rows,
    sector_label,
    small_count,
)
from studies.access import Action, StudyAccess, study_for_user
from studies.models import StudyStatus

TOP_ORGANISATIONS = 10


# --- figures -------------------------------------------------------------------------


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _sector_chart(
    figures: StudyStatistics, chart_id: str, public: dict[str, Any] | None = None
) -> charts.Chart:
    if public is not None:  # withheld sector rows are left out of the public chart
        bars = [
            charts.Bar(sector_label(r["sector"]), r["participants"])
            for r in public["sectors"]
            if r["participants"] is not None
        ]
    else:
        bars = [charts.Bar(r.label, r.participants) for r in figures.sectors]
    return charts.bar_chart(
        chart_id=chart_id,
        title=_("Participants by sector"),
        description=charts.describe(
            _("Bar chart of participants per sector; the table beside it has the same figures."),
            [(b.label, number(b.value)) for b in bars],
        ),
        bars=bars,
    )


def _time_chart(figures: StudyStatistics, chart_id: str) -> charts.Chart:
    points = [(_day(d.day), d.cumulative_participants) for d in figures.days]
    return charts.line_chart(
        chart_id=chart_id,
        title=_("Participants over time"),
        description=charts.describe(
            _(
                "Line chart of the running total of participants per day in Norwegian time; "
                "the table beside it has the same figures."
            ),
            [(short_date(d), number(v)) for d, v in points],
        ),
        points=points,
    )


def _organisation_chart(figures: StudyStatistics, chart_id: str) -> charts.Chart:
    top = figures.organisations_by_participants(TOP_ORGANISATIONS)
    bars = [charts.Bar(r.name, r.participants) for r in top]
    return charts.bar_chart(
        chart_id=chart_id,
        title=_("Top organisations by participants"),
        description=charts.describe(
            _(
                "Bar chart of the organisations with the most participants; the table "
                "beside it has the same figures."
            ),
            [(b.label, number(b.value)) for b in bars],
        ),
        bars=bars,
    )


def public_rows(public: dict[str, Any]) -> dict[str, Any]:
    """Display rows of reports.disclosure.public_tables: withheld cells read "withheld"."""
    label = withheld_label()

    def shown(value):
        return label if value is None else value

    totals = {key: shown(value) for key, value in public["totals"].items()}
    if public["definitions_version"] < 2:  # no claims counted apart then
        totals.pop("unconfirmed_organisations", None)
        totals.pop("unconfirmed_participants", None)
    return {
        "totals": totals,
        "sector_rows": [
            {
                "sector": r["sector"],
                "label": sector_label(r["sector"]),
                "organisations": r["organisations"],
                "participants": shown(r["participants"]),
                "contributions": shown(r["contributions"]),
                "comments": shown(r["comments"]),
            }
            for r in public["sectors"]
        ],
        "organisations": [
            {
                "name": r["name"],
                "org_number": r["org_number"],
                "sector": sector_label(r["sector"]),
                "participants": shown(r["participants"]),
                "contributions": shown(r["contributions"]),
                "comments": shown(r["comments"]),
            }
            for r in public["organisations"]
        ],
    }


def _organisation_rows(figures: StudyStatistics, *, exact: bool) -> list[dict[str, Any]]:
    threshold = figures.small_count_threshold
    return [
        {
            "name": r.name,
            "org_number": r.org_number,
            "sector": sector_label(r.sector),
            "participants": (
                str(r.participants) if exact else small_count(r.participants, threshold)
            ),
            "contributions": r.contributions,
            "comments": r.comments,
        }
        for r in figures.organisations
    ]


def _study_context(request: HttpRequest, access: StudyAccess) -> dict[str, Any]:
    study, user = access.study, request.user
    full = access.can(Action.VIEW_STATISTICS, user)
    needs_mfa = full and not second_factor_in_session(request)
    if needs_mfa:
        full = False  # the public view until a second factor is used in this session
    figures, frozen_at = published_figures(study=study)
    context: dict[str, Any] = {
        "study": study,
        "access": access,
        "full": full,
        "needs_mfa": needs_mfa,
        "has_totp": needs_mfa and has_totp(user),
        "second_factor_url": (
            second_factor_url(user, request.get_full_path()) if needs_mfa else ""
        ),
        "can_export": full and access.can(Action.EXPORT, user),
        "figures": figures,
        "frozen_at": frozen_at and dt.datetime.fromisoformat(frozen_at),
        "last_seq": study.last_event_seq,
        "ws_path": f"/ws/studies/{study.slug}/",
    }
    if full:
        context.update(
            headline=headline(figures),
            totals=figures.totals,
            sector_rows=figures.sectors,
            organisations=_organisation_rows(figures, exact=True),
            sector_chart=_sector_chart(figures, "chart-sectors"),
        )
    else:
        public = public_tables(figures)
        context.update(public_rows(public))
        context["headline"] = public["headline"][(translation.get_language() or "nb")[:2]]
        context["withheld"] = public["withheld"]
        context["sector_chart"] = _sector_chart(figures, "chart-sectors", public=public)
    if full:
        context["time_chart"] = _time_chart(figures, "chart-time")
        context["organisation_chart"] = _organisation_chart(figures, "chart-organisations")
        context["top_organisations"] = figures.organisations_by_participants(TOP_ORGANISATIONS)
    return context


@require_GET
def study_statistics_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Public: headline, totals, sectors, organisations with "<k"; facilitators: everything."""
    access = study_for_user(request.user, slug)
    return render(request, "reports/statistics.html", _study_context(request, access))


@require_GET
def study_statistics_live(request: HttpRequest, slug: str) -> HttpResponse:
    """The figures alone, re-fetched by static/js/statistics.js after study events."""
    access = study_for_user(request.user, slug)
    response = render(request, "reports/_statistics_body.html", _study_context(request, access))
    response["X-Dugnad-Last-Seq"] = str(access.study.last_event_seq)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def definitions_page(request: HttpRequest) -> HttpResponse:
    """What every figure means, in the current definitions version."""
    back = None
    slug = request.GET.get("study", "")
    if slug:
        try:
            back = study_for_user(request.user, slug).study
        except Exception:  # an unknown or invisible study: no link back, no hint
            back = None
    try:
        version = int(request.GET.get("version", DEFINITIONS_VERSION))
    except ValueError:
        version = DEFINITIONS_VERSION
    if version not in DEFINITIONS_VERSIONS:
        version = DEFINITIONS_VERSION
    return render(
        request,
        "reports/statistics_definitions.html",
        {
            "definitions": definitions(version),
            "version": version,
            "current": DEFINITIONS_VERSION,
            "versions": DEFINITIONS_VERSIONS,
            "changes": definitions_changes(version),
            "back": back,
        },
    )


# --- administrator pages --------------------------------------------------------------------------


@login_required
@require_GET
def platform_statistics_page(request: HttpRequest) -> HttpResponse:
    """Studies, participants and organisations across the platform, for administrators."""
    require_administrator(request)
    figures = platform_statistics()
    statuses = [(label, figures.studies.get(value, 0)) for value, label in StudyStatus.choices]
    return render(
        request,
        "reports/statistics_platform.html",
        {
            "figures": figures,
            "headline": headline(figures),
            "statuses": statuses,
            "study_rows": platform_study_rows(),
            "sector_chart": _sector_chart(figures, "chart-sectors"),
            "time_chart": _time_chart(figures, "chart-time"),
            "organisation_chart": _organisation_chart(figures, "chart-organisations"),
            "top_organisations": figures.organisations_by_participants(TOP_ORGANISATIONS),
            "organisations": _organisation_rows(figures, exact=True),
            "totals": figures.totals,
            "sector_rows": figures.sectors,
        },
    )


class MergeForm(forms.Form):
    # Chosen from the search results on the organisation's page (or a likely
    # duplicate pair), never typed.
    target = WholeNumberField(
        label=gettext_lazy("Organisation to merge into"),
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy("Choose the organisation to merge into."),
            "invalid": gettext_lazy("Choose the organisation to merge into from the search."),
        },
    )
    note = forms.CharField(label=gettext_lazy("Note (optional)"), max_length=400, required=False)


@login_required
@require_GET
def organisation_list(request: HttpRequest) -> HttpResponse:
    require_administrator(request)
    query = search_text(request.GET.get("q"))
    unverified = request.GET.get("unverified") == "1"
    page = Paginator(
        registry.organisations_search(query=query, unverified=unverified), 50
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/registry_list.html",
        {"page": page, "query": query, "unverified": unverified},
    )


@login_required
@require_GET
def organisation_duplicates(request: HttpRequest) -> HttpResponse:
    require_administrator(request)
    return render(
        request,
        "reports/registry_duplicates.html",
        {"pairs": registry.duplicate_candidates()},
    )


class DomainForm(forms.Form):
    domain = forms.CharField(
        label=gettext_lazy("E-mail domain"),
        max_length=253,
        help_text=gettext_lazy(
            "Such as nav.no. A person with a verified address at exactly this domain is "
            "confirmed at once when they claim the organisation."
        ),
    )


def _organisation_page(
    request: HttpRequest,
    org: Organisation,
    form: MergeForm | None = None,
    status: int = 200,
    domain_form: DomainForm | None = None,
) -> HttpResponse:
    query = search_text(request.GET.get("q"))
    candidates = []
    if query:
        candidates = list(
            registry.organisations_search(query=query)
            .filter(merged_into__isnull=True)
            .exclude(pk=org.pk)[:20]
        )
    return render(
        request,
        "reports/registry_detail.html",
        {
            "organisation": org,
            "merged_from": list(org.merged_from.order_by("name")),
            "history": list(registry.merge_history(organisation=org)),
            "form": form or MergeForm(),
            "query": query,
            "candidates": candidates,
            "domains": list(org.domains.order_by("domain")),
            "domain_form": domain_form or DomainForm(),
            "claims": list(
                org.affiliations.select_related("user", "decided_by").order_by(
                    "state", "-is_representative", "created_at", "pk"
                )[:500]
            ),
        },
        status=status,
    )


@login_required
@require_GET
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_administrator(request)
    org = get_object_or_404(Organisation.objects.select_related("merged_into"), pk=pk)
    return _organisation_page(request, org)


@login_required
@require_POST
def organisation_merge(request: HttpRequest, pk: int) -> HttpResponse:
    require_administrator(request)
    org = get_object_or_404(Organisation.objects.select_related("merged_into"), pk=pk)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _organisation_page(request, org, form, status=400)
    try:
        merge = registry.organisation_merge(
            source_id=org.pk,
            target_id=form.cleaned_data["target"],
            user=request.user,
            note=form.cleaned_data["note"],
        )
    except registry.RegistryError as refusal:
        form.add_error(None, str(refusal))
        return _organisation_page(request, org, form, status=400)
    messages.success(
        request,
        _("%(source)s is merged into %(target)s. Statistics now count them as one.")
        % {"source": merge.source.name, "target": merge.target.name},
    )
    return redirect(reverse("reports:organisation", args=[merge.target.pk]))


@login_required
@require_POST
def organisation_verify(request: HttpRequest, pk: int) -> HttpResponse:
    require_administrator(request)
    org = get_object_or_404(Organisation, pk=pk)
    verified = request.POST.get("verified", "1") != "0"
    try:
        registry.organisation_verify(organisation_id=org.pk, user=request.user, verified=verified)
    except registry.RegistryError as refusal:
        messages.error(request, str(refusal))
        return _organisation_page(request, org, status=400)
    messages.success(
        request,
        _("%(name)s is marked as verified.") % {"name": org.name}
        if verified
        else _("%(name)s is no longer marked as verified.") % {"name": org.name},
    )
    return redirect(reverse("reports:organisation", args=[org.pk]))


@login_required
@require_POST
def organisation_domain_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an e-mail domain; pending claims it confirms are confirmed at once."""
    require_administrator(request)
    org = get_object_or_404(Organisation, pk=pk)
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            entry = organisation_domain_add_service(
                organisation=org, domain=form.cleaned_data["domain"], by=request.user
            )
        except ValidationError as invalid:
            for messages_ in invalid.message_dict.values():
                for message in messages_:
                    form.add_error("domain", message)
        else:
            messages.success(
                request,
                _("%(domain)s is an e-mail domain of %(name)s.")
                % {"domain": entry.domain, "name": org.name},
            )
            return redirect(reverse("reports:organisation", args=[org.pk]))
    return _organisation_page(request, org, status=400, domain_form=form)


@login_required
@require_POST
def organisation_domain_remove(request: HttpRequest, pk: int, domain_pk: int) -> HttpResponse:
    require_administrator(request)
    org = get_object_or_404(Organisation, pk=pk)
    if not organisation_domain_remove_service(
        organisation=org, domain_id=domain_pk, by=request.user
    ):
        messages.error(request, _("That domain is not one of this organisation's."))
        return _organisation_page(request, org, status=400)
    messages.success(request, _("The domain is removed. Claims it confirmed stay confirmed."))
    return redirect(reverse("reports:organisation", args=[org.pk]))


@login_required
@require_POST
def organisation_representative(request: HttpRequest, pk: int, claim_pk: int) -> HttpResponse:
    """Make a confirmed member a representative of the organisation, or no longer one."""
    require_administrator(request)
    org = get_object_or_404(Organisation, pk=pk)
    value = request.POST.get("representative", "")
    if value not in ("0", "1") or not org.affiliations.filter(pk=claim_pk).exists():
        messages.error(request, _("That person has no claim on this organisation."))
        return _organisation_page(request, org, status=400)
    try:
        claim = representative_set(claim_id=claim_pk, by=request.user, representative=value == "1")
    except ClaimError as refusal:
        messages.error(request, str(refusal))
        return _organisation_page(request, org, status=400)
    values = {"person": claim.user.public_name, "name": org.name}
    messages.success(
        request,
        _("%(person)s represents %(name)s and can confirm its claims.") % values
        if claim.is_representative
        else _("%(person)s no longer represents %(name)s.") % values,
    )
    return redirect(reverse("reports:organisation", args=[org.pk]))
