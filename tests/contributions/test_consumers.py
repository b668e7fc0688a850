import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from config.asgi import application
from contributions import presence, services
from studies.models import Membership, MembershipStatus, Visibility
from tests.contributions.factories import member
from tests.factories import StudyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
# The site's own origin (SITE_URL in the embedded default): core/origins.py.
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def cookie_for(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def connect(study, user=None, origin=ORIGIN):
    headers = [origin] if origin else []
    if user is not None:
        headers.append(await database_sync_to_async(cookie_for)(user))
    communicator = WebsocketCommunicator(application, f"/ws/studies/{study.slug}/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def receive_type(communicator, wanted: str, timeout: float = 2):
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == wanted:
            return message


async def messages_until(communicator, wanted: str, timeout: float = 2):
    seen = []
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == "presence":
            continue
        seen.append(message)
        if message["type"] == wanted:
            return seen


@database_sync_to_async
def study_with_posts(count: int, title: str = "Item"):
    """A study in which a member has posted ``count`` contributions, "Item 0" onwards."""
    study = StudyFactory()
    author = member(study)
    for n in range(count):
        services.contribution_create(study=study, author=author, title=f"{title} {n}", body="b")
    return study


async def test_anonymous_visitor_connects_to_public_study():
    study = await database_sync_to_async(StudyFactory)()
    communicator, connected, _ = await connect(study)
    assert connected
    await communicator.disconnect()


async def test_anonymous_is_refused_on_members_only_study():
    study = await database_sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)
    communicator, connected, _ = await connect(study)
    assert not connected


async def test_non_member_is_refused_and_member_is_let_in_on_members_only_study():
    study = await database_sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)
    outsider = await database_sync_to_async(UserFactory)()
    _, connected, _ = await connect(study, outsider)
    assert not connected
    insider = await database_sync_to_async(member)(study)
    communicator, connected, _ = await connect(study, insider)
    assert connected
    await communicator.disconnect()


async def test_foreign_origin_is_refused():
    study = await database_sync_to_async(StudyFactory)()
    _, connected, _ = await connect(study, origin=(b"origin", b"https://evil.example"))
    assert not connected
    _, connected, _ = await connect(study, origin=None)
    assert not connected


async def test_unknown_study_is_refused():
    study = await database_sync_to_async(StudyFactory)()
    study.slug = "no-such-study"
    _, connected, _ = await connect(study)
    assert not connected


async def test_socket_receives_a_new_contribution_live():
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)
    communicator, connected, _ = await connect(study)
    assert connected
    await communicator.send_json_to({"type": "resume", "after": 0})
    await receive_type(communicator, "resumed")
    contribution = await database_sync_to_async(services.contribution_create)(
        study=study, author=author, title="<b>Live</b> idea", body="Text"
    )
    event = await receive_type(communicator, "event")
    assert event["seq"] == 1
    assert event["kind"] == "contribution.created"
    assert event["key"] == contribution.dom_id
    assert "&lt;b&gt;Live&lt;/b&gt; idea" in event["html"]
    assert event["data"]["container"] == "contributions"
    assert event["data"]["revision"] == 1
    await communicator.disconnect()


async def test_catch_up_after_a_gap_replays_missed_events_in_order():
    study = await study_with_posts(3)
    communicator, _, _ = await connect(study)
    await communicator.send_json_to({"type": "resume", "after": 1})
    messages = await messages_until(communicator, "resumed")
    assert [m.get("seq") for m in messages] == [2, 3, 3]
    assert [m["type"] for m in messages] == ["event", "event", "resumed"]
    assert "Item 1" in messages[0]["html"]
    await communicator.disconnect()


async def test_too_far_behind_gets_reload(settings):
    settings.EVENT_REPLAY_LIMIT = 2
    study = await study_with_posts(4)
    communicator, _, _ = await connect(study)
    await communicator.send_json_to({"type": "resume", "after": 0})
    assert await receive_type(communicator, "reload") == {"type": "reload", "seq": 4}
    await communicator.disconnect()


async def test_unknown_resume_id_gets_an_error():
    study = await database_sync_to_async(StudyFactory)()
    communicator, _, _ = await connect(study)
    await communicator.send_json_to({"type": "resume", "after": 999})
    assert (await receive_type(communicator, "error"))["code"] == "unknown_event"
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "not_json"),
        ("[1, 2]", "not_an_object"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "resume", "after": "3"}', "after_must_be_a_whole_number"),
        ('{"type": "resume", "after": true}', "after_must_be_a_whole_number"),
        ('{"type": "resume", "after": -1}', "after_must_be_a_whole_number"),
        ('{"type": "resume", "after": 1.5}', "after_must_be_a_whole_number"),
        (json.dumps({"type": "resume", "after": 0, "pad": "x" * 2000}), "message_too_large"),
    ],
)
async def test_bad_messages_get_an_error_and_everyone_stays_connected(raw, code):
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)
    sender, _, _ = await connect(study)
    bystander, _, _ = await connect(study)
    await sender.send_to(text_data=raw)
    assert (await receive_type(sender, "error"))["code"] == code
    # the sender's socket still works
    await sender.send_json_to({"type": "resume", "after": 0})
    await receive_type(sender, "resumed")
    # and the others still receive events
    await database_sync_to_async(services.contribution_create)(
        study=study, author=author, title="After", body="b"
    )
    assert (await receive_type(bystander, "event"))["seq"] == 1
    await sender.disconnect()
    await bystander.disconnect()


async def test_binary_message_gets_an_error():
    study = await database_sync_to_async(StudyFactory)()
    communicator, _, _ = await connect(study)
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await receive_type(communicator, "error"))["code"] == "binary_not_accepted"
    await communicator.disconnect()


async def test_flooding_socket_is_closed():
    study = await database_sync_to_async(StudyFactory)()
    communicator, _, _ = await connect(study)
    for _ in range(31):
        await communicator.send_to(text_data="x")
    closed = None
    for _ in range(40):
        message = await communicator.receive_output(timeout=2)
        if message["type"] == "websocket.close":
            closed = message
            break
    assert closed["code"] == 4429


async def test_member_who_left_members_only_study_is_dropped_on_resume():
    study = await database_sync_to_async(StudyFactory)(visibility=Visibility.MEMBERS)
    user = await database_sync_to_async(member)(study)
    communicator, connected, _ = await connect(study, user)
    assert connected
    await database_sync_to_async(Membership.objects.filter(user=user).update)(
        status=MembershipStatus.LEFT
    )
    await communicator.send_json_to({"type": "resume", "after": 0})
    for _ in range(5):
        message = await communicator.receive_output(timeout=2)
        if message["type"] == "websocket.close":
            assert message["code"] == 4403  # access ended: the page says so
            break
    else:
        pytest.fail("socket not closed")


async def test_presence_counts_viewers():
    study = await database_sync_to_async(StudyFactory)()
    first, _, _ = await connect(study)
    assert (await receive_type(first, "presence"))["data"]["viewers"] == 1
    second, _, _ = await connect(study)
    assert (await receive_type(second, "presence"))["data"]["viewers"] == 2
    # disconnect() returns once the consumer has finished, its leave counted.
    await second.disconnect()
    assert presence.viewers(study_id=study.pk) == 1
    await first.disconnect()


async def test_nothing_is_broadcast_when_the_transaction_rolls_back():
    study = await database_sync_to_async(StudyFactory)()
    author = await database_sync_to_async(member)(study)
    communicator, _, _ = await connect(study)
    await communicator.send_json_to({"type": "resume", "after": 0})
    await receive_type(communicator, "resumed")

    def failing_post():
        with transaction.atomic():
            services.contribution_create(study=study, author=author, title="Gone", body="b")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await database_sync_to_async(failing_post)()
    await database_sync_to_async(services.contribution_create)(
        study=study, author=author, title="Kept", body="b"
    )
    # The socket's events keep their order: had the rolled-back post been
    # broadcast, it would be the first event here.
    event = await receive_type(communicator, "event")
    assert event["seq"] == 1  # the rolled-back event left no hole
    assert "Kept" in event["html"]
    await communicator.disconnect()
