"""No malformed websocket message raises in the server: every route answers an error or closes.

Each route is opened as a person whose session may open it (a facilitator, with
two-factor, of a members-only study) from the site's own origin; then one
malformed message is sent on a fresh socket (so the per-socket message limit
is not what answers). The answer must be ``{"type": "error", ...}`` or a
close; an exception out of the consumer fails the test. Run it on PostgreSQL
too: a huge number reaches a query there.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from studies.models import Role, Visibility
from tests.factories import MembershipFactory, UserFactory, give_mfa
from tests.security.test_sockets import SITE, SOCKET_PATHS, _session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

DEEP = 200

MESSAGES: dict[str, dict] = {
    "not json": {"text": "resume after 3"},
    "empty text": {"text": ""},
    "binary": {"bytes": b"\x00\x01\xff"},
    "json null": {"text": "null"},
    "json number": {"text": "42"},
    "json string": {"text": '"resume"'},
    "json list": {"text": '[{"type": "resume", "after": 0}]'},
    "nul": {"text": "\x00"},
    "nul in the type": {"text": json.dumps({"type": "resume\x00", "after": 0})},
    "nul in a value": {"text": json.dumps({"type": "resume", "after": "\x00"})},
    "unknown type": {"text": json.dumps({"type": "subscribe", "study": "other"})},
    "type of the wrong kind": {"text": json.dumps({"type": ["resume"], "after": 0})},
    "no type": {"text": json.dumps({"after": 0})},
    "resume without after": {"text": json.dumps({"type": "resume"})},
    "after null": {"text": json.dumps({"type": "resume", "after": None})},
    "after true": {"text": json.dumps({"type": "resume", "after": True})},
    "after a string": {"text": json.dumps({"type": "resume", "after": "3"})},
    "after superscript two": {"text": json.dumps({"type": "resume", "after": "²"})},
    "after a fraction": {"text": json.dumps({"type": "resume", "after": 1.5})},
    "after negative": {"text": json.dumps({"type": "resume", "after": -1})},
    "after huge": {"text": json.dumps({"type": "resume", "after": 10**30})},
    "after 2**63": {"text": json.dumps({"type": "resume", "after": 2**63})},
    "after a list": {"text": json.dumps({"type": "resume", "after": [1]})},
    "after a mapping": {"text": json.dumps({"type": "resume", "after": {"n": 1}})},
    "after infinity": {"text": '{"type": "resume", "after": Infinity}'},
    "nested": {"text": "[" * DEEP + "]" * DEEP},
    "nested in after": {"text": '{"type": "resume", "after": ' + "[" * DEEP + "]" * DEEP + "}"},
    "lone surrogate": {"text": '{"type": "\\ud800", "after": 0}'},
    "huge": {"text": json.dumps({"type": "resume", "after": 0, "pad": "x" * 1_000_000})},
    "huge digits": {"text": '{"type": "resume", "after": ' + "9" * 5000 + "}"},
}


def _facilitator() -> tuple[str, object]:
    membership = MembershipFactory(
        study__visibility=Visibility.MEMBERS,
        role=Role.FACILITATOR,
        user=give_mfa(UserFactory()),
    )
    return membership.study.slug, membership.user


async def _answer(path: str, cookie: bytes, message: dict) -> dict:
    """The first answer to ``message`` that is not a viewer count: a sent error or a close."""
    from config.asgi import application

    communicator = WebsocketCommunicator(
        application, path, headers=[(b"origin", SITE), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected, path
    try:
        await communicator.send_input({"type": "websocket.receive", **message})
        while True:
            output = await communicator.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                return {"closed": output.get("code")}
            payload = json.loads(output["text"])
            if payload.get("type") != "presence":
                return payload
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize("route", sorted(SOCKET_PATHS))
async def test_every_malformed_message_gets_an_error_or_a_close_never_an_exception(route):
    slug, user = await sync_to_async(_facilitator)()
    cookie = await sync_to_async(_session_cookie)(user)
    path = SOCKET_PATHS[route].format(slug=slug)
    found = []
    for label, message in MESSAGES.items():
        try:
            answer = await _answer(path, cookie, message)
        except Exception as exc:  # noqa: BLE001 - each one is a finding
            found.append(f"{label}: {exc!r}"[:300])
            continue
        if answer.get("type") != "error" and "closed" not in answer:
            found.append(f"{label}: answered {answer}"[:300])
    assert not found, "\n".join(found)


async def test_a_socket_that_sends_too_many_messages_is_closed_cleanly():
    from config.asgi import application

    slug, user = await sync_to_async(_facilitator)()
    cookie = await sync_to_async(_session_cookie)(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/studies/{slug}/", headers=[(b"origin", SITE), (b"cookie", cookie)]
    )
    assert (await communicator.connect(timeout=5))[0]
    for _ in range(40):
        await communicator.send_to(text_data="{}")
    codes = []
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            codes.append(output["code"])
            break
    assert codes == [4429]
    await communicator.disconnect()
