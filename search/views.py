"""Search pages: across every study a person may view, and within one study."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from search import selectors
from search.forms import SearchForm
from search.text import parse_query
from studies.access import study_for_user

FILTER_DEFAULTS = [
    ("kind", ""),
    ("section", ""),
    ("phase", ""),
    ("organisation", ""),
    ("sector", ""),
    ("state", "published"),
    ("sort", "relevance"),
]


@require_GET
def search_all(request: HttpRequest) -> HttpResponse:
    return _search(request, study=None)


@require_GET
def search_study(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug)
    return _search(request, study=access.study)


def _search(request: HttpRequest, *, study) -> HttpResponse:
    form = SearchForm(request.GET, user=request.user, study=study)
    context = {
        "form": form,
        "study": study,
        "results": None,
        "no_words": False,
        # The filters open when one is in use (or wrong); closed they keep a phone's
        # results near the top.
        "filters_open": bool(form.errors)
        or any(request.GET.get(name, default) != default for name, default in FILTER_DEFAULTS),
    }
    if not form.is_valid():
        return render(request, "search/search.html", context, status=400)
    query_text = form.cleaned_data["q"]
    if query_text:
        results = selectors.search(
            user=request.user,
            query=parse_query(query_text),
            filters=form.filters(),
            page=form.cleaned_data.get("page") or 1,
            study=study,
        )
        context["results"] = results
        context["no_words"] = results is None
    params = request.GET.copy()
    params.pop("page", None)
    context["querystring"] = params.urlencode()
    context["query_text"] = query_text
    return render(request, "search/search.html", context)
