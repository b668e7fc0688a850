"""The concept document with comments on its passages and amendments (contributions.passages).

The document page shows the latest published version block by block, each
with its comment and amendment counts; a block's panel (fetched by
static/js/passages.js, or opened by ``?open=<anchor>`` without JavaScript)
lists what is pinned to it and holds the forms. New items arrive over the
study socket as ordinary contribution events; the page refetches the counts
and the open panel when one of them concerns the document.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from contributions import document_page, passages, services
from contributions.forms import IdempotentForm
from contributions.models import Comment, Contribution, ContributionKind, ItemState, Reaction
from core.params import WholeNumberField
from studies.access import Action, StudyAccess, study_for_user
from studies.blocks import version_blocks
from studies.models import DocumentBlock

ANCHOR_MAX = 16
QUOTE_MAX = passages.QUOTE_MAX


class PassageCommentForm(IdempotentForm):
    body = forms.CharField(
        label=gettext_lazy("Your comment on this passage"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=services.COMMENT_MAX,
        error_messages={"required": gettext_lazy("Write something before you post.")},
    )
    quote = forms.CharField(
        label=gettext_lazy("Quoted words (optional)"),
        required=False,
        max_length=passages.QUOTE_MAX,
        help_text=gettext_lazy("Select words in the passage to quote them, or leave empty."),
    )
    version = WholeNumberField(widget=forms.HiddenInput, required=False, min_value=1)


class PassageReplyForm(IdempotentForm):
    body = forms.CharField(
        label=gettext_lazy("Your reply"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=services.COMMENT_MAX,
        error_messages={"required": gettext_lazy("Write something before you post.")},
    )


class AmendmentForm(IdempotentForm):
    wording = forms.CharField(
        label=gettext_lazy("Proposed wording"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=passages.WORDING_MAX,
        error_messages={"required": gettext_lazy("Write the wording you propose.")},
    )
    body = forms.CharField(
        label=gettext_lazy("Why this wording?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=passages.REASON_MAX,
        error_messages={"required": gettext_lazy("Say why the wording should change.")},
    )
    version = WholeNumberField(widget=forms.HiddenInput, required=False, min_value=1)


class DecisionForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[(s.value, s.label) for s in passages.DECISIONS],
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason, shown to everyone"),
        max_length=passages.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _block(access: StudyAccess, anchor: str) -> DocumentBlock | None:
    """The block ``anchor`` of the latest version, or None."""
    if len(anchor) > ANCHOR_MAX:
        return None
    version = document_page.latest_version(access.study)
    if version is None:
        return None
    return next((b for b in version_blocks(version) if b.anchor == anchor), None)


def _panel_context(
    request: HttpRequest,
    access: StudyAccess,
    block: DocumentBlock,
    *,
    comment_form: PassageCommentForm | None = None,
    amendment_form: AmendmentForm | None = None,
    reply_form: tuple[int, PassageReplyForm] | None = None,
    message: str = "",
    notice: str = "",
) -> dict:
    user = request.user
    items = passages.attach_replies(passages.block_items(study=access.study, block=block))
    supported: set[int] = set()
    if user.is_authenticated and items:
        supported = set(
            Reaction.objects.filter(
                user=user, contribution_id__in=[p.contribution_id for p in items]
            ).values_list("contribution_id", flat=True)
        )
    can_contribute = user.is_authenticated and access.can(Action.CONTRIBUTE, user)
    if can_contribute:
        # Each published item has its reply form; a refused one comes back bound.
        bound_pk, bound = reply_form or (None, None)
        for passage in items:
            pk = passage.contribution_id
            if passage.contribution.state == ItemState.PUBLISHED:
                passage.reply_form = (
                    bound if pk == bound_pk else PassageReplyForm(prefix=f"reply-{pk}")
                )
    version_id = block.version_id
    return {
        "study": access.study,
        "block": block,
        "items": items,
        "supported": supported,
        "viewer_id": user.pk if user.is_authenticated else None,
        "can_contribute": can_contribute,
        "can_moderate": user.is_authenticated and access.can(Action.MODERATE, user),
        "comment_form": comment_form
        or PassageCommentForm(
            initial={"version": version_id, "quote": request.GET.get("quote", "")[:QUOTE_MAX]},
            prefix="comment",
        ),
        "amendment_form": amendment_form
        or AmendmentForm(initial={"version": version_id, "wording": block.source}, prefix="amend"),
        "decision_statuses": passages.DECISIONS,
        "undecided": passages.UNDECIDED,
        "message": message,
        "notice": notice,
    }


@require_GET
def document(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug)
    open_anchor = request.GET.get("open", "")[:ANCHOR_MAX]
    block = _block(access, open_anchor) if open_anchor else None
    panel = _panel_context(request, access, block) if block is not None else None
    return document_page.document_page(request, access, open_anchor=open_anchor, panel=panel)


@require_GET
def block_counts(request: HttpRequest, slug: str) -> JsonResponse:
    access = study_for_user(request.user, slug)
    version = document_page.latest_version(access.study)
    counts = document_page.block_counts(access.study, version)
    return JsonResponse({"version": version.pk if version else None, "blocks": counts})


@require_GET
def block_panel(request: HttpRequest, slug: str, anchor: str) -> HttpResponse:
    access = study_for_user(request.user, slug)
    block = _block(access, anchor)
    if block is None:
        return render(
            request,
            "contributions/_refusal.html",
            {"message": _("This passage is not in the current version of the concept document.")},
            status=404,
        )
    return render(
        request, "contributions/_passage_panel.html", _panel_context(request, access, block)
    )


def _answer(
    request: HttpRequest,
    access: StudyAccess,
    anchor: str,
    *,
    status: int = 200,
    **forms_and_message,
) -> HttpResponse:
    """The block's panel (htmx) or the document with it open; a refusal when it is gone."""
    block = _block(access, anchor)
    if block is None:
        message = forms_and_message.get("message") or _(
            "This passage is not in the current version of the concept document."
        )
        template = (
            "contributions/_refusal.html"
            if _is_htmx(request)
            else "contributions/refusal_page.html"
        )
        context = {"message": message, "study": access.study}
        return render(request, template, context, status=404 if status == 200 else status)
    notice = forms_and_message.pop("notice", "")
    if status == 200 and not _is_htmx(request):
        if notice:
            messages.info(request, notice)
        url = reverse("passages:document", args=[access.study.slug])
        return redirect(f"{url}?open={anchor}#{anchor}")
    if notice:
        forms_and_message["notice"] = notice
    panel = _panel_context(request, access, block, **forms_and_message)
    if _is_htmx(request):
        return render(request, "contributions/_passage_panel.html", panel, status=status)
    return document_page.document_page(
        request, access, open_anchor=anchor, panel=panel, status=status
    )


def _rate_limited(request, access, anchor, error: services.RateLimited, **forms) -> HttpResponse:
    seconds = max(error.retry_after, 1)
    message = _(
        "You are posting faster than the study allows. Take a short break and try again "
        "in %(seconds)d seconds; what you wrote is still in the form."
    ) % {"seconds": seconds}
    response = _answer(request, access, anchor, status=429, message=message, **forms)
    response["Retry-After"] = str(seconds)
    return response


def _refused(request: HttpRequest, access: StudyAccess, anchor: str) -> HttpResponse | None:
    """A person who may not post here is refused (403) before their form is read,
    with the service's own reason; None for everyone else."""
    try:
        services._require_contribute(
            study=access.study, user=request.user, membership=access.membership
        )
    except PermissionDenied as error:
        return _answer(request, access, anchor, status=403, message=str(error))
    return None


def _save(request, access, anchor, form, create, **bound) -> HttpResponse:
    """Post what the bound ``form`` holds with ``create(cleaned_data)``: the panel with a
    notice if it waits for approval, or with the reason it was refused and, in ``bound``
    (e.g. ``comment_form=form``), the form as it was sent. An item that takes no more
    replies is refused with its reason (400)."""
    if not form.is_valid():
        return _answer(request, access, anchor, status=422, **bound)
    try:
        item = create(form.cleaned_data)
    except services.RateLimited as error:
        return _rate_limited(request, access, anchor, error, **bound)
    except PermissionDenied as error:
        return _answer(request, access, anchor, status=403, message=str(error))
    except ValidationError as error:
        if getattr(error, "code", None) == "closed":
            return _answer(request, access, anchor, status=400, message=_message(error))
        _add_errors(form, error)
        return _answer(request, access, anchor, status=422, **bound)
    return _answer(request, access, anchor, notice=_waiting(item))


def _post(request: HttpRequest, slug: str, anchor: str, form, form_key: str, create, **fields):
    """Post a passage comment or an amendment from the bound ``form`` with ``create``
    (passages.passage_comment_create or amendment_create); ``fields`` names the form
    field that gives each of its own arguments."""
    access = study_for_user(request.user, slug)
    refused = _refused(request, access, anchor)
    if refused is not None:
        return refused

    def create_from(data: dict):
        return create(
            study=access.study,
            author=request.user,
            anchor=anchor,
            version_id=data["version"],
            idempotency_key=data["idempotency_key"],
            membership=access.membership,
            **{argument: data[field] for argument, field in fields.items()},
        )

    return _save(request, access, anchor, form, create_from, **{form_key: form})


@login_required
@require_POST
def passage_comment(request: HttpRequest, slug: str, anchor: str) -> HttpResponse:
    form = PassageCommentForm(request.POST, prefix="comment")
    create = passages.passage_comment_create
    return _post(request, slug, anchor, form, "comment_form", create, body="body", quote="quote")


@login_required
@require_POST
def amendment_propose(request: HttpRequest, slug: str, anchor: str) -> HttpResponse:
    form = AmendmentForm(request.POST, prefix="amend")
    create = passages.amendment_create
    return _post(
        request, slug, anchor, form, "amendment_form", create, wording="wording", reason="body"
    )


@login_required
@require_POST
def passage_reply(request: HttpRequest, slug: str, anchor: str, pk: int) -> HttpResponse:
    """Reply to a comment or amendment in a passage's panel (one level: not to a reply)."""
    access = study_for_user(request.user, slug)
    # An anchor is letters, digits and dashes: one with a NUL names no passage
    # (and PostgreSQL refuses it in a query).
    found = "\x00" not in anchor and len(anchor) <= ANCHOR_MAX
    item = passages.passage_item(study=access.study, anchor=anchor, pk=pk) if found else None
    if item is None:
        return _answer(
            request,
            access,
            anchor,
            status=404,
            message=_("There is no such comment or amendment on this passage."),
        )
    refused = _refused(request, access, anchor)
    if refused is not None:
        return refused
    if "parent" in request.POST or f"reply-{pk}-parent" in request.POST:
        message = _(
            "Replies on a passage go one level deep: reply to the comment or amendment itself."
        )
        return _answer(request, access, anchor, status=400, message=message)
    form = PassageReplyForm(request.POST, prefix=f"reply-{pk}")
    return _save(
        request,
        access,
        anchor,
        form,
        lambda data: passages.passage_reply_create(
            contribution=item,
            author=request.user,
            body=data["body"],
            idempotency_key=data["idempotency_key"],
        ),
        reply_form=(pk, form),
    )


def _waiting(item: Contribution | Comment) -> str:
    """What the poster is told when their item waits for approval (pre-moderation)."""
    if item.state == ItemState.PENDING:
        return _("Thank you. It appears here once a facilitator has approved it.")
    return ""


def _amendment(access: StudyAccess, pk: int) -> tuple[Contribution, str]:
    """An amendment of this study (404 otherwise) and the anchor it sits on now."""
    contribution = get_object_or_404(
        Contribution.objects.select_related("study", "passage__block", "author"),
        study=access.study,
        pk=pk,
        kind=ContributionKind.AMENDMENT,
    )
    return contribution, contribution.passage.block.anchor


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _act(request: HttpRequest, access: StudyAccess, anchor: str, act) -> HttpResponse:
    """Do ``act()`` to an amendment: the panel as it is now, or with the refusal (403, 409)."""
    try:
        act()
    except PermissionDenied as error:
        return _answer(request, access, anchor, status=403, message=_message(error))
    except ValidationError as error:
        return _answer(request, access, anchor, status=409, message=_message(error))
    return _answer(request, access, anchor)


def _on_amendment(act):
    """The view of a member's post on an amendment (support, withdraw): ``act`` with it."""

    @login_required
    @require_POST
    def view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        access = study_for_user(request.user, slug)
        contribution, anchor = _amendment(access, pk)
        return _act(
            request, access, anchor, lambda: act(contribution=contribution, user=request.user)
        )

    return view


amendment_support = _on_amendment(passages.amendment_support)
amendment_withdraw = _on_amendment(passages.amendment_withdraw)


@login_required
@require_POST
def amendment_decide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    # The staff power needs the second factor: study_for_user checks it.
    access = study_for_user(request.user, slug, Action.MODERATE)
    contribution, anchor = _amendment(access, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        errors = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _answer(request, access, anchor, status=422, message=errors)
    return _act(
        request,
        access,
        anchor,
        lambda: passages.amendment_decide(
            contribution=contribution,
            by=request.user,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        ),
    )
