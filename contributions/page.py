"""The study page, put together: one rendering per study event and viewer class.

The page (``contributions/study_detail.html``) is the same for every viewer
of a class (anonymous visitors; signed-in people with the same rights)
except for a few values that belong to one person. It is rendered once per
study event number, class, language, time zone and address as a
``core.shells.Shell`` with a slot for each such value, kept per process,
and each request fills the slots:

- ``csrf``: the CSRF token, in every form and in htmx's headers;
- ``next``: the address the language form returns to;
- ``messages``: Django's messages for this request (usually none);
- ``aside`` and ``main``: the panels other apps add that are rendered per
  request (a blocked member's notice; polls, which open and close by the
  clock and show the person's votes). Panels the same for every viewer of a
  class (moderation's tools, the empty polls section of a study without
  polls) are rendered into the shell (contributions.extensions);
- for signed-in people only: ``unread`` (the notification count),
  ``viewer_id``, ``viewer_role`` and ``reacted`` (what live.js needs),
  ``actions`` (membership and the join button, kept per what they show),
  ``form`` (the posting form
  with a fresh idempotency key) and ``list`` (the contributions with this
  person's controls).

For an anonymous visitor the rest is the class's own, so a visitor's page
costs the access check, the panels and a join.

Everything the shell shows is named in its key (``_shell_key``): the event
number covers every change to items, reactions and memberships
(docs/live.md), a changed name included (contributions/names.py), and the
study's ``updated_at`` and structure its header.
"""

from __future__ import annotations

import uuid

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import mark_safe

from accounts.administrators import is_administrator
from accounts.selectors import unread_count
from contributions import controls, extensions, fragments, listing, selectors
from contributions.forms import ContributionFilterForm, ContributionForm
from core.memory import Memory, MiB
from core.params import whole_number
from core.shells import Shell, slot
from studies import selectors as study_selectors
from studies.access import Action, StudyAccess
from studies.models import Section

# The empty forms, rendered once per process for a key that names the language
# and the choices; per-request values (the CSRF token, an idempotency key) are
# left as fragments.CSRF_SLOT / IDEMPOTENCY_SLOT and filled per request.
_forms = Memory("contributions.forms", 256, max_bytes=MiB // 2)
# Values under keys that name a state that never changes (a study's event number).
_memo = Memory("contributions.memo", 4096, max_bytes=MiB // 2)
# Study page shells: one per study, event number, class, language and address in use.
# Only the newest event number's are asked for again: the rest wait to fall out.
# A shell weighs 14 KB (a short study) to 60 KB or more: the byte bound decides.
SHELLS_MAX = 256
SHELLS_BYTES = 3 * MiB
_shells = Memory("contributions.shells", SHELLS_MAX, max_bytes=SHELLS_BYTES)
# A visitor's shell holds the list itself: text that must leave no copy goes with it.
listing.also_forget(_shells.clear)

PERSONAL_SLOTS = ("viewer_id", "viewer_role", "reacted")


def form_html(key: tuple, render) -> str:
    return _forms.get_or_set((translation.get_language(), *key), render)


def reacted(user, study, last_seq: int) -> list[str]:
    """The items this person reacted to, as of the study's event number ``last_seq``.

    Every reaction given or taken back records a study event, so for one event
    number the answer never changes: kept per process, read once.
    """
    if not user.is_authenticated:
        return []
    return _memo.get_or_set(
        ("reacted", study.pk, study.created_at, user.pk, last_seq),
        lambda: selectors.reacted_keys(user=user, study=study),
    )


def viewer_of(request: HttpRequest, access: StudyAccess, *, reacted: list[str], next_url: str):
    """What the viewer's controls on each item need (contributions/controls.py)."""
    user = request.user
    can_contribute = access.can(Action.CONTRIBUTE, user)
    can_moderate = access.can(Action.MODERATE, user)
    signed_in = user.is_authenticated
    viewer = controls.Viewer(
        slug=access.study.slug,
        user_id=user.pk if signed_in else None,
        can_contribute=can_contribute,
        can_moderate=can_moderate,
        can_flag=signed_in and can_contribute and not can_moderate,
        reacted=frozenset(reacted),
        next_url=next_url,
    )
    if not viewer.anonymous:
        viewer.csrf_token = get_token(request)
    return viewer


def page_url(study, filter_query: str) -> str:
    url = reverse("study_detail", args=[study.slug])
    return f"{url}?{filter_query}" if filter_query else url


def filtering(request: HttpRequest, study) -> tuple[ContributionFilterForm | None, dict, str]:
    """The list's filter from the query string: the form (None when there is no
    filter: everything), the selector's filters and the query string to keep."""
    data = {k: request.GET[k] for k in ("section", "kind") if request.GET.get(k)}
    if not data:
        return None, {}, ""
    form = ContributionFilterForm(
        data, sections=study_selectors.study_structure(study).section_rows
    )
    return form, form.filters(), form.querystring()


def _contribution_form_html(request: HttpRequest, study) -> str:
    """The empty posting form, rendered once per study, language and open sections."""
    rows = study_selectors.study_structure(study).open_section_rows()

    def render_form() -> str:
        sections = Section.objects.filter(study=study, pk__in=[pk for pk, _title in rows])
        form = ContributionForm(
            sections=sections, initial={"idempotency_key": fragments.IDEMPOTENCY_SLOT}
        )
        return render_to_string(
            "contributions/_contribution_form.html",
            {"form": form, "study": study, "csrf_token": fragments.CSRF_SLOT},
        )

    html = form_html(("contribution", study.slug, rows), render_form)
    return mark_safe(  # noqa: S308 - rendered by the template, slots hold token text
        html.replace(fragments.CSRF_SLOT, get_token(request)).replace(
            fragments.IDEMPOTENCY_SLOT, str(uuid.uuid4())
        )
    )


def _filter_html(filter_form: ContributionFilterForm | None, study) -> str:
    """The empty filter form, rendered once per study, language and sections."""
    if filter_form is not None:
        return ""  # rendered with its values and errors by the template
    rows = study_selectors.study_structure(study).section_rows
    return mark_safe(  # noqa: S308 - rendered by the template
        form_html(
            ("filter", study.slug, tuple(rows)),
            lambda: render_to_string(
                "contributions/_contribution_filter.html",
                {
                    "filter_form": ContributionFilterForm(sections=rows),
                    "filters": {},
                    "study": study,
                },
            ),
        )
    )


def panels_html(request: HttpRequest, context: dict, names: list[str]) -> str:
    """These panels' templates (contributions.extensions), rendered in order."""
    return mark_safe(  # noqa: S308 - rendered by the panels' templates
        "".join(render_to_string(name, context, request) for name in names)
    )


def _panels(request: HttpRequest, context: dict) -> dict[str, str]:
    """The panels other apps add that are rendered per request, for this viewer;
    the per-class ones are in the shell."""
    access, user = context["access"], request.user
    return {
        place: panels_html(request, context, extensions.per_request_panels(place, access, user))
        for place in extensions.PLACES
    }


def _shell_panels(request: HttpRequest, context: dict, place: str) -> str:
    """The place's per-class panels, rendered into the shell, then the slot for the rest."""
    kept = panels_html(request, context, extensions.per_class_panels(place))
    return mark_safe(kept + slot(place))  # noqa: S308 - rendered by the panels' templates


def _actions_html(request: HttpRequest, context: dict) -> str:
    """The signed-in viewer's part of the header (membership, joining, staff links),
    rendered once per process for everything it shows, the same for many people."""
    header, study = context["header"], context["study"]
    membership = header["membership"]
    organisation = getattr(membership, "organisation", None)
    key = (
        "actions",
        translation.get_language(),
        header["structure_key"],  # the study's id, creation, updated_at, status
        study.slug,
        study.title,
        study.joining,
        header["is_member"],
        getattr(membership, "role", None),
        getattr(organisation, "pk", None),
        getattr(organisation, "name", None),
        header["pending_request"],
        header["can_join"],
        is_administrator(request.user),
    )
    return _memo.get_or_set(
        key, lambda: render_to_string("studies/_study_actions.html", context, request)
    )


def messages_html(request: HttpRequest) -> str:
    storage = get_messages(request)
    if not len(storage):
        return ""
    return render_to_string("_messages.html", {"messages": storage}, request)


def viewer_class(access: StudyAccess, user) -> tuple:
    """What a page shell depends on about the viewer: their rights, nothing personal
    (the study page's and the concept document page's)."""
    if not user.is_authenticated:
        return ("anonymous",)
    return (
        "signed-in",
        access.can(Action.CONTRIBUTE, user),
        access.can(Action.MODERATE, user),
        access.can(Action.MANAGE, user),
        is_administrator(user),
    )


def _shell_key(request, access, *, last_seq: int, header: dict, kind: tuple) -> tuple:
    study = access.study
    return (
        study.slug,
        last_seq,
        # The study's id, creation, status, updated_at, phase states and document version.
        header["structure_key"],
        study_selectors.study_structure(study).open_section_rows(),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        request.get_full_path(),
        kind,
    )


def study_page(request: HttpRequest, access: StudyAccess) -> HttpResponse:
    """The study page for this request: the kept shell, filled with this viewer's values."""
    study = access.study
    user = request.user
    # The page's events start after this number: it is read (with the study)
    # before the items, so whatever commits in between is replayed, never lost.
    last_seq = study.last_event_seq
    filter_form, filters, filter_query = filtering(request, study)
    # ?before=N opens the list at an older item (a search result links there).
    before = whole_number(request.GET.get("before"), minimum=1)
    listed = {**filters, "before": before} if before else filters
    page = listing.contribution_listing(
        study=study,
        last_seq=last_seq,
        load=lambda: selectors.contribution_page(study=study, **listed),
        **listed,
    )
    header = study_selectors.study_header_context(access, user=user)
    signed_in = user.is_authenticated
    kind = viewer_class(access, user)
    can_contribute = access.can(Action.CONTRIBUTE, user)
    next_url = page_url(study, filter_query)
    key = _shell_key(request, access, last_seq=last_seq, header=header["study_header"], kind=kind)
    context = {
        "study": study,
        "access": access,
        "can_contribute": can_contribute,
        "can_moderate": access.can(Action.MODERATE, user),
        "panels": extensions.study_page_panels(),
        **header,
        "header": header["study_header"],
        "page": page,
        "filter_form": filter_form,
        "filters": filters,
        "filter_query": filter_query,
        "before": before,
        "last_seq": last_seq,
        "ws_path": f"/ws/studies/{study.slug}/",
        "form": can_contribute,
    }
    shell = _shells.get(key)
    if shell is None:
        shell = _render_shell(request, access, context, signed_in=signed_in)
        _shells.set(key, shell)
    values = {
        "csrf": escape(get_token(request)),
        "next": escape(request.get_full_path()),
        "messages": messages_html(request),
        **_panels(request, context),
    }
    if signed_in:
        reacted_keys = reacted(user, study, last_seq)
        viewer = viewer_of(request, access, reacted=reacted_keys, next_url=next_url)
        values.update(
            {
                "unread": str(unread_count(user=user)),
                "viewer_id": str(user.pk),
                "viewer_role": escape(access.role or ""),
                "reacted": escape(" ".join(reacted_keys)),
                "actions": _actions_html(request, context),
                "form": _contribution_form_html(request, study) if can_contribute else "",
                "list": page.html(viewer),
            }
        )
    return HttpResponse(shell.fill(values))


def _render_shell(request: HttpRequest, access: StudyAccess, context: dict, *, signed_in) -> Shell:
    """The page with slot markers where this request's own values go."""
    study = access.study
    context = {
        **context,
        "csrf_token": slot("csrf"),
        "page_next": slot("next"),
        "messages_html": slot("messages"),
        "filter_html": _filter_html(context["filter_form"], study),
    }
    if signed_in:
        context.update({name: slot(name) for name in PERSONAL_SLOTS})
        context.update(
            {
                "unread_notifications": slot("unread"),
                "study_actions": slot("actions"),
                "form_html": slot("form"),
                "contributions_html": slot("list"),
            }
        )
    else:
        anonymous = controls.Viewer(slug=study.slug)
        context.update(
            {
                "viewer_id": "",
                "viewer_role": "",
                "reacted": "",
                "study_actions": mark_safe(  # noqa: S308 - rendered by the template
                    render_to_string("studies/_study_actions.html", context, request)
                ),
                "form_html": "",
                "contributions_html": mark_safe(  # noqa: S308 - escaped by the item templates
                    context["page"].html(anonymous)
                ),
            }
        )
    context.update(
        {
            "aside_html": _shell_panels(request, context, "aside"),
            "main_html": _shell_panels(request, context, "main"),
        }
    )
    return Shell.of(render_to_string("contributions/study_detail.html", context, request))
