"""Search pages: across every study a person may view, and within one study."""

from __future__ import annotations

from allauth.core.internal import ratelimit
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from contributions.services import parse_rate
from core.cache import count_up
from search import selectors
from search.forms import SearchForm
from search.text import parse_query
from studies.access import study_for_user

# Searches (pages of results) per person, or per address for visitors who are not
# signed in: settings.SEARCH_RATE_LIMIT (env SEARCH_RATE_LIMIT, "30/m" by default).
SEARCH_RATE_LIMIT = "30/m"

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
        wait = _seconds_to_wait(request)
        if wait:
            form.add_error(
                None,
                _(
                    "You are searching faster than Dugnad allows. Take a short break and "
                    "try again in %(seconds)d seconds."
                )
                % {"seconds": wait},
            )
            response = render(request, "search/search.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
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


def _seconds_to_wait(request: HttpRequest) -> int:
    """Count one search for the person (or the address); past the limit, the seconds to wait.

    A fixed window in the shared cache, as for posting (contributions.services):
    one counter per person or address per window, no database write.
    """
    rate = parse_rate(getattr(settings, "SEARCH_RATE_LIMIT", SEARCH_RATE_LIMIT))
    if request.user.is_authenticated:
        who = f"user:{request.user.pk}"
    else:
        who = f"address:{ratelimit.get_ip(request)}"
    now = int(timezone.now().timestamp())
    window = now // rate.seconds
    used = count_up(cache, f"search-rate:{who}:{window}", rate.seconds + 5)
    if used <= rate.count:
        return 0
    return max((window + 1) * rate.seconds - now, 1)
