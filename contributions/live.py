"""Publishing contributions and comments to the study's live stream.

An item's HTML is rendered here once, viewer-neutral (no per-viewer
controls: those are added on the client from data attributes and the
viewer's role, and the server re-checks every action), then handed to
``studies.events.record_event``, which records it in the caller's
transaction and broadcasts it after commit.

Event data contract (``StudyEvent.data``) for items:

    revision    the item's revision; clients replace an element only with a newer one
    container   DOM id of the list the item belongs in, when inserted
    position    "append" or "prepend" inside the container
    item_type   "contribution" or "comment"
    item_id     primary key
    section_id, kind
                contributions only: a page filtered by section or kind inserts only matches
    state       ItemState value
    remove      true when the item no longer has a place on the page (rejected)
    announce    {language code: short text} for the screen-reader live region (new items)
    html_alt    {language code: html} for the other site languages; ``html`` itself is
                rendered in settings.LANGUAGE_CODE
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from contributions import fragments
from contributions.models import Comment, Contribution, ItemState
from studies import events
from studies.models import StudyEvent

CONTRIBUTION_LIST_ID = "contributions"

# Kinds used by this app. Moderation may pass its own kinds through item_change_state.
CREATED = "created"
EDITED = "edited"
WITHDRAWN = "withdrawn"
REACTION = "reaction"
STATE = "state"
TAKEN_UP = "taken_up"  # a document version took the contribution up
PUBLISHED = "published"  # a pending item approved: new to every viewer


def item_type(item: Contribution | Comment) -> str:
    return "contribution" if isinstance(item, Contribution) else "comment"


def comments_container_id(contribution_id: int) -> str:
    return f"contribution-{contribution_id}-comments"


def official_container_id(contribution_id: int) -> str:
    return f"contribution-{contribution_id}-official"


def replies_container_id(comment_id: int) -> str:
    return f"comment-{comment_id}-replies"


def container_for(item: Contribution | Comment) -> tuple[str, str]:
    """The DOM id of the list an item goes into, and where in it."""
    if isinstance(item, Contribution):
        return CONTRIBUTION_LIST_ID, "prepend"
    if item.parent_id:
        return replies_container_id(item.parent_id), "append"
    if item.official:
        return official_container_id(item.contribution_id), "append"
    return comments_container_id(item.contribution_id), "append"


def item_payload(*, item: Contribution | Comment, kind: str) -> dict:
    """The event body for ``item`` (kind, key, html, data), rendered once, not recorded.

    Views also hand this to the poster's own page, so their item appears even
    while their socket is reconnecting; clients apply it idempotently.
    """
    type_ = item_type(item)
    full_kind = kind if "." in kind else f"{type_}.{kind}"
    container, position = container_for(item)
    on_page = item.state not in (ItemState.PENDING, ItemState.REJECTED)
    data = {
        "revision": item.revision,
        "container": container,
        "position": position,
        "item_type": type_,
        "item_id": item.pk,
        "state": item.state,
    }
    if isinstance(item, Comment):
        data["contribution_id"] = item.contribution_id
        data["parent_id"] = item.parent_id
    else:
        # Pages filtered by section or kind insert only the contributions they show.
        data["section_id"] = item.section_id
        data["kind"] = item.kind
    html = ""
    if not on_page:
        data["remove"] = True
    else:
        announce = kind in (CREATED, PUBLISHED)
        languages = [code for code, _name in settings.LANGUAGES]
        rendered = fragments.item_html_in(item, languages)
        announcements: dict[str, str] = {}
        if announce:
            for code in languages:
                with translation.override(code):
                    announcements[code] = _announcement(item)
        html = rendered.pop(settings.LANGUAGE_CODE)
        data["html_alt"] = rendered
        if announce:
            data["announce"] = announcements
    return {"kind": full_kind, "key": item.dom_id, "html": html, "data": data}


def publish_item(*, item: Contribution | Comment, kind: str) -> StudyEvent:
    """Record and (after commit) broadcast the current look of ``item``.

    Call inside the write's transaction: a rolled-back write sends nothing.
    ``kind`` is prefixed with the item type unless it already contains a dot,
    e.g. "created" becomes "contribution.created".
    """
    payload = item_payload(item=item, kind=kind)
    return events.record_event(study_id=item.study_id, **payload)


def _announcement(item: Contribution | Comment) -> str:
    if isinstance(item, Contribution):
        return gettext("New contribution: %(title)s") % {"title": item.title}
    return gettext("New comment from %(name)s") % {"name": item.author.public_name}
