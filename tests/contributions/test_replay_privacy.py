"""A resume never gives back what is no longer visible.

For each way text or a name leaves the page (hide, remove, withdraw, edit,
hide as personal data, account deletion), a visitor who resumes from before
it receives the item as it is now, and no trace of the earlier text or name
anywhere in what the socket sends.
"""

import json
import pickle

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import account_delete
from config.asgi import application
from contributions import fragments, listing, services
from contributions.models import ItemState, ModerationReason
from core import memory
from studies import events
from studies.models import StudyEvent, Visibility
from tests.contributions.factories import member
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
SECRET = "Kari Nordmann bor i Storgata 7"
NAME = "Ola Hemmeligsen"


def cookie_for(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def resume(study, after: int = 0, user=None) -> list[dict]:
    """Everything the socket sends for a resume after ``after``, until "resumed"."""
    headers = [ORIGIN]
    if user is not None:
        headers.append(await database_sync_to_async(cookie_for)(user))
    communicator = WebsocketCommunicator(application, f"/ws/studies/{study.slug}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "resume", "after": after})
    seen = []
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == "presence":
            continue
        seen.append(message)
        if message["type"] in ("resumed", "reload"):
            break
    await communicator.disconnect()
    return seen


def posted(*, name: str = "Some Author", comment: bool = False):
    study = StudyFactory()
    author = member(study, display_name=name)
    contribution = services.contribution_create(
        study=study, author=author, title="A title", body="Body" if comment else f"Body: {SECRET}"
    )
    item = contribution
    if comment:
        item = services.comment_create(
            contribution=contribution, author=author, body=f"Comment: {SECRET}"
        )
    return study, author, item


def stored_text() -> str:
    return json.dumps(list(StudyEvent.objects.values("kind", "key", "data")))


def cached_text() -> str:
    """Everything the shared (local-memory) cache and this process's kept fragments,
    lists and page shells hold."""
    from contributions import page

    held = [repr(v) for v in fragments._local.values()]
    held += [repr(v.parts) for v in listing._lists.values()]
    held += [repr(v.parts) for v in page._shells.values()]
    store = getattr(cache, "_cache", None)
    if isinstance(store, dict):  # local memory
        held += [repr(pickle.loads(v)) for v in list(store.values())]
    else:  # Redis: every key under this run's prefix
        client = store.get_client(write=False)
        pattern = cache.make_key("*")
        held += [repr(client.get(k)) for k in client.scan_iter(match=pattern)]
    return "\n".join(held)


@pytest.mark.parametrize("comment", [False, True], ids=["contribution", "comment"])
@pytest.mark.parametrize(
    ("state", "reason", "marker"),
    [
        (ItemState.HIDDEN, ModerationReason.OFF_TOPIC, "item-marker"),
        (ItemState.HIDDEN, ModerationReason.PERSONAL_DATA, "item-marker"),
        (ItemState.REMOVED, ModerationReason.ABUSE, "item-marker"),
    ],
    ids=["hidden", "personal-data", "removed"],
)
async def test_resume_after_moderation_gives_the_marker_and_no_trace_of_the_text(
    comment, state, reason, marker
):
    study, _author, item = await database_sync_to_async(posted)(comment=comment)
    await database_sync_to_async(services.item_change_state)(item=item, state=state, reason=reason)
    received = json.dumps(await resume(study))
    assert SECRET not in received
    assert marker in received
    assert f'data-state=\\"{state}\\"' in received
    assert SECRET not in await database_sync_to_async(stored_text)()


@pytest.mark.parametrize("comment", [False, True], ids=["contribution", "comment"])
async def test_resume_after_a_withdrawal_gives_no_trace_of_the_text(comment):
    study, author, item = await database_sync_to_async(posted)(comment=comment)
    withdraw = services.comment_withdraw if comment else services.contribution_withdraw
    kwargs = {"comment" if comment else "contribution": item, "user": author}
    await database_sync_to_async(withdraw)(**kwargs)
    received = json.dumps(await resume(study))
    assert SECRET not in received
    assert "item-marker" in received


@pytest.mark.parametrize("comment", [False, True], ids=["contribution", "comment"])
async def test_resume_after_an_edit_gives_only_the_new_text(comment):
    study, author, item = await database_sync_to_async(posted)(comment=comment)
    if comment:
        await database_sync_to_async(services.comment_edit)(
            comment=item, editor=author, body="Comment: fixed"
        )
    else:
        await database_sync_to_async(services.contribution_edit)(
            contribution=item, editor=author, title="A title", body="Body: fixed"
        )
    messages = await resume(study)
    received = json.dumps(messages)
    assert SECRET not in received
    assert "fixed" in received
    # Several events of one item come back as its current state, once.
    keys = [m["key"] for m in messages if m["type"] == "event"]
    assert keys.count(item.dom_id) == 1


async def test_resume_after_account_deletion_gives_no_trace_of_the_name():
    study, author, item = await database_sync_to_async(posted)(name=NAME, comment=True)
    # The name was broadcast live, and announced, when the comment came.
    await database_sync_to_async(account_delete)(user=author)
    received = json.dumps(await resume(study))
    assert NAME not in received
    assert "Deleted participant" in received or "Slettet deltaker" in received
    assert NAME not in await database_sync_to_async(stored_text)()


async def test_account_deletion_and_personal_data_leave_no_copy_in_the_caches():
    await database_sync_to_async(memory.clear_all)()
    await database_sync_to_async(cache.clear)()
    study, author, item = await database_sync_to_async(posted)(name=NAME, comment=True)
    await database_sync_to_async(lambda: Client().get(f"/studies/{study.slug}/"))()
    await database_sync_to_async(lambda: Client().get(f"/studies/{study.slug}/"))()
    assert NAME in cached_text() and SECRET in cached_text()  # the page's fragments are kept
    await database_sync_to_async(services.item_change_state)(
        item=item, state=ItemState.HIDDEN, reason=ModerationReason.PERSONAL_DATA
    )
    await database_sync_to_async(services.item_change_state)(
        item=item.contribution, state=ItemState.HIDDEN, reason=ModerationReason.PERSONAL_DATA
    )
    assert SECRET not in cached_text()
    await database_sync_to_async(account_delete)(user=author)
    assert NAME not in cached_text()
    page = await database_sync_to_async(lambda: Client().get(f"/studies/{study.slug}/"))()
    assert NAME not in page.content.decode() and SECRET not in page.content.decode()


async def test_a_new_member_of_a_members_only_study_gets_no_trace_of_what_was_taken_away():
    study = await database_sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)

    def history():
        author = member(study, display_name=NAME)
        for n in range(3):
            c = services.contribution_create(
                study=study, author=author, title=f"Item {n}", body=f"{SECRET} {n}"
            )
            services.item_change_state(
                item=c, state=ItemState.HIDDEN, reason=ModerationReason.PERSONAL_DATA
            )
        kept = services.contribution_create(
            study=study, author=author, title="Kept", body="Still here"
        )
        account_delete(user=author)
        return kept, member(study)

    kept, newcomer = await database_sync_to_async(history)()
    messages = await resume(study, user=newcomer)
    received = json.dumps(messages)
    assert SECRET not in received and NAME not in received
    assert "Still here" in received
    # Three items posted and hidden (6 events), one kept, the deletion (names.changed).
    assert messages[-1] == {"type": "resumed", "seq": 8}


async def test_nothing_stored_with_an_event_holds_text_or_names():
    study, author, item = await database_sync_to_async(posted)(name=NAME, comment=True)
    stored = await database_sync_to_async(stored_text)()
    assert SECRET not in stored and NAME not in stored
    assert not hasattr(StudyEvent, "html")


def test_a_resume_reads_a_fixed_number_of_queries(django_db_blocker):
    study, author, first = posted()

    def touch(n: int) -> None:
        for i in range(n):
            c = services.contribution_create(study=study, author=author, title=f"C{i}", body="b")
            services.comment_create(contribution=c, author=author, body=f"c{i}")
            services.reaction_toggle(item=c, user=author)

    def count() -> int:
        memory.clear_all()
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            replay = events.events_after(study_id=study.pk, after=0)
            from contributions import live

            payloads = live.replay_payloads(study_id=study.pk, events=replay.events)
        assert payloads
        return len(queries)

    touch(2)
    few = count()
    touch(10)
    assert count() == few
    # The study's number, the references, contributions, comments, and the
    # contributions' attachments and document versions.
    assert few <= 6
