"""The concept document's page, put together: one rendering per study event and viewer class.

The document page (``contributions/document.html``) shows the latest
published version block by block with each block's counts and credits, and
the items on passages no longer in the document. All of that is the same
for every viewer of a class (anonymous visitors; signed-in people with the
same rights), so, as the study page does (contributions/page.py), the page
is rendered once per study event number, version, class, language, time
zone, address and open passage as a ``core.shells.Shell``, kept per
process, and each request fills its slots:

- ``csrf``, ``next``, ``messages``: the CSRF token, where the language form
  returns to, Django's messages for this request;
- ``viewer_id``, ``viewer_role`` and, signed in, ``unread``: what live.js
  and the header show for this person;
- ``aside``: the study page's aside panels (moderation tools), rendered
  per request with this viewer's rights;
- ``panel``: the open passage's panel (``?open=<anchor>``, the page without
  JavaScript), with this person's support, forms and CSRF token.

Everything the shell shows is named in its key (``_shell_key``): the event
number covers every change to items, their replies, support, decisions,
moderation and names (docs/live.md); the study's ``updated_at`` covers a
new version (studies/structure.py), and the version's id is in the key too.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape

from accounts.selectors import unread_count
from contributions import extensions, listing, page, passages
from core.memory import Memory, MiB
from core.shells import Shell, slot
from studies import selectors as study_selectors
from studies.access import Action, StudyAccess
from studies.blocks import version_blocks

# Document page shells: one per study, event number, class, language and address in use.
SHELLS_MAX = 256
_shells = Memory("contributions.document_shells", SHELLS_MAX, max_bytes=MiB)  # ~20 KB each
# A shell holds the items' text: text that must leave no copy goes with it.
listing.also_forget(_shells.clear)
# Each study's block counts per event number: the same for every reader
# (passages.block_counts), asked for by every open page after each event.
_counts = Memory("contributions.document_counts", 1024, max_bytes=MiB // 4)


def latest_version(study):
    """The study's latest published version, from the study's kept structure (no query
    while the study is unchanged: a new version moves its ``updated_at``)."""
    return study_selectors.study_structure(study).latest_version


def block_counts(study, version) -> dict[str, dict[str, int]]:
    """passages.block_counts of ``version`` as of the study's event number, read once."""
    if version is None:
        return {}
    return _counts.get_or_set(
        (study.pk, study.created_at, study.last_event_seq, version.pk),
        lambda: passages.block_counts(study=study, version=version),
    )


def _shell_key(request: HttpRequest, access: StudyAccess, version, open_anchor: str) -> tuple:
    study = access.study
    return (
        study.pk,
        study.created_at,
        study.slug,
        study.last_event_seq,
        study.updated_at,
        study.status,
        getattr(version, "pk", None),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        request.path,
        open_anchor,
        page.viewer_class(access, request.user),
    )


def _render_shell(request: HttpRequest, access: StudyAccess, version, open_anchor: str) -> Shell:
    """The page with slot markers where this request's own values go: 5 to 8 queries,
    however many blocks and items (the blocks, counts, credits, and the items on
    passages no longer in the document when there are any)."""
    study = access.study
    user = request.user
    blocks = version_blocks(version) if version is not None else []
    counts = block_counts(study, version)
    credits = passages.block_credits(version=version) if version is not None else {}
    context = {
        "study": study,
        "version": version,
        "blocks": [(b, counts.get(b.anchor, {}), credits.get(b.anchor, [])) for b in blocks],
        "gone": passages.gone_items(study=study, version=version) if version else [],
        "open_anchor": open_anchor,
        "ws_path": f"/ws/studies/{study.slug}/",
        "last_seq": study.last_event_seq,
        "can_contribute": user.is_authenticated and access.can(Action.CONTRIBUTE, user),
        "csrf_token": slot("csrf"),
        "page_next": slot("next"),
        "messages_html": slot("messages"),
        "viewer_id": slot("viewer_id"),
        "viewer_role": slot("viewer_role"),
        "aside_html": slot("aside"),
        "panel_html": slot("panel"),
        "unread_notifications": slot("unread"),
    }
    return Shell.of(render_to_string("contributions/document.html", context, request))


def _aside_html(request: HttpRequest, access: StudyAccess) -> str:
    """The study page's aside panels: the panels' items take its per-item controls
    (flag, moderate), which those panels bring (contributions.extensions)."""
    user = request.user
    context = {
        "study": access.study,
        "access": access,
        "can_contribute": user.is_authenticated and access.can(Action.CONTRIBUTE, user),
        "can_moderate": user.is_authenticated and access.can(Action.MODERATE, user),
    }
    return page.panels_html(request, context, extensions.study_page_panels()["aside"])


def document_page(
    request: HttpRequest,
    access: StudyAccess,
    *,
    open_anchor: str = "",
    panel: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    """The document page for this request: the kept shell, filled with this viewer's
    values and, when ``panel`` is given (the context of the open passage's panel,
    passage_views._panel_context), that panel."""
    study = access.study
    user = request.user
    version = latest_version(study)
    key = _shell_key(request, access, version, open_anchor)
    shell = _shells.get(key)
    if shell is None:
        shell = _render_shell(request, access, version, open_anchor)
        _shells.set(key, shell)
    values = {
        "csrf": escape(get_token(request)),
        "next": escape(request.get_full_path()),
        "messages": page.messages_html(request),
        "viewer_id": str(user.pk) if user.is_authenticated else "",
        "viewer_role": escape(access.role or ""),
        "aside": _aside_html(request, access),
        "panel": (
            render_to_string("contributions/_passage_panel.html", panel, request) if panel else ""
        ),
    }
    if user.is_authenticated:
        values["unread"] = str(unread_count(user=user))
    return HttpResponse(shell.fill(values), status=status)
