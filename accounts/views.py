from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import AffiliationForm, OrganisationForm, ProfileForm
from accounts.models import Organisation
from accounts.selectors import organisation_search, user_organisations
from accounts.services import affiliation_add, affiliation_remove, organisation_create


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile is saved."))
        return redirect("profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "organisations": user_organisations(user=request.user),
            "organisation_form": OrganisationForm(),
        },
    )


@login_required
@require_GET
def organisation_lookup(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    return render(
        request,
        "accounts/_organisation_results.html",
        {"results": organisation_search(query=query), "query": query.strip()[:100]},
    )


@login_required
@require_POST
def organisation_join(request: HttpRequest) -> HttpResponse:
    form = AffiliationForm(request.POST)
    if form.is_valid():
        affiliation = affiliation_add(user=request.user, organisation=form.cleaned_data["organisation"])
        messages.success(
            request, _("You are now affiliated with %(name)s.") % {"name": affiliation.organisation}
        )
    else:
        messages.error(request, " ".join(form.errors.get("organisation", [])))
    return redirect("profile")


@login_required
@require_POST
def organisation_leave(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk, affiliations__user=request.user)
    affiliation_remove(user=request.user, organisation=organisation)
    messages.success(request, _("You are no longer affiliated with %(name)s.") % {"name": organisation})
    return redirect("profile")


@login_required
@require_POST
def organisation_propose(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        organisation = organisation_create(
            name=data["name"],
            sector=data["sector"],
            org_number=data["org_number"] or "",
            website=data["website"],
            created_by=request.user,
        )
        affiliation_add(user=request.user, organisation=organisation)
        messages.success(
            request,
            _("%(name)s is added to the registry and to your organisations.") % {"name": organisation},
        )
        return redirect("profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "form": ProfileForm(instance=request.user),
            "organisations": user_organisations(user=request.user),
            "organisation_form": form,
        },
        status=400,
    )
