"""Moderation pages and actions. Thin: fetch through the permission helper, call a service."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from contributions.models import Contribution, ItemState
from core.params import search_text
from moderation import selectors, services
from moderation.forms import (
    AnswerForm,
    ApproveForm,
    BlockForm,
    DismissForm,
    FlagForm,
    HideForm,
    LogFilterForm,
    NoteForm,
    QueueFilterForm,
    RejectForm,
    RemoveForm,
    RestoreForm,
    UnblockForm,
)
from studies.access import Action, StudyAccess, study_for_user


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


# --- queue and overview -----------------------------------------------------


def _queue_context(request: HttpRequest, studies: list) -> dict:
    filters = QueueFilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    queue = selectors.moderation_queue(
        studies=studies,
        show=cleaned.get("show", ""),
        reason=cleaned.get("reason", ""),
        item_type=cleaned.get("item_type", ""),
    )
    return {
        "filters": filters if filters.is_bound else QueueFilterForm(),
        "queue": queue,
        "figures": selectors.moderation_figures(studies=studies),
        "hide_form": HideForm(),
        "reject_form": RejectForm(),
    }


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Every study this person moderates, with one queue across them."""
    accesses = selectors.moderated_studies(user=request.user)
    studies = [a.study for a in accesses]
    context = _queue_context(request, studies)
    context.update(
        {
            "accesses": accesses,
            "per_study": [
                (a.study, selectors.moderation_figures(studies=[a.study])) for a in accesses
            ],
            "sockets": json.dumps([f"/ws/moderation/{s.slug}/" for s in studies]),
            "multi_study": True,
        }
    )
    template = "moderation/_queue.html" if request.htmx else "moderation/overview.html"
    return render(request, template, context)


@login_required
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MODERATE)
    context = _queue_context(request, [access.study])
    context.update(
        {
            "access": access,
            "study": access.study,
            "sockets": json.dumps([f"/ws/moderation/{access.study.slug}/"]),
            "multi_study": False,
        }
    )
    template = "moderation/_queue.html" if request.htmx else "moderation/queue.html"
    return render(request, template, context)


# --- one item ---------------------------------------------------------------


@dataclass(frozen=True)
class ItemAction:
    form: type[forms.Form]
    run: Callable
    done: str


def _with_reason(service: Callable) -> Callable:
    """A decision taken with a reason and a note: hide, reject, remove."""

    def run(access, user, item, data):
        service(study=access.study, actor=user, item=item, reason=data["reason"], note=data["note"])

    return run


def _run_restore(access, user, item, data):
    services.item_restore(study=access.study, actor=user, item=item, reason=data["reason"])


def _run_approve(access, user, item, data):
    services.item_approve(study=access.study, actor=user, item=item)


def _run_dismiss(access, user, item, data):
    services.flags_dismiss(study=access.study, actor=user, item=item, note=data["note"])


def _run_note(access, user, item, data):
    services.note_add(study=access.study, actor=user, item=item, body=data["body"])


def _run_answer(access, user, item, data):
    services.official_answer_create(
        study=access.study, actor=user, contribution=item, body=data["body"]
    )


ITEM_ACTIONS: dict[str, ItemAction] = {
    "hide": ItemAction(
        HideForm, _with_reason(services.item_hide), gettext_lazy("The item is hidden.")
    ),
    "restore": ItemAction(RestoreForm, _run_restore, gettext_lazy("The item is published again.")),
    "approve": ItemAction(ApproveForm, _run_approve, gettext_lazy("The item is published.")),
    "reject": ItemAction(
        RejectForm, _with_reason(services.item_reject), gettext_lazy("The item was not approved.")
    ),
    "remove": ItemAction(
        RemoveForm, _with_reason(services.item_remove), gettext_lazy("The item is removed.")
    ),
    "dismiss": ItemAction(DismissForm, _run_dismiss, gettext_lazy("The flags are dismissed.")),
    "note": ItemAction(NoteForm, _run_note, gettext_lazy("Your note is saved.")),
    "answer": ItemAction(
        AnswerForm, _run_answer, gettext_lazy("The official answer is published.")
    ),
}


def _item_page(
    request: HttpRequest,
    access: StudyAccess,
    item,
    item_type: str,
    *,
    bound: tuple[str, forms.Form] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    forms_by_name = {
        name: spec.form(auto_id=f"id_{name}_%s") for name, spec in ITEM_ACTIONS.items()
    }
    if bound is not None:
        forms_by_name[bound[0]] = bound[1]
    context = {
        "access": access,
        "study": access.study,
        "item": item,
        "item_type": item_type,
        "record": selectors.item_record(item=item),
        "forms": forms_by_name,
        "error": error,
        "failed_action": bound[0] if bound else "",
        "ItemState": ItemState,
        "is_contribution": isinstance(item, Contribution),
        "author_membership": access.study.memberships.filter(user_id=item.author_id).first(),
    }
    return render(request, "moderation/item.html", context, status=status)


@login_required
def item_detail(request: HttpRequest, slug: str, item_type: str, item_id: int) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MODERATE)
    item = selectors.item_for_study(study=access.study, item_type=item_type, item_id=item_id)
    return _item_page(request, access, item, item_type)


@login_required
@require_POST
def item_action(
    request: HttpRequest, slug: str, item_type: str, item_id: int, action: str
) -> HttpResponse:
    spec = ITEM_ACTIONS.get(action)
    if spec is None:
        raise Http404("Unknown action")
    access = study_for_user(request.user, slug, Action.MODERATE)
    item = selectors.item_for_study(study=access.study, item_type=item_type, item_id=item_id)
    form = spec.form(request.POST, auto_id=f"id_{action}_%s")
    if not form.is_valid():
        return _item_page(request, access, item, item_type, bound=(action, form), status=400)
    try:
        spec.run(access, request.user, item, form.cleaned_data)
    except services.ModerationError as exc:
        item.refresh_from_db()
        return _item_page(
            request,
            access,
            item,
            item_type,
            bound=(action, form),
            error=exc.messages[0],
            status=400,
        )
    messages.success(request, str(spec.done))
    default = reverse("moderation:item", args=[access.study.slug, item_type, item.pk])
    return redirect(_next_url(request, default))


# --- flags ------------------------------------------------------------------


def _blocked_page(request: HttpRequest, access: StudyAccess) -> HttpResponse:
    return render(
        request,
        "moderation/blocked.html",
        {"study": access.study, "membership": access.membership},
        status=403,
    )


@login_required
@require_POST
def flag(request: HttpRequest, slug: str, item_type: str, item_id: int) -> HttpResponse:
    try:
        access = study_for_user(request.user, slug, Action.CONTRIBUTE)
    except PermissionDenied:
        seen = study_for_user(request.user, slug)
        if seen.is_blocked:
            return _blocked_page(request, seen)
        raise
    item = selectors.item_for_study(study=access.study, item_type=item_type, item_id=item_id)
    back = _next_url(request, reverse("study_detail", args=[access.study.slug]))
    form = FlagForm(request.POST)

    def refused(error: str | None = None) -> HttpResponse:
        context = {
            "study": access.study,
            "item": item,
            "item_type": item_type,
            "form": form,
            "next": back,
            "error": error,
        }
        return render(request, "moderation/flag.html", context, status=400)

    if not form.is_valid():
        return refused()
    try:
        _flag, created = services.flag_create(
            study=access.study,
            user=request.user,
            item=item,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except services.ModerationError as exc:
        return refused(exc.messages[0])
    if created:
        messages.success(request, _("Thank you. The facilitators will look at it."))
    else:
        messages.info(request, _("You have already flagged this item."))
    return redirect(back)


# --- members ----------------------------------------------------------------


@login_required
def members(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MODERATE)
    query = search_text(request.GET.get("q"))
    blocked_only = request.GET.get("blocked") == "1"
    page = Paginator(
        selectors.members_for_moderation(
            study=access.study, query=query, blocked_only=blocked_only
        ),
        50,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "moderation/members.html",
        {
            "access": access,
            "study": access.study,
            "page": page,
            "query": query,
            "blocked_only": blocked_only,
            "block_form": BlockForm(),
            "unblock_form": UnblockForm(),
        },
    )


def _member_page(request, access, membership, *, form=None, action="block", error="", status=200):
    return render(
        request,
        "moderation/member.html",
        {
            "access": access,
            "study": access.study,
            "membership": membership,
            "block_form": form if action == "block" and form is not None else BlockForm(),
            "unblock_form": form if action == "unblock" and form is not None else UnblockForm(),
            "error": error,
        },
        status=status,
    )


@login_required
def member_detail(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MODERATE)
    membership = selectors.member_for_study(study=access.study, membership_id=membership_id)
    return _member_page(request, access, membership)


@login_required
@require_POST
def member_block(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MODERATE)
    membership = selectors.member_for_study(study=access.study, membership_id=membership_id)
    form = BlockForm(request.POST)
    if not form.is_valid():
        return _member_page(request, access, membership, form=form, status=400)
    try:
        services.member_block(
            study=access.study,
            actor=request.user,
            membership=membership,
            reason=form.cleaned_data["reason"],
            until=form.cleaned_data["until"],
        )
    except services.ModerationError as exc:
        membership.refresh_from_db()
        return _member_page(
            request, access, membership, form=form, error=exc.messages[0], status=400
        )
    messages.success(request, _("The member is blocked and has been told why."))
    return redirect("moderation:member", access.study.slug, membership.pk)


@login_required
@require_POST
def member_unblock(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    access = study_for_user(request.user, slug, Action.MODERATE)
    membership = selectors.member_for_study(study=access.study, membership_id=membership_id)
    form = UnblockForm(request.POST)
    if not form.is_valid():
        return _member_page(request, access, membership, form=form, action="unblock", status=400)
    try:
        services.member_unblock(
            study=access.study,
            actor=request.user,
            membership=membership,
            reason=form.cleaned_data["reason"],
        )
    except services.ModerationError as exc:
        membership.refresh_from_db()
        return _member_page(
            request,
            access,
            membership,
            form=form,
            action="unblock",
            error=exc.messages[0],
            status=400,
        )
    messages.success(request, _("The block is lifted."))
    return redirect("moderation:member", access.study.slug, membership.pk)


# --- the log ----------------------------------------------------------------


@login_required
def log(request: HttpRequest, slug: str) -> HttpResponse:
    """The study's moderation log, for its coordinators."""
    access = study_for_user(request.user, slug, Action.EXPORT)
    filters = LogFilterForm(request.GET or None)
    action = filters.cleaned_data.get("action", "") if filters.is_valid() else ""
    page = Paginator(selectors.study_log(study=access.study, action=action), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "moderation/log.html",
        {
            "access": access,
            "study": access.study,
            "page": page,
            "filters": filters if filters.is_bound else LogFilterForm(),
            "action": action,
        },
    )


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


@login_required
def log_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The whole log as CSV (UTF-8 with BOM for spreadsheets), cells formula-escaped."""
    access = study_for_user(request.user, slug, Action.EXPORT)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="moderation-log-{access.study.slug}-{stamp}.csv"'
    )
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("time"),
            _("study"),
            _("by"),
            _("action"),
            _("target"),
            _("target id"),
            _("reason"),
            _("details"),
        ]
    )
    for entry in selectors.study_log(study=access.study).iterator(chunk_size=500):
        writer.writerow(
            [
                csv_cell(timezone.localtime(entry.created_at).isoformat(timespec="seconds")),
                csv_cell(access.study.slug),
                csv_cell(entry.actor.public_name if entry.actor else _("Dugnad (automatic)")),
                csv_cell(entry.action),
                csv_cell(entry.target_type),
                csv_cell(entry.target_id),
                csv_cell(entry.reason),
                csv_cell(json.dumps(entry.details, ensure_ascii=False, sort_keys=True)),
            ]
        )
    return response
