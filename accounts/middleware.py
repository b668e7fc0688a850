"""Turn a missing second factor into guidance, not a bare refusal."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


class MFARequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        from studies.access import MFARequired

        if not isinstance(exception, MFARequired):
            return None
        messages.info(
            request,
            _(
                "Facilitators and coordinators protect the study with two-factor "
                "authentication. Set up an authenticator app below, then continue."
            ),
        )
        request.session["mfa_next"] = (
            request.get_full_path()
            if url_has_allowed_host_and_scheme(request.get_full_path(), allowed_hosts=None)
            else "/"
        )
        if request.htmx:
            response = HttpResponse(status=403)
            response["HX-Redirect"] = "/accounts/2fa/totp/activate/"
            return response
        return redirect("mfa_activate_totp")
