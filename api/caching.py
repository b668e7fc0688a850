"""Caching headers: public data may be cached briefly, token answers never."""

from __future__ import annotations

from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from django.utils.http import parse_http_date_safe

PUBLIC_MAX_AGE = 60


def apply_caching(request, response, *, public: bool, max_age: int = PUBLIC_MAX_AGE):
    """Set Cache-Control and an ETag on a successful GET; answer 304 when it matches.

    ``request`` is Django's HttpRequest. Returns the response to send.
    """
    patch_vary_headers(response, ("Authorization",))
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if not public:
        response["Cache-Control"] = "private, no-store"
        return response
    response["Cache-Control"] = f"public, max-age={max_age}"
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    if not response.streaming and not response.has_header("ETag"):
        set_response_etag(response)
    last_modified = parse_http_date_safe(response.get("Last-Modified") or "")
    return get_conditional_response(
        request, etag=response.get("ETag"), last_modified=last_modified, response=response
    )
