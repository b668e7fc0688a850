"""Publishing contributions and comments to the study's live stream, and replaying it.

An item's HTML is rendered here once, viewer-neutral (no per-viewer
controls: those are added on the client from data attributes and the
viewer's role, and the server re-checks every action), then handed to
``studies.events.record_event``, which records a *reference* to it in the
caller's transaction and broadcasts the HTML after commit. The HTML, the
other languages' HTML and the announcement are never stored.

A resume (``replay_payloads``) renders the items the missed events touch as
they are now: one message per item, in the order the items were first
touched, so text taken away by a hide, removal, withdrawal, edit or account
deletion cannot come back.

Event data contract for items (stored: everything but ``html_alt`` and
``announce``):

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
from django.db.models import Count, Prefetch
from django.utils import translation
from django.utils.translation import gettext

from contributions import fragments
from contributions.models import Attachment, Comment, Contribution, ItemState
from studies import events
from studies.models import DocumentVersion, StudyEvent

CONTRIBUTION_LIST_ID = "contributions"

# Kinds used by this app. Moderation may pass its own kinds through item_change_state.
CREATED = "created"
EDITED = "edited"
WITHDRAWN = "withdrawn"
REACTION = "reaction"
STATE = "state"
TAKEN_UP = "taken_up"  # a document version took the contribution up
PUBLISHED = "published"  # a pending item approved: new to every viewer
NEW_KINDS = (CREATED, PUBLISHED)
# Sent live, never stored: text (HTML in the other languages, announcements).
LIVE_ONLY = ("html_alt", "announce")


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


def item_payload(*, item: Contribution | Comment, kind: str, new: bool = False) -> dict:
    """The event body for ``item`` (kind, key, html, data), rendered once, not recorded.

    Views also hand this to the poster's own page, so their item appears even
    while their socket is reconnecting; clients apply it idempotently. ``new``:
    the item's row is written in this transaction (fragments.item_html_in).
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
        # Only an item shown as it was written is announced (a replayed item
        # may be new to the viewer and hidden by now: no title, no name).
        announce = kind in NEW_KINDS and item.state == ItemState.PUBLISHED
        languages = [code for code, _name in settings.LANGUAGES]
        rendered = fragments.item_html_in(item, languages, new=new)
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
    return record_payload(study_id=item.study_id, payload=item_payload(item=item, kind=kind))


def record_payload(*, study_id: int, payload: dict) -> StudyEvent:
    """Record ``item_payload``'s reference part and broadcast the whole of it."""
    data = dict(payload["data"])
    live = {name: data.pop(name) for name in LIVE_ONLY if name in data}
    return events.record_event(
        study_id=study_id,
        kind=payload["kind"],
        key=payload["key"],
        html=payload["html"],
        data=data,
        live=live,
    )


def _items(model, study_id: int, ids: set[int]) -> dict:
    if not ids:
        return {}
    queryset = (
        model.objects.filter(study_id=study_id, pk__in=ids)
        .select_related("author", "acted_for", "study")
        .annotate(reaction_count=Count("reactions", distinct=True))
    )
    if model is Contribution:
        queryset = queryset.select_related(
            "section", "passage__origin__version", "amendment__credited_in"
        ).prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at", "id")),
            Prefetch(
                "taken_up_in",
                queryset=DocumentVersion.objects.order_by("published_at", "id").only(
                    "id", "number", "study_id", "published_at"
                ),
            ),
        )
    return {item.pk: item for item in queryset}


def replay_payloads(*, study_id: int, events: list[dict]) -> list[dict]:
    """The missed events (references from ``studies.events.events_after``) as the
    items look now, for a viewer whose access the caller has just checked.

    One message per item, at the number of the first event that touched it
    and in that order (new contributions are prepended in the order they
    came), with the item's current revision, so the client applies it once.
    An item that has no place on the page now (pending, rejected) comes as a
    removal. Events that name no item pass through as they are stored. Reads
    a fixed number of queries: one per item type, plus two prefetches for
    contributions, whatever the number of events.
    """
    touched: dict[tuple[str, int], dict] = {}
    out: list[tuple[int, dict | tuple[str, int]]] = []
    for ref in events:
        data = ref.get("data") or {}
        type_, pk = data.get("item_type"), data.get("item_id")
        if type_ not in ("contribution", "comment") or not isinstance(pk, int):
            out.append((ref["seq"], {**ref, "html": ""}))
            continue
        short_kind = ref["kind"].split(".", 1)[-1]
        seen = touched.get((type_, pk))
        if seen is None:
            touched[(type_, pk)] = {"seq": ref["seq"], "new": short_kind in NEW_KINDS}
            out.append((ref["seq"], (type_, pk)))
        elif short_kind in NEW_KINDS:
            seen["new"] = True
    wanted = {"contribution": set(), "comment": set()}
    for type_, pk in touched:
        wanted[type_].add(pk)
    found = {
        "contribution": _items(Contribution, study_id, wanted["contribution"]),
        "comment": _items(Comment, study_id, wanted["comment"]),
    }
    payloads = []
    for seq, entry in out:
        if isinstance(entry, dict):
            payloads.append(entry)
            continue
        item = found[entry[0]].get(entry[1])
        if item is None:
            continue  # gone with its study; nothing to show
        kind = CREATED if touched[entry]["new"] else STATE
        payload = item_payload(item=item, kind=kind)
        payloads.append({"type": "event", "seq": seq, "replay": True, **payload})
    return payloads


def _announcement(item: Contribution | Comment) -> str:
    if isinstance(item, Contribution):
        return gettext("New contribution: %(title)s") % {"title": item.title}
    return gettext("New comment from %(name)s") % {"name": item.author.public_name}
