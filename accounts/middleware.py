"""Guidance instead of bare refusals, and each person's language."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


class MFARequiredMiddleware:
    """Turns SecondFactorRequired into the guided page instead of a bare 403.

    A person without an authenticator app is sent to set one up (and back
    afterwards through ``mfa_next``); a person who has one but has not used
    it in this session is asked for a code from it (allauth's
    reauthentication with MFA), and continues where they were going.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        from accounts.second_factor import SecondFactorRequired, has_totp, second_factor_url

        if not isinstance(exception, SecondFactorRequired):
            return None
        target = _return_to(request)
        if has_totp(request.user):
            messages.info(
                request,
                _(
                    "Staff powers need your second factor in this session. Enter a code "
                    "from your authenticator app (or a recovery code) to continue."
                ),
            )
        else:
            messages.info(
                request,
                _(
                    "Facilitators and coordinators protect the study with two-factor "
                    "authentication. Set up an authenticator app below, then continue."
                ),
            )
            request.session["mfa_next"] = target
        url = second_factor_url(request.user, target)
        if request.htmx:
            response = HttpResponse(status=403)
            response["HX-Redirect"] = url
            return response
        return redirect(url)


def _return_to(request: HttpRequest) -> str:
    """Where to continue after the set-up: this page, or for a form sent here, its page."""
    if request.method in ("GET", "HEAD"):
        target = request.get_full_path()
        if url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            return target
        return "/"
    # A form cannot be sent again by a redirect; go back to the page it was on.
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return "/"


class PersonLanguageMiddleware:
    """A signed-in person's language follows them: pages, e-mails and notifications.

    Without a language cookie (a new browser, just signed in) the page is in
    the language the person chose, if they chose one; choosing with the switcher
    saves it on the person, so e-mails follow the choice too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        cookie = settings.LANGUAGE_COOKIE_NAME
        use_saved = signed_in and cookie not in request.COOKIES and user.language in LANGUAGE_CODES
        if use_saved:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        if signed_in and request.method == "POST" and request.path == reverse("set_language"):
            chosen = request.POST.get("language")
            if chosen in LANGUAGE_CODES and chosen != user.language:
                from accounts.models import User

                User.objects.filter(pk=user.pk).update(language=chosen)
        elif use_saved and cookie not in response.cookies:
            response.set_cookie(
                cookie,
                user.language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        return response


class SingleSignOnFormActionMiddleware:
    """Lets a page with a sign-in-service button post to that provider, and nowhere else.

    allauth's button posts to Dugnad, which answers with a redirect to the
    provider's authorization endpoint; the browser checks that redirect against
    the page's CSP ``form-action``. Pages that hold such a form get exactly the
    origin of that endpoint (from the provider's cached discovery document)
    added to ``form-action``; every other page keeps ``'self'`` alone. Must come
    after ``csp.middleware.CSPMiddleware`` in MIDDLEWARE.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 200
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
        ):
            origins = _provider_form_origins(request, response.content)
            if origins:
                update = dict(getattr(response, "_csp_update", None) or {})
                update["form-action"] = [*update.get("form-action", []), *origins]
                response._csp_update = update
        return response


def _provider_form_origins(request: HttpRequest, content: bytes) -> list[str]:
    from allauth.socialaccount.adapter import get_adapter

    from accounts.oidc import authorization_origin

    prefix = reverse("openid_connect_login", kwargs={"provider_id": "-"}).split("-/")[0]
    if prefix.encode() not in content and not request.path.startswith(prefix):
        return []
    origins = []
    adapter = get_adapter(request)
    for app in adapter.list_apps(request, provider="openid_connect"):
        login_path = reverse("openid_connect_login", kwargs={"provider_id": app.provider_id})
        # The page links or posts to the provider's login view, or is that view's
        # "Continue" page (its form posts to itself).
        if login_path.encode() in content or request.path == login_path:
            origin = authorization_origin(adapter.get_provider(request, app.provider_id))
            if origin and origin not in origins:
                origins.append(origin)
    return origins
