"""The study page and the htmx endpoints that post on it.

Views stay thin: they fetch the study through studies.access.study_for_user
and items through contributions.selectors, call a service, and render a
fragment. htmx requests get fragments (with 422, 403 or 429 for refusals,
which static/js/live.js swaps in); plain form posts get a redirect.
"""

from __future__ import annotations

import json
import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contributions import listing, live, selectors, services
from contributions.forms import (
    CommentEditForm,
    CommentForm,
    ContributionEditForm,
    ContributionForm,
)
from contributions.models import (
    DOCUMENT_KINDS,
    UNCHECKED_TYPE,
    Attachment,
    Comment,
    Contribution,
    ItemState,
    attachment_filename,
    attachment_type_of,
    content_disposition,
)
from contributions.page import filtering, page_url, reacted, study_page, viewer_of
from core.params import whole_number
from studies import selectors as study_selectors
from studies.access import Action, StudyAccess, study_for_user

# --- helpers ------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _fragment(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, context, status=status)


def _refusal(request: HttpRequest, access: StudyAccess, message: str, status: int) -> HttpResponse:
    response = render(
        request,
        "contributions/_refusal.html" if _is_htmx(request) else "contributions/refusal_page.html",
        {"message": message, "study": access.study},
        status=status,
    )
    return response


def _rate_limited(
    request, access, error: services.RateLimited, *, form, template: str, context: dict
) -> HttpResponse:
    """Too many posts: the same form again, with what was typed and the message (429).

    htmx swaps the form for itself; a plain post gets a page with the form on it.
    """
    seconds = max(error.retry_after, 1)
    message = _(
        "You are posting faster than the study allows. Take a short break and try again "
        "in %(seconds)d seconds; what you wrote is still in the form."
    ) % {"seconds": seconds}
    form.add_error(None, message)
    context = {**context, "form": form, "study": access.study}
    if _is_htmx(request):
        response = render(request, template, context, status=429)
    else:
        response = render(
            request,
            "contributions/refusal_page.html",
            {**context, "form_template": template},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response


def _apply_json(item, kind: str) -> str:
    """The item's event body, for the poster's own page (applied idempotently)."""
    if item.state == ItemState.PENDING:
        return ""  # not on the public page until approved
    # The service already rendered this event for the study (comment_create):
    # the poster's page gets the same body instead of a second rendering.
    payload = getattr(item, "event_payload", None)
    if payload is None or not payload["kind"].endswith(f".{kind}"):
        payload = live.item_payload(item=item, kind=kind)
    return json.dumps(payload)


def _uuid_or_none(value) -> uuid.UUID | None:
    """A UUID from a form value, or None (the form then reports what is wrong)."""
    try:
        return uuid.UUID(value) if value else None
    except (TypeError, ValueError, AttributeError):
        return None


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _done(request, access, item, kind: str, template: str, context: dict) -> HttpResponse:
    """After a successful write: a fragment for htmx, a redirect otherwise."""
    if not _is_htmx(request):
        return redirect(reverse("study_detail", args=[access.study.slug]) + f"#{item.dom_id}")
    context = {**context, "study": access.study, "apply": _apply_json(item, kind)}
    return _fragment(request, template, context)


@require_GET
def study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return study_page(request, study_for_user(request.user, slug))


@require_http_methods(["GET", "POST"])
def contribution_list(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: a page of contributions (load more; the list after "reload"). POST: post one."""
    if request.method == "POST":
        return _contribution_create(request, slug)
    access = study_for_user(request.user, slug)
    last_seq = access.study.last_event_seq
    _form, filters, filter_query = filtering(request, access.study)
    filters = {**filters, "before": whole_number(request.GET.get("before"), minimum=1)}
    page = listing.contribution_listing(
        study=access.study,
        last_seq=last_seq,
        load=lambda: selectors.contribution_page(study=access.study, **filters),
        **filters,
    )
    viewer = viewer_of(
        request,
        access,
        reacted=reacted(request.user, access.study, last_seq),
        next_url=page_url(access.study, filter_query),
    )
    response = _fragment(
        request,
        "contributions/_contribution_list.html",
        {
            "page": page,
            "contributions_html": mark_safe(  # noqa: S308 - escaped by the item templates
                page.html(viewer)
            ),
            "study": access.study,
            "filter_query": filter_query,
        },
    )
    response["X-Dugnad-Last-Seq"] = str(last_seq)
    return response


@login_required
def _contribution_create(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug)
    sections = study_selectors.open_sections(access.study)
    form = ContributionForm(request.POST, request.FILES, sections=sections)
    refused = _refused(request, access)
    if refused is not None:
        return refused

    def posted(contribution: Contribution) -> HttpResponse:
        pending = contribution.state == ItemState.PENDING
        return _done(
            request,
            access,
            contribution,
            live.CREATED,
            "contributions/_contribution_form.html",
            {
                "form": ContributionForm(sections=sections),
                "notice": _(
                    "Thank you. Your contribution will appear when a facilitator has approved it."
                )
                if pending
                else _("Your contribution is posted."),
            },
        )

    return _save(
        request,
        access,
        form,
        lambda data: services.contribution_create(
            study=access.study,
            author=request.user,
            title=data["title"],
            body=data["body"],
            kind=data["kind"],
            section=data.get("section"),
            idempotency_key=data["idempotency_key"],
            attachments=data.get("attachments") or [],
            membership=access.membership,
        ),
        template="contributions/_contribution_form.html",
        context={},
        done=posted,
    )


def _refused(request: HttpRequest, access: StudyAccess) -> HttpResponse | None:
    """Who may not post here, or has no name to post under, is refused (403) before
    their form is read; None for everyone else."""
    if not access.can(Action.CONTRIBUTE, request.user):
        return _refusal(request, access, _not_open_message(access), 403)
    if not request.user.display_name.strip():
        return _refusal(request, access, _name_needed_message(request), 403)
    return None


def _name_needed_message(request: HttpRequest) -> str:
    """Nothing is posted under an e-mail address: a person without a name chooses one first."""
    study_url = reverse("study_detail", args=[request.resolver_match.kwargs["slug"]])
    url = f"{reverse('public_name')}?{urlencode({'next': study_url})}"
    return format_html(
        '{} <a href="{}">{}</a>',
        _("Before you post, choose the name to show beside what you write."),
        url,
        _("Choose your name"),
    )


def _not_open_message(access: StudyAccess) -> str:
    if not access.study.is_open:
        return _("This study is closed: it no longer takes contributions, comments or reactions.")
    if access.is_blocked:
        return _("You are blocked from posting in this study.")
    if not access.is_member:
        return _("Join the study to take part.")
    return _("You cannot post in this study now.")


# --- contributions -----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contribution_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, contribution = _own_item(request, slug, pk, selectors.contribution_for_user)
    if request.method == "GET":
        form = ContributionEditForm(
            initial={
                "title": contribution.title,
                "body": contribution.body,
                "kind": contribution.kind,
            },
            document_kind=contribution.kind in DOCUMENT_KINDS,
        )
        return _edit_form(request, access, contribution, form)
    form = ContributionEditForm(request.POST, document_kind=contribution.kind in DOCUMENT_KINDS)
    return _edit(
        request,
        access,
        contribution,
        form,
        lambda data: services.contribution_edit(
            contribution=contribution,
            editor=request.user,
            title=data.get("title", contribution.title),
            body=data["body"],
            kind=data.get("kind"),
        ),
    )


def _own_item(request, slug: str, pk: int, fetch):
    """The study's access and the person's own item ``pk`` (read with the selector
    ``fetch``), which only its author may edit."""
    access = study_for_user(request.user, slug)
    item = fetch(access=access, pk=pk, user=request.user)
    if item.author_id != request.user.pk:
        raise PermissionDenied
    return access, item


def _edit_form(request, access, item, form, *, status: int = 200) -> HttpResponse:
    key = item_kwarg(item)
    return _fragment(
        request,
        f"contributions/_{key}_edit_form.html",
        {"form": form, key: item, "study": access.study},
        status=status,
    )


def _edit(request, access, item, form, save) -> HttpResponse:
    """Save the edit in the bound ``form`` with ``save(cleaned_data)``: the item as applied,
    or its edit form again."""
    key = item_kwarg(item)
    return _save(
        request,
        access,
        form,
        save,
        template=f"contributions/_{key}_edit_form.html",
        context={key: item},
        done=lambda edited: _done(
            request, access, edited, live.EDITED, "contributions/_applied.html", {}
        ),
    )


def _save(request, access, form, save, *, template: str, context: dict, done) -> HttpResponse:
    """Save what the bound ``form`` holds with ``save(cleaned_data)`` and answer ``done(item)``.

    Otherwise the form again (``template`` with ``context``): with what is wrong (422) or
    with the posting limit (429); or a refusal: 403, and 409 for an amendment that was
    decided meanwhile.
    """
    if form.is_valid():
        try:
            item = save(form.cleaned_data)
        except services.RateLimited as error:
            return _rate_limited(
                request, access, error, form=form, template=template, context=context
            )
        except PermissionDenied as error:
            return _refusal(request, access, str(error), 403)
        except ValidationError as error:
            if getattr(error, "code", None) == "decided":
                return _refusal(request, access, " ".join(error.messages), 409)
            _add_errors(form, error)
        else:
            return done(item)
    context = {**context, "form": form, "study": access.study}
    return _fragment(request, template, context, status=422)


def _comments_response(request, access, contribution, comments, *, title, page_comments=None):
    """Comments for this viewer: a fragment for htmx, a page of its own without JavaScript
    (``page_comments`` there when it shows more than the fragment)."""
    viewer = viewer_of(
        request,
        access,
        reacted=reacted(request.user, access.study, access.study.last_event_seq),
        next_url=page_url(access.study, ""),
    )
    htmx = _is_htmx(request)
    shown = comments if htmx or page_comments is None else page_comments
    context = {
        "comments_html": mark_safe(  # noqa: S308 - escaped by the item templates
            listing.render_comments(shown, viewer)
        ),
        "study": access.study,
        "contribution": contribution,
        "title": title,
    }
    if htmx:
        return _fragment(request, "contributions/_comment_list.html", context)
    return render(request, "contributions/comments_page.html", context)


@require_GET
def contribution_comments(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Every comment of one contribution, replies inline ("Show all N comments")."""
    access = study_for_user(request.user, slug)
    contribution = selectors.contribution_for_user(
        access=access, pk=pk, user=request.user, content=False
    )
    selectors.contribution_comments(contribution=contribution)
    return _comments_response(
        request,
        access,
        contribution,
        contribution.comment_list,
        title=_("Comments"),
        page_comments=[*contribution.official_list, *contribution.comment_list],
    )


@require_GET
def comment_replies(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The replies to one top-level comment ("N replies: show")."""
    access = study_for_user(request.user, slug)
    comment = selectors.comment_for_user(access=access, pk=pk, user=request.user, content=False)
    if comment.parent_id or comment.official:
        raise Http404("Only top-level comments have replies")
    replies = selectors.comment_replies(comment=comment)
    return _comments_response(request, access, comment.contribution, replies, title=_("Replies"))


# --- comments ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def comment_form(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET: a comment, reply or official-answer form. POST: post it."""
    # Posting: the contribution is read with what the post needs (the comment
    # already posted with this key), in one query.
    access, contribution = selectors.contribution_with_access(
        user=request.user,
        slug=slug,
        pk=pk,
        comment_key=_uuid_or_none(request.POST.get("idempotency_key")),
    )
    source = request.POST if request.method == "POST" else request.GET
    official = source.get("official") in ("1", "true", "True", "on")
    if official:
        access = study_for_user(request.user, slug, Action.MODERATE)
    parent = None
    if source.get("parent"):
        parent_id = whole_number(source.get("parent"), minimum=1)
        if parent_id is None:
            raise Http404
        parent = selectors.comment_for_user(access=access, pk=parent_id, user=request.user)
        if parent.contribution_id != contribution.pk:
            raise Http404
    context = {
        "contribution": contribution,
        "parent": parent,
        "official": official,
        "study": access.study,
    }
    if request.method == "GET":
        if not access.can(Action.CONTRIBUTE, request.user):
            return _refusal(request, access, _not_open_message(access), 403)
        form = CommentForm(initial={"parent": parent.pk if parent else None, "official": official})
        return _fragment(request, "contributions/_comment_form.html", {**context, "form": form})
    refused = _refused(request, access)
    if refused is not None:
        return refused

    def posted(comment: Comment) -> HttpResponse:
        notice = (
            _("Thank you. Your comment will appear when a facilitator has approved it.")
            if comment.state == ItemState.PENDING
            else ""
        )
        context = {"notice": notice}
        return _done(request, access, comment, live.CREATED, "contributions/_applied.html", context)

    return _save(
        request,
        access,
        CommentForm(request.POST),
        lambda data: services.comment_create(
            contribution=contribution,
            author=request.user,
            body=data["body"],
            parent=parent,
            official=official,
            idempotency_key=data["idempotency_key"],
            membership=access.membership,
        ),
        template="contributions/_comment_form.html",
        context=context,
        done=posted,
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, comment = _own_item(request, slug, pk, selectors.comment_for_user)
    if request.method == "GET":
        form = CommentEditForm(initial={"body": comment.body})
        return _edit_form(request, access, comment, form)
    return _edit(
        request,
        access,
        comment,
        CommentEditForm(request.POST),
        lambda data: services.comment_edit(comment=comment, editor=request.user, body=data["body"]),
    )


def _withdraw(request, access, item) -> HttpResponse:
    if isinstance(item, Contribution):
        service = services.contribution_withdraw
    else:
        service = services.comment_withdraw
    try:
        item = service(**{item_kwarg(item): item, "user": request.user})
    except PermissionDenied as error:
        return _refusal(request, access, str(error), 403)
    except ValidationError as error:
        return _refusal(request, access, " ".join(error.messages), 422)
    return _done(request, access, item, live.WITHDRAWN, "contributions/_applied.html", {})


def item_kwarg(item) -> str:
    return "contribution" if isinstance(item, Contribution) else "comment"


def _react(request, access, item) -> HttpResponse:
    try:
        reacted, count = services.reaction_toggle(item=item, user=request.user)
    except PermissionDenied as error:
        return _refusal(request, access, str(error), 403)
    except ValidationError as error:
        status = 409 if getattr(error, "code", None) == "closed" else 422
        return _refusal(request, access, " ".join(error.messages), status)
    item.reaction_count = count
    return _done(
        request,
        access,
        item,
        live.REACTION,
        "contributions/_react_button.html",
        {
            "item": item,
            "reacted": reacted,
            "count": count,
            "react_url": reverse(
                f"{item_kwarg(item)}_react", kwargs={"slug": access.study.slug, "pk": item.pk}
            ),
        },
    )


def _on_item(find, answer):
    """The view of a post that acts on one item of the viewer's (withdraw, react): the
    item found with ``find`` (404 for what the viewer may not see), ``answer`` does the rest."""

    @login_required
    @require_POST
    def view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        access = study_for_user(request.user, slug)
        return answer(request, access, find(access=access, pk=pk, user=request.user))

    return view


contribution_withdraw = _on_item(selectors.contribution_for_user, _withdraw)
contribution_react = _on_item(selectors.contribution_for_user, _react)
comment_withdraw = _on_item(selectors.comment_for_user, _withdraw)
comment_react = _on_item(selectors.comment_for_user, _react)


# --- history and files -----------------------------------------------------------


@login_required
@require_GET
def item_history(request: HttpRequest, slug: str, item_type: str, pk: int) -> HttpResponse:
    """Earlier versions of an edited item, for facilitators."""
    access = study_for_user(request.user, slug, Action.MODERATE)
    if item_type == "contributions":
        item = selectors.contribution_for_user(access=access, pk=pk, user=request.user)
    elif item_type == "comments":
        item = selectors.comment_for_user(access=access, pk=pk, user=request.user)
    else:
        raise Http404
    revisions = selectors.item_revisions(item=item)
    template = "contributions/_history.html" if _is_htmx(request) else "contributions/history.html"
    return render(
        request,
        template,
        {
            "study": access.study,
            "item": item,
            "revisions": revisions,
            "is_contribution": item_type == "contributions",
        },
    )


@require_GET
def attachment_download(request: HttpRequest, slug: str, pk: int) -> FileResponse:
    """An attachment, to those who may see its contribution, as the type its bytes show."""
    access = study_for_user(request.user, slug)
    attachment = (
        Attachment.objects.filter(pk=pk, contribution__study=access.study)
        .select_related("contribution")
        .first()
    )
    if attachment is None or not selectors.item_visible_to(
        access=access, item=attachment.contribution, user=request.user
    ):
        raise Http404("No such file")
    # The type is read from the stored bytes again, not from the stored label: what
    # is sent is what was checked, under that type's extension, whatever was stored.
    try:
        handle = attachment.file.open("rb")
    except OSError:  # the row outlived its file (a restore, a cleaned disk): not a 500
        raise Http404("No such file") from None
    content_type, extension = attachment_type_of(handle.read(16)) or UNCHECKED_TYPE
    handle.seek(0)
    response = FileResponse(handle, content_type=content_type)
    # Checked images may open in the browser; everything else is only ever a download.
    response["Content-Disposition"] = content_disposition(
        attachment_filename(attachment.original_name, extension),
        inline=content_type.startswith("image/"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
