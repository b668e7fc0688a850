"""Study pages: the list, set-up, status, phases, versions, joining, invitations, roles.

Every view that touches a study gets it from studies.access.study_for_user;
the invitation page is reached by its token, which is the permission.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.administrators import is_administrator, require_administrator
from core.params import search_text
from studies import extensions, selectors, services
from studies.access import Action, study_for_user
from studies.forms import (
    CoordinatorAppointForm,
    DecisionForm,
    InviteAddressesForm,
    InviteCSVForm,
    JoinRequestForm,
    MembershipForm,
    PhaseFormSet,
    RoleForm,
    SectionFormSet,
    StudyCreateForm,
    StudyForm,
    VersionCompareForm,
    VersionForm,
    phase_initial,
    section_initial,
)
from studies.markdown import render_markdown
from studies.models import (
    DocumentVersion,
    Invitation,
    Joining,
    JoinRequest,
    Membership,
    MembershipStatus,
    Role,
    StudyStatus,
)


def _add_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form, by field where it names one."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _error_messages(request: HttpRequest, exc: ValidationError) -> None:
    """Show a service's refusal on the next page, where there is no form to carry it."""
    for message in exc.messages:
        messages.error(request, message)


def _name_first(request: HttpRequest) -> HttpResponse | None:
    """A person without a name to show chooses one before taking part (never their address)."""
    if request.user.display_name.strip():
        return None
    return redirect(f"{reverse('public_name')}?{urlencode({'next': request.get_full_path()})}")


def _read_only_refusal(request: HttpRequest, study) -> HttpResponse | None:
    if study.status in services.EDITABLE_STATUSES:
        return None
    messages.error(request, _("This study is closed: its settings can no longer change."))
    return redirect("studies:status", study.slug)


# --- The list -------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    listing = selectors.study_list(
        user=request.user,
        query=search_text(request.GET.get("q")),
        include_archived=request.GET.get("archived") == "1",
    )
    return render(
        request,
        "studies/home.html",
        {
            "listing": listing,
            "show_archived": request.GET.get("archived") == "1",
            "my_studies": list(selectors.studies_managed_by(user=request.user)),
            "invitations": selectors.invitations_waiting_for(user=request.user),
            "can_create": is_administrator(request.user),
        },
    )


@login_required
@require_GET
def my_studies(request: HttpRequest) -> HttpResponse:
    """The person's studies: those they run, with the way to each tool, and those they joined."""
    return render(
        request,
        "studies/my_studies.html",
        {
            "running": selectors.studies_with_roles(user=request.user),
            "joined": selectors.studies_joined(user=request.user),
            "invitations": selectors.invitations_waiting_for(user=request.user),
        },
    )


# --- Set-up ---------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def study_create(request: HttpRequest) -> HttpResponse:
    """An administrator sets up a draft study and appoints its first coordinator."""
    require_administrator(request)
    form = StudyCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            study = services.study_create(**form.service_arguments(created_by=request.user))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            invited = form.cleaned_data["coordinator_email"]
            if form.cleaned_data["coordinator"] == "invite":
                messages.success(
                    request,
                    _(
                        "The study is created as a draft. An invitation to coordinate it is "
                        "sent to %(email)s; they take it over when they accept."
                    )
                    % {"email": invited},
                )
            else:
                messages.success(
                    request, _("The study is created as a draft, ready for its coordinator.")
                )
            if study.memberships.filter(user=request.user).exists():
                return redirect("studies:settings", study.slug)
            return redirect("administration_studies")
    return render(
        request,
        "studies/study_create.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def administration(request: HttpRequest) -> HttpResponse:
    """The administrators' start page: what needs doing, and the way to every tool."""
    require_administrator(request)
    return render(request, "administration/index.html", selectors.administration_overview())


@login_required
@require_http_methods(["GET", "POST"])
def administration_coordinator(request: HttpRequest, slug: str) -> HttpResponse:
    """An administrator appoints another coordinator of a study, or invites one."""
    # The study first: a members-only study does not exist for outsiders (404), never 403.
    study = study_for_user(request.user, slug, Action.VIEW).study
    require_administrator(request)
    form = CoordinatorAppointForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.study_appoint_coordinator(
                study=study, by=request.user, **form.service_arguments()
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if isinstance(result, Invitation):
                message = _("An invitation to coordinate “%(title)s” is sent to %(email)s.") % {
                    "title": study.title,
                    "email": result.email,
                }
            else:
                message = _("%(name)s now coordinates “%(title)s”.") % {
                    "name": result.user.public_name,
                    "title": study.title,
                }
            messages.success(request, message)
            return redirect("administration_studies")
    return render(
        request,
        "administration/coordinator.html",
        {"study": study, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def administration_studies(request: HttpRequest) -> HttpResponse:
    """Every study on the platform, drafts too, with its coordinators or invited coordinator."""
    require_administrator(request)
    return render(
        request,
        "administration/studies.html",
        {"studies": selectors.studies_for_administrators()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def study_settings(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MANAGE)
    study = access.study
    editable = study.status in services.EDITABLE_STATUSES
    if request.method == "POST":
        if refusal := _read_only_refusal(request, study):
            return refusal
        form = StudyForm(request.POST, instance=study)
        sections = SectionFormSet(request.POST, prefix="sections")
        if form.is_valid() and sections.is_valid():
            try:
                services.study_update(
                    study=study, sections=sections.sections(study), **form.study_fields()
                )
            except ValidationError as exc:
                _add_errors(form, exc)
                study.refresh_from_db()
            else:
                messages.success(request, _("The study's settings are saved."))
                return redirect("studies:settings", study.slug)
    else:
        form = StudyForm(instance=study)
        sections = SectionFormSet(initial=section_initial(study), prefix="sections")
    return render(
        request,
        "studies/study_form.html",
        {"form": form, "sections": sections, "study": study, "editable": editable},
    )


@login_required
@require_http_methods(["GET", "POST"])
def study_phases(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MANAGE)
    study = access.study
    if request.method == "POST":
        if refusal := _read_only_refusal(request, study):
            return refusal
        formset = PhaseFormSet(request.POST, prefix="phases", form_kwargs={"study": study})
        if formset.is_valid():
            try:
                services.phases_save(study=study, phases=formset.phases())
            except ValidationError as exc:
                formset._non_form_errors = formset.error_class(exc.messages)
            else:
                messages.success(request, _("The phases are saved."))
                return redirect("studies:phases", study.slug)
    else:
        formset = PhaseFormSet(
            initial=phase_initial(study), prefix="phases", form_kwargs={"study": study}
        )
    return render(
        request,
        "studies/phases.html",
        {
            "study": study,
            "formset": formset,
            "editable": study.status in services.EDITABLE_STATUSES,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def study_status(request: HttpRequest, slug: str) -> HttpResponse:
    """See the study's status and move it on; closing asks for confirmation first."""
    access = study_for_user(request.user, slug, Action.MANAGE)
    study = access.study
    if request.method == "POST":
        target = request.POST.get("status", "")
        if target == StudyStatus.CLOSED and request.POST.get("confirm") != "yes":
            return redirect("studies:close", study.slug)
        try:
            services.study_set_status(study=study, status=target, by=request.user)
        except ValidationError as exc:
            _error_messages(request, exc)
        else:
            messages.success(request, _("The study's status is changed."))
        return redirect("studies:status", study.slug)
    return render(
        request,
        "studies/status.html",
        {
            "study": study,
            "next_statuses": sorted(services.TRANSITIONS.get(study.status, set())),
            "statuses": StudyStatus,
        },
    )


@login_required
@require_http_methods(["GET"])
def study_close(request: HttpRequest, slug: str) -> HttpResponse:
    """The confirmation page before a study closes for good."""
    access = study_for_user(request.user, slug, Action.MANAGE)
    if access.study.status != StudyStatus.OPEN:
        messages.error(request, _("Only an open study can be closed."))
        return redirect("studies:status", slug)
    return render(request, "studies/close_confirm.html", {"study": access.study})


# --- Versions -------------------------------------------------------------


def version_list(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.VIEW)
    versions = list(selectors.study_versions(study=access.study))
    compare = VersionCompareForm(
        initial={
            "old": versions[1].pk if len(versions) > 1 else None,
            "new": versions[0].pk if versions else None,
        },
        versions=versions,
    )
    return render(
        request,
        "studies/versions.html",
        {
            "study": access.study,
            "versions": versions,
            "compare": compare,
            "can_manage": access.can(Action.MANAGE, request.user),
        },
    )


def version_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.VIEW)
    version = get_object_or_404(
        DocumentVersion.objects.select_related("published_by"), study=access.study, pk=pk
    )
    taken_up = extensions.taken_up_of(version)
    return render(
        request,
        "studies/version_detail.html",
        {
            "study": access.study,
            "version": version,
            "body_html": render_markdown(version.body),
            "taken_up": taken_up,
        },
    )


def version_compare(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.VIEW)
    versions = list(selectors.study_versions(study=access.study))
    form = VersionCompareForm(request.GET or None, versions=versions)
    diff = old = new = None
    rows, amendments = [], []
    if form.is_valid():
        by_pk = {v.pk: v for v in versions}
        old, new = by_pk[form.cleaned_data["old"]], by_pk[form.cleaned_data["new"]]
        diff = selectors.version_diff(old=old.body, new=new.body)
        rows, amendments = selectors.version_amendment_links(old=old, new=new, diff=diff)
    return render(
        request,
        "studies/version_compare.html",
        {
            "study": access.study,
            "form": form,
            "diff": diff,
            "old": old,
            "new": new,
            "rows": rows,
            "amendments": amendments,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def version_create(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MANAGE)
    study = access.study
    if study.status == StudyStatus.ARCHIVED:
        messages.error(request, _("An archived study cannot be changed."))
        return redirect("studies:versions", study.slug)
    choices = extensions.taken_up_choices(study)
    if request.method == "POST":
        form = VersionForm(request.POST, taken_up_choices=choices)
        if form.is_valid():
            try:
                version = services.document_version_publish(
                    study=study,
                    number=form.cleaned_data["number"],
                    body=form.cleaned_data["body"],
                    change_summary=form.cleaned_data["change_summary"],
                    taken_up_ids=form.cleaned_data.get("taken_up", []),
                    by=request.user,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("The version is published and the members are told."))
                return redirect("studies:version_detail", study.slug, version.pk)
    else:
        form = VersionForm(initial={"body": study.body}, taken_up_choices=choices)
    return render(request, "studies/version_form.html", {"study": study, "form": form})


# --- Joining and membership -----------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def study_join(request: HttpRequest, slug: str) -> HttpResponse:
    """Join (open studies) or ask to join (approval studies)."""
    access = study_for_user(request.user, slug, Action.VIEW)
    study = access.study
    if access.is_member:
        return redirect("studies:membership", study.slug)
    if not access.can(Action.JOIN, request.user):
        raise PermissionDenied("join")
    if study.joining == Joining.INVITATION:
        return render(request, "studies/join_invitation_only.html", {"study": study}, status=403)
    if name_first := _name_first(request):
        return name_first
    approval = study.joining == Joining.APPROVAL
    form_class = JoinRequestForm if approval else MembershipForm
    organisations = selectors.organisations_for(user=request.user)
    pending = (
        approval
        and JoinRequest.objects.filter(study=study, user=request.user, status="pending").exists()
    )
    form = form_class(
        request.POST if request.method == "POST" else None, organisations=organisations
    )
    if request.method == "POST" and not pending and form.is_valid():
        try:
            if approval:
                services.join_request_create(
                    study=study,
                    user=request.user,
                    organisation=form.cleaned_data["organisation"],
                    consent_named=form.cleaned_data["consent_named"],
                    message=form.cleaned_data["message"],
                )
                messages.success(
                    request, _("Your request is sent. You will be told when it is decided.")
                )
            else:
                services.membership_join(
                    study=study,
                    user=request.user,
                    organisation=form.cleaned_data["organisation"],
                    consent_named=form.cleaned_data["consent_named"],
                )
                messages.success(request, _("Welcome! You are now a member of the study."))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("study_detail", study.slug)
    return render(
        request,
        "studies/join.html",
        {"study": study, "form": form, "approval": approval, "pending": pending},
    )


@login_required
@require_http_methods(["GET", "POST"])
def membership_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """A member changes who they act for and their consent, or leaves."""
    access = study_for_user(request.user, slug, Action.VIEW)
    if not access.is_member:
        raise PermissionDenied("not a member")
    membership = access.membership
    organisations = selectors.organisations_for(user=request.user)
    form = MembershipForm(
        request.POST if request.method == "POST" else None,
        organisations=organisations,
        initial={
            "organisation": membership.organisation_id,
            "consent_named": membership.consent_named,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                membership=membership,
                organisation=form.cleaned_data["organisation"],
                consent_named=form.cleaned_data["consent_named"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Saved. What you post from now on carries this; earlier posts keep theirs."),
            )
            return redirect("studies:membership", access.study.slug)
    return render(
        request,
        "studies/membership.html",
        {"study": access.study, "membership": membership, "form": form},
    )


@login_required
@require_POST
def membership_leave(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.VIEW)
    if not access.is_member:
        raise PermissionDenied("not a member")
    try:
        services.membership_leave(membership=access.membership)
    except ValidationError as exc:
        _error_messages(request, exc)
        return redirect("studies:membership", slug)
    messages.success(request, _("You have left the study. What you posted stays."))
    try:
        study_for_user(request.user, slug, Action.VIEW)
    except Http404:
        return redirect("home")
    return redirect("study_detail", slug)


# --- Members, roles and requests ------------------------------------------


@login_required
def study_members(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MANAGE)
    study = access.study
    return render(
        request,
        "studies/members.html",
        {
            "study": study,
            "members": selectors.study_members(study=study),
            "requests": selectors.pending_join_requests(study=study),
            "roles": Role.choices,
            "coordinators": selectors.coordinator_count(study=study),
            "open": study.status == StudyStatus.OPEN,
        },
    )


@login_required
@require_POST
def member_role(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MANAGE)
    membership = get_object_or_404(
        Membership.objects.select_related("user"),
        study=access.study,
        pk=membership_id,
        status=MembershipStatus.ACTIVE,
    )
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role from the list."))
    else:
        try:
            services.membership_set_role(
                membership=membership, role=form.cleaned_data["role"], by=request.user
            )
        except ValidationError as exc:
            _error_messages(request, exc)
        else:
            messages.success(
                request,
                _("%(name)s is now %(role)s.")
                % {
                    "name": membership.user.public_name,
                    "role": Role(form.cleaned_data["role"]).label.lower(),
                },
            )
    return redirect("studies:members", access.study.slug)


@login_required
@require_POST
def join_request_decide(request: HttpRequest, slug: str, request_id: int) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MANAGE)
    join_request = get_object_or_404(JoinRequest, study=access.study, pk=request_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or decline."))
        return redirect("studies:members", slug)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.join_request_decide(join_request=join_request, approve=approve, by=request.user)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(
            request,
            _("The request is approved.") if approve else _("The request is declined."),
        )
    return redirect("studies:members", slug)


# --- Invitations ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def study_invitations(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MANAGE)
    study = access.study
    addresses_form = InviteAddressesForm(prefix="list")
    csv_form = InviteCSVForm(prefix="csv")
    result = None
    row_errors = []
    if request.method == "POST":
        if refusal := _read_only_refusal(request, study):
            return refusal
        if request.POST.get("form") == "csv":
            csv_form = InviteCSVForm(request.POST, request.FILES, prefix="csv")
            if csv_form.is_valid():
                parsed = csv_form.cleaned_data["file"]
                row_errors = parsed.errors
                if parsed.addresses:
                    result = services.invitations_create(
                        study=study, emails=parsed.addresses, by=request.user
                    )
                elif not row_errors:
                    csv_form.add_error("file", _("The file has no e-mail addresses."))
        else:
            addresses_form = InviteAddressesForm(request.POST, prefix="list")
            if addresses_form.is_valid():
                result = services.invitations_create(
                    study=study, emails=addresses_form.cleaned_data["addresses"], by=request.user
                )
                addresses_form = InviteAddressesForm(prefix="list")
    status = 200
    if request.method == "POST" and result is None and not row_errors:
        status = 400
    return render(
        request,
        "studies/invitations.html",
        {
            "study": study,
            "addresses_form": addresses_form,
            "csv_form": csv_form,
            "result": result,
            "row_errors": row_errors,
            "invitations": selectors.study_invitations(study=study)[:200],
            "editable": study.status in services.EDITABLE_STATUSES,
        },
        status=status,
    )


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MANAGE)
    invitation = get_object_or_404(Invitation, study=access.study, pk=invitation_id)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, _("The invitation is withdrawn."))
    return redirect("studies:invitations", slug)


@require_http_methods(["GET", "POST"])
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation e-mail. The token is the permission to see the study."""
    invitation = selectors.invitation_by_token(token_hash=services.invitation_token_hash(token))
    if invitation is None:
        return render(
            request,
            "studies/invitation_problem.html",
            {
                "problem": _("This invitation link is not valid. Check that you copied all of it."),
            },
            status=404,
        )
    if not request.user.is_authenticated:
        return render(request, "studies/invitation_signin.html", {"invitation": invitation})
    return _invitation_accept_page(request, invitation)


@login_required
@require_http_methods(["GET", "POST"])
def invitation_waiting(request: HttpRequest, pk: int) -> HttpResponse:
    """An invitation to one of the person's verified addresses, accepted without its link.

    The home page lists these: the e-mail link and the verified address prove
    the same thing. Anyone else's invitation does not exist here.
    """
    invitation = next(
        (i for i in selectors.invitations_waiting_for(user=request.user) if i.pk == pk), None
    )
    if invitation is None:
        raise Http404("No such invitation")
    return _invitation_accept_page(request, invitation)


def _invitation_accept_page(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    try:
        services.invitation_check(invitation=invitation, user=request.user)
    except services.InvitationProblem as problem:
        return render(
            request,
            "studies/invitation_problem.html",
            {"problem": problem.message, "code": problem.code, "invitation": invitation},
            status=403 if problem.code == "wrong_account" else 410,
        )
    if name_first := _name_first(request):
        return name_first
    form = MembershipForm(
        request.POST if request.method == "POST" else None,
        organisations=selectors.organisations_for(user=request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.invitation_accept(
                    invitation=invitation,
                    user=request.user,
                    organisation=form.cleaned_data["organisation"],
                    consent_named=form.cleaned_data["consent_named"],
                )
        except services.InvitationProblem as problem:
            return render(
                request,
                "studies/invitation_problem.html",
                {"problem": problem.message, "code": problem.code, "invitation": invitation},
                status=410,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Welcome! You are now a member of the study."))
            return redirect("study_detail", invitation.study.slug)
    return render(
        request, "studies/invitation_accept.html", {"invitation": invitation, "form": form}
    )
