from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import single_sign_on
from accounts.administrators import is_administrator, require_administrator
from accounts.forms import (
    AccountDeleteForm,
    AffiliationForm,
    NotificationSettingsForm,
    OrganisationForm,
    ProfileForm,
)
from accounts.models import Affiliation, ClaimState, DataExport, Notification, Organisation
from accounts.selectors import (
    claims_to_decide,
    data_exports_offered,
    notification_settings,
    organisation_search,
    represented_organisations,
    user_claims,
    user_notifications,
)
from accounts.services import (
    AccountDeletionRefused,
    ClaimError,
    account_delete,
    account_deletion_blockers,
    affiliation_add,
    affiliation_remove,
    claim_decide,
    data_export_request,
    notification_mark_read,
    notification_settings_update,
    organisation_create,
    profile_update,
    public_name_set,
)
from core.params import search_text


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _profile_page(request: HttpRequest, *, form, organisation_form, status: int = 200):
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "claims": user_claims(user=request.user),
            "represents": represented_organisations(user=request.user).exists(),
            "organisation_form": organisation_form,
            "affiliation_form": AffiliationForm(),
        },
        status=status,
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            profile_update(
                user=request.user,
                display_name=data["display_name"],
                language=data["language"],
                digest_frequency=data["digest_frequency"],
            )
            translation.activate(data["language"])
            messages.success(request, _("Your profile is saved."))
            response = redirect("profile")
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                data["language"],
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
            )
            return response
        return _profile_page(request, form=form, organisation_form=OrganisationForm(), status=400)
    return _profile_page(request, form=form, organisation_form=OrganisationForm())


@login_required
@require_GET
def organisation_lookup(request: HttpRequest) -> HttpResponse:
    query = search_text(request.GET.get("q"))
    return render(
        request,
        "accounts/_organisation_results.html",
        {"results": organisation_search(query=query), "query": query},
    )


def _claim_message(request: HttpRequest, affiliation: Affiliation) -> None:
    name = affiliation.organisation.name
    if affiliation.state == ClaimState.CONFIRMED:
        messages.success(request, _("You are confirmed as representing %(name)s.") % {"name": name})
    else:
        messages.success(
            request,
            _(
                "You say you represent %(name)s. Until one of its representatives or an "
                "administrator confirms it, what you post for it says so, and it is counted "
                "apart from confirmed organisations."
            )
            % {"name": name},
        )


@login_required
@require_POST
def organisation_join(request: HttpRequest) -> HttpResponse:
    """Claim to belong to an organisation: pending until confirmed (docs/accounts.md)."""
    form = AffiliationForm(request.POST)
    if form.is_valid():
        try:
            affiliation = affiliation_add(
                user=request.user, organisation=form.cleaned_data["organisation"]
            )
        except ClaimError as refusal:
            messages.error(request, str(refusal))
            return _profile_page(
                request,
                form=ProfileForm(instance=request.user),
                organisation_form=OrganisationForm(),
                status=400,
            )
        _claim_message(request, affiliation)
    else:
        messages.error(request, " ".join(form.errors.get("organisation", [])))
        return _profile_page(
            request,
            form=ProfileForm(instance=request.user),
            organisation_form=OrganisationForm(),
            status=400,
        )
    return redirect("profile")


@login_required
@require_POST
def organisation_leave(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(
        Organisation, pk=pk, affiliations__user=request.user, affiliations__ended_at__isnull=True
    )
    affiliation_remove(user=request.user, organisation=organisation)
    messages.success(
        request, _("You are no longer affiliated with %(name)s.") % {"name": organisation}
    )
    return redirect("profile")


def _claims_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    administrator = is_administrator(request.user)
    if administrator:
        claims = (
            Affiliation.objects.filter(state=ClaimState.PENDING, ended_at__isnull=True)
            .exclude(user=request.user)
            .select_related("user", "organisation")
            .order_by("created_at", "pk")
        )
    else:
        claims = claims_to_decide(user=request.user)
    return render(
        request,
        "accounts/claims.html",
        {
            "claims": list(claims[:200]),
            "administrator": administrator,
            "organisations": list(represented_organisations(user=request.user)),
        },
        status=status,
    )


def _require_claim_decider(request: HttpRequest) -> None:
    """Representatives of some organisation, and administrators (with their second factor)."""
    if is_administrator(request.user):
        require_administrator(request)
        return
    if not represented_organisations(user=request.user).exists():
        raise PermissionDenied("representatives and administrators only")


@login_required
@require_GET
def claims(request: HttpRequest) -> HttpResponse:
    """Pending claims on the organisations the person represents (all, for administrators)."""
    _require_claim_decider(request)
    return _claims_page(request)


@login_required
@require_POST
def claim_decision(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm or refuse one pending claim (action=confirm or refuse, optional reason)."""
    _require_claim_decider(request)
    action = request.POST.get("action", "")
    if action not in ("confirm", "refuse"):
        messages.error(request, _("Choose whether to confirm or refuse the claim."))
        return _claims_page(request, status=400)
    try:
        affiliation = claim_decide(
            claim_id=pk,
            by=request.user,
            confirm=action == "confirm",
            reason=request.POST.get("reason", ""),
        )
    except ClaimError as refusal:
        messages.error(request, str(refusal))
        return _claims_page(request, status=400)
    values = {"person": affiliation.user.public_name, "name": affiliation.organisation.name}
    if affiliation.state == ClaimState.CONFIRMED:
        messages.success(request, _("%(person)s is confirmed for %(name)s.") % values)
    else:
        messages.success(request, _("The claim of %(person)s to %(name)s is refused.") % values)
    return redirect("claims")


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
        affiliation = affiliation_add(user=request.user, organisation=organisation)
        messages.success(
            request,
            _("%(name)s is added to the registry and to your organisations.")
            % {"name": organisation},
        )
        _claim_message(request, affiliation)
        return redirect("profile")
    return _profile_page(
        request, form=ProfileForm(instance=request.user), organisation_form=form, status=400
    )


# --- Notifications ----------------------------------------------------------


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    page = Paginator(user_notifications(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    notification_mark_read(user=request.user, notification_id=notification.pk)
    if (
        request.POST.get("open")
        and notification.url
        and url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()})
    ):
        return redirect(notification.url)
    if request.htmx:
        notification.refresh_from_db()
        return render(request, "accounts/_notification.html", {"notification": notification})
    return redirect("notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    changed = notification_mark_read(user=request.user)
    if changed:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings_edit(request: HttpRequest) -> HttpResponse:
    current = {
        kind: delivery for kind, _label, delivery in notification_settings(user=request.user)
    }
    form = NotificationSettingsForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        notification_settings_update(user=request.user, choices=form.cleaned_data)
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notification_settings")
    return render(
        request,
        "accounts/notification_settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


# --- MFA guidance -------------------------------------------------------------


@login_required
@require_GET
def mfa_continue(request: HttpRequest) -> HttpResponse:
    """After setting up two-factor authentication, back to where the person was going."""
    target = request.session.pop("mfa_next", "")
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)


# --- Personal data ------------------------------------------------------------


@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/my_data.html",
        {
            "exports": data_exports_offered(user=request.user)[:5],
            "blockers": account_deletion_blockers(user=request.user),
            "delete_form": AccountDeleteForm(),
        },
    )


@login_required
@require_POST
def data_export_create(request: HttpRequest) -> HttpResponse:
    data_export_request(user=request.user)
    messages.success(
        request,
        _("Your archive is being prepared. We will tell you here and by e-mail when it is ready."),
    )
    return redirect("my_data")


@login_required
@require_GET
def data_export_download(request: HttpRequest, token: str) -> HttpResponse:
    """The archive, for the person it belongs to alone (anyone else gets 404)."""
    export = get_object_or_404(
        data_exports_offered(user=request.user), token=token, status=DataExport.Status.READY
    )
    try:
        handle = export.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("Archive no longer available") from missing
    response = FileResponse(
        handle, as_attachment=True, filename=export.file.name.rsplit("/", 1)[-1]
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def account_delete_view(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None)
    blockers = account_deletion_blockers(user=request.user)
    if request.method == "POST" and form.is_valid() and not blockers:
        try:
            account_delete(user=request.user)
        except AccountDeletionRefused as refused:
            blockers = refused.reasons
        else:
            logout(request)
            messages.success(
                request,
                _(
                    "Your account is deleted. What you posted stays in the studies, "
                    "shown as by “Deleted participant”."
                ),
            )
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/account_delete.html",
        {"form": form, "blockers": blockers},
        status=status,
    )


# --- Single sign-on -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sso_connect(request: HttpRequest) -> HttpResponse:
    """Connect an identity from a provider to the account with its address, once proved.

    Anyone may see the page (the person is not signed in yet when they arrive);
    the connection is made only for the signed-in owner of the matched account,
    on a POST.
    """
    pending = single_sign_on.pending_connection(request)
    if pending is None:
        messages.info(request, _("There is no sign-in service waiting to be connected."))
        if request.user.is_authenticated:
            return redirect("socialaccount_connections")
        return redirect("account_login")
    provider = pending["sociallogin"].account.get_provider()
    if request.method == "POST" and request.POST.get("action") == "cancel":
        single_sign_on.pending_connection_discard(request)
        messages.info(request, _("Nothing was connected."))
        return redirect("account_login" if not request.user.is_authenticated else "home")
    owner = request.user.is_authenticated and request.user.pk == pending["user"]
    if request.method == "POST" and owner:
        account = single_sign_on.pending_connection_confirm(request, pending=pending)
        if account is None:
            messages.error(request, _("That identity is already connected to an account."))
        else:
            messages.success(
                request,
                _("%(provider)s is connected. Next time you can sign in with it.")
                % {"provider": provider.name},
            )
        return redirect("socialaccount_connections")
    if request.user.is_authenticated and not owner:
        single_sign_on.pending_connection_discard(request)
    return render(
        request,
        "socialaccount/connect_existing.html",
        {
            "provider": provider,
            "email": pending["email"],
            "owner": owner,
            "other_account": request.user.is_authenticated and not owner,
            "next": request.path,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def public_name(request: HttpRequest) -> HttpResponse:
    """Choose the name to show beside what one posts; then on to where one was going.

    People who signed up with a password gave one; people who came by single
    sign-on may not have, and are sent here before they join or post.
    """
    from accounts.signup_forms import PublicNameForm

    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path on this site (redirect() would read anything else as a view's name).
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = ""
    form = PublicNameForm(
        request.POST if request.method == "POST" else None,
        initial={"display_name": request.user.display_name},
    )
    if request.method == "POST" and form.is_valid():
        public_name_set(user=request.user, display_name=form.cleaned_data["display_name"])
        messages.success(request, _("Your name is saved."))
        return redirect(target or "profile")
    return render(
        request,
        "accounts/public_name.html",
        {"form": form, "next": target},
        status=400 if form.errors else 200,
    )
