"""Per-client rate limits, kept in the shared cache (Redis in production)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken


class ApiClientThrottle(SimpleRateThrottle):
    """One budget per token, or per address for anonymous clients.

    Rates are read from settings on each request (not once at import), so an
    operator's change and a test's override both take effect.
    """

    anon_scope = "api_anon"
    token_scope = "api_token"

    def __init__(self):
        # SimpleRateThrottle resolves its rate here; ours depends on the request.
        pass

    def get_rate(self) -> str | None:
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)

    def allow_request(self, request, view):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        self.scope = self.token_scope if token else self.anon_scope
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class BulkDownloadThrottle(ApiClientThrottle):
    """The open-data zip is built on request: fewer of those per client."""

    anon_scope = "api_bulk"
    token_scope = "api_bulk"
