"""Poll pages and actions. Thin: the study through studies.access.study_for_user, the
poll through polls.selectors, a service for every write; refusals are readable
fragments (403, 409, 422) that htmx swaps in, or a page for a plain post."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from polls import selectors, services
from polls.forms import DATETIME_FORMAT, HideTextForm, PollForm
from polls.models import Poll
from studies.access import Action, StudyAccess, study_for_user


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _card(
    request: HttpRequest, access: StudyAccess, poll: Poll, *, error: str = "", status: int = 200
) -> HttpResponse:
    view = selectors.poll_view(
        poll=poll,
        access=access,
        user=request.user,
        can_vote=access.can(Action.CONTRIBUTE, request.user),
    )
    template = "polls/_poll.html" if _is_htmx(request) else "polls/poll_page.html"
    response = render(
        request,
        template,
        {"study": access.study, "pv": view, "error": error, "access": access},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def poll_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One poll as this viewer may see it (results only where they may: docs/polls.md)."""
    access = study_for_user(request.user, slug)
    poll = selectors.poll_for_access(access=access, pk=pk)
    return _card(request, access, poll)


@login_required
@require_POST
def poll_vote(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _member_access(request, slug, _("Only members of this open study can vote."))
    poll = selectors.poll_for_access(access=access, pk=pk)
    options = request.POST.getlist("option")
    try:
        services.poll_vote(
            poll=poll,
            user=request.user,
            option_ids=[o for o in options if o != "other"],
            other="other" in options or request.POST.get("other") == "1",
            other_text=request.POST.get("other_text", ""),
            membership=access.membership,
        )
    except services.PollError as error:
        response = _card(request, access, poll, error=error.message, status=error.status)
        if error.retry_after is not None:
            response["Retry-After"] = str(error.retry_after)
        return response
    poll.refresh_from_db()
    if not _is_htmx(request):
        return redirect(reverse("study_detail", kwargs={"slug": slug}) + f"#{poll.dom_id}")
    return _card(request, access, poll)


def _member_access(request: HttpRequest, slug: str, refusal: str) -> StudyAccess:
    """The study for a member who may take part in it now; else refused with ``refusal``."""
    access = study_for_user(request.user, slug)
    if not access.can(Action.CONTRIBUTE, request.user):
        raise PermissionDenied(refusal)
    return access


def _manage_access(request: HttpRequest, slug: str) -> StudyAccess:
    # Facilitators and coordinators (with the study's second-factor rules).
    return study_for_user(request.user, slug, Action.MODERATE)


@login_required
@require_GET
def poll_manage(request: HttpRequest, slug: str) -> HttpResponse:
    """The study's polls for its facilitators and coordinators, with "other" texts to moderate."""
    access = _manage_access(request, slug)
    polls = selectors.study_polls(access=access)
    views = [
        selectors.poll_view(poll=p, access=access, user=request.user, can_vote=False) for p in polls
    ]
    return render(request, "polls/manage.html", {"study": access.study, "views": views})


def _form_page(request, access, form, *, poll=None, error="", status=200) -> HttpResponse:
    return render(
        request,
        "polls/poll_form.html",
        {"study": access.study, "form": form, "poll": poll, "error": error},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def poll_create(request: HttpRequest, slug: str) -> HttpResponse:
    access = _manage_access(request, slug)
    if request.method == "GET":
        return _form_page(request, access, PollForm(study=access.study))
    form = PollForm(request.POST, study=access.study)
    if not form.is_valid():
        return _form_page(request, access, form, status=422)
    try:
        poll = services.poll_create(study=access.study, by=request.user, **form.service_kwargs())
    except services.PollError as error:
        return _form_page(request, access, form, error=error.message, status=error.status)
    return redirect(reverse("study_detail", kwargs={"slug": slug}) + f"#{poll.dom_id}")


@login_required
@require_http_methods(["GET", "POST"])
def poll_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _manage_access(request, slug)
    poll = selectors.poll_for_access(access=access, pk=pk)
    if request.method == "GET":
        initial = {
            "question": poll.question,
            "description": poll.description,
            "options": "\n".join(o.label for o in poll.options.all()),
            "kind": poll.kind,
            "allow_other": poll.allow_other,
            "results_shown": poll.results_shown,
            "opens_at": poll.opens_at and poll.opens_at.strftime(DATETIME_FORMAT),
            "closes_at": poll.closes_at and poll.closes_at.strftime(DATETIME_FORMAT),
            "section": poll.section_id,
        }
        return _form_page(request, access, PollForm(initial=initial, study=access.study), poll=poll)
    form = PollForm(request.POST, study=access.study)
    if not form.is_valid():
        return _form_page(request, access, form, poll=poll, status=422)
    try:
        services.poll_update(poll=poll, by=request.user, **form.service_kwargs())
    except services.PollError as error:
        return _form_page(
            request, access, form, poll=poll, error=error.message, status=error.status
        )
    return redirect("polls:manage", slug=slug)


@login_required
@require_POST
def poll_close(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = _manage_access(request, slug)
    poll = selectors.poll_for_access(access=access, pk=pk)
    try:
        services.poll_close(poll=poll, by=request.user)
    except services.PollError as error:
        return _card(request, access, poll, error=error.message, status=error.status)
    return redirect("polls:manage", slug=slug)


@login_required
@require_POST
def vote_flag(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A member flags an "other" text for the facilitators."""
    access = _member_access(request, slug, _("Only members of this open study can flag."))
    vote = selectors.vote_for_access(access=access, pk=pk)
    try:
        services.vote_text_flag(vote=vote, user=request.user)
    except services.PollError as error:
        return _card(request, access, vote.poll, error=error.message, status=error.status)
    return _card(
        request, access, vote.poll, error=_("Thank you: the facilitators will look at it.")
    )


@login_required
@require_POST
def vote_hide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Hide or restore an "other" text (facilitators): it leaves pages and exports, not counts."""
    access = _manage_access(request, slug)
    vote = selectors.vote_for_access(access=access, pk=pk)
    form = HideTextForm(request.POST)
    if not form.is_valid():
        return _card(request, access, vote.poll, error=_("Choose hide or restore."), status=422)
    try:
        services.vote_text_moderate(
            vote=vote,
            by=request.user,
            hide=form.cleaned_data["action"] == "hide",
            reason=form.cleaned_data["reason"],
        )
    except services.PollError as error:
        return _card(request, access, vote.poll, error=error.message, status=error.status)
    return redirect("polls:manage", slug=slug)
