"""Scale-out: two ASGI processes that share only PostgreSQL and Redis.

tests/contributions/test_redis.py proves the same with two application
instances inside the test process. Here each instance is a real uvicorn
process on its own port (no proxy), as in platform/compose.yaml, running the
test database pytest-django created: an item posted through one process
reaches a socket held by the other, and a socket that resumes after event N
on the other process receives exactly the missed events, once each. A
Celery worker runs beside them as a third process: an archive asked for
through one ASGI process is built by the worker and downloaded through the
other.

Beside them runs the WSGI web process as platform/Procfile starts it
(gunicorn): a post through it reaches the sockets the uvicorn processes hold,
and a member who leaves through it is closed on them. Every server command
here is the Procfile's own line, with its defaults, on a port of the test's.

Redis publish/subscribe channels are shared by every database index of a
server, so the study gets a random primary key: its group name cannot meet
another test run's on the same Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import sys
import time
import uuid

import httpx
import pytest
from channels.db import database_sync_to_async
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from studies.models import Visibility
from tests.contributions.factories import member
from tests.factories import StudyFactory
from tests.servers import ROOT, database_url_for, free_port, spawn, stop, wait_until_up

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]

RECEIVE_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def _processes(django_db_setup, tmp_path_factory):
    """Two uvicorn processes and a Celery worker on the test database and the shared Redis."""
    from django.db import connection

    from tests.conftest import _missing

    # Module fixtures run before the function-level requires_postgres / requires_redis.
    if not os.environ.get("DATABASE_URL") or connection.vendor != "postgresql":
        _missing("needs PostgreSQL: set DATABASE_URL (both processes share the test database)")
    if not os.environ.get("REDIS_URL"):
        _missing("needs Redis: set REDIS_URL")
    tmp_path = tmp_path_factory.mktemp("scale-out")
    database_url = database_url_for(connection.settings_dict["NAME"])
    requires_redis = os.environ["REDIS_URL"]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "EMAIL_HOST", "SQLITE_PATH", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "REDIS_URL": requires_redis,
            "DB_POOL_MAX_SIZE": "4",
            # Tasks go through Redis to the separate worker, as in production.
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DUGNAD_REQUIRE_MFA": "0",
            "EMAIL_FILE_PATH": str(tmp_path / "mail"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    processes = []
    urls = []
    try:
        for name, kind in (("first", "ws"), ("second", "ws"), ("web", "web")):
            port = free_port()
            log = tmp_path / f"{name}.log"
            process = spawn(procfile_command(kind, port), env, log)
            processes.append(process)
            urls.append((f"http://127.0.0.1:{port}", log))
        processes.append(
            spawn(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "WARNING",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--pool",
                    "solo",
                ],
                env,
                tmp_path / "celery.log",
            )  # fmt: skip
        )
        for (url, log), process in zip(urls, processes, strict=False):
            wait_until_up(url, process, log)
        assert len({p.pid for p in processes}) == 4
        yield [url for url, _ in urls]
    finally:
        stop(*processes)


@pytest.fixture
def two_processes(_processes, requires_postgres, requires_redis):
    """The base URLs of the two uvicorn processes."""
    return _processes[:2]


@pytest.fixture
def web_process(_processes, requires_postgres, requires_redis):
    """The base URL of the WSGI web process (gunicorn)."""
    return _processes[2]


def _session_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@database_sync_to_async
def _study_and_member():
    study = StudyFactory(pk=random.randint(10**8, 2 * 10**9), visibility=Visibility.PUBLIC)  # noqa: S311
    user = member(study)
    return study, _session_for(user)


def procfile_command(kind: str, port: int) -> list[str]:
    """platform/Procfile's ``kind`` line as argv: one worker, on 127.0.0.1:``port``.

    ``${VAR:-default}`` takes its default, but for the port and the worker count.
    """
    line = next(
        line
        for line in (ROOT / "platform" / "Procfile").read_text().splitlines()
        if line.startswith(f"{kind}:")
    )
    chosen = {"PORT": str(port), "WS_PORT": str(port), "WEB_WORKERS": "1", "WS_WORKERS": "1"}
    line = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: chosen.get(m.group(1), m.group(2)), line)
    words = line.split(":", 1)[1].split()
    words = [w.replace("0.0.0.0", "127.0.0.1") for w in words]
    assert words[0] in ("gunicorn", "uvicorn"), line
    return [sys.executable, "-m", *words, "--log-level", "warning"]


class Page:
    """One study page's socket, speaking the page's protocol."""

    def __init__(self, ws) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, base: str, slug: str, session: str | None) -> Page:
        headers = {"Cookie": f"sessionid={session}"} if session else {}
        ws = await connect(
            base.replace("http://", "ws://") + f"/ws/studies/{slug}/",
            origin=base,
            additional_headers=headers,
            open_timeout=RECEIVE_TIMEOUT,
        )
        return cls(ws)

    async def next(self) -> dict:
        """The next message that is not a viewer count."""
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), RECEIVE_TIMEOUT)
            message = json.loads(raw)
            if message["type"] != "presence":
                return message

    async def resume(self, after: int) -> list[dict]:
        """Ask for the events after ``after``; everything up to and with "resumed"."""
        await self.ws.send(json.dumps({"type": "resume", "after": after}))
        messages = []
        while True:
            message = await self.next()
            messages.append(message)
            if message["type"] == "resumed":
                return messages

    async def close(self) -> None:
        await self.ws.close()


async def post_contribution(base: str, slug: str, session: str | None, title: str) -> int:
    token = secrets.token_hex(16)
    cookie = f"csrftoken={token}" + (f"; sessionid={session}" if session else "")
    async with httpx.AsyncClient(timeout=RECEIVE_TIMEOUT) as http:
        response = await http.post(
            f"{base}/studies/{slug}/contributions/",
            data={
                "title": title,
                "kind": "idea",
                "body": "Written on one process, read on the other.",
                "idempotency_key": str(uuid.uuid4()),
            },
            headers={"Cookie": cookie, "X-CSRFToken": token, "HX-Request": "true"},
        )
    return response.status_code


async def test_item_posted_through_one_process_reaches_a_socket_on_the_other(two_processes):
    first, second = two_processes
    study, session = await _study_and_member()
    page = await Page.open(second, study.slug, session)
    try:
        # The client offered permessage-deflate; the server, run as platform/Procfile
        # runs it, declines: compressing each delivery per socket costs more CPU
        # than the bytes it saves (docs/benchmarks.md, fan-out).
        assert page.ws.protocol.extensions == []
        assert (await page.resume(0))[-1] == {"type": "resumed", "seq": 0}
        # Refused: an anonymous post through the first process creates nothing.
        assert await post_contribution(first, study.slug, None, "Anonymous") == 302
        assert await post_contribution(first, study.slug, session, "Through the first") == 200
        event = await page.next()
        assert event["type"] == "event"
        assert event["seq"] == 1  # the refused post recorded no event
        assert event["kind"] == "contribution.created"
        assert "Through the first" in event["html"]
    finally:
        await page.close()


async def test_a_post_through_the_wsgi_web_process_reaches_the_sockets_of_both_socket_processes(
    two_processes, web_process
):
    study, session = await _study_and_member()
    pages = [await Page.open(base, study.slug, session) for base in two_processes]
    try:
        for page in pages:
            assert (await page.resume(0))[-1] == {"type": "resumed", "seq": 0}
        # Refused: an anonymous post through the web process creates nothing.
        assert await post_contribution(web_process, study.slug, None, "Anonymous") == 302
        assert await post_contribution(web_process, study.slug, session, "Through WSGI") == 200
        for page in pages:
            event = await page.next()
            assert (event["type"], event["seq"]) == ("event", 1)
            assert event["kind"] == "contribution.created"
            assert "Through WSGI" in event["html"]
    finally:
        for page in pages:
            await page.close()


async def test_socket_resuming_after_event_n_on_the_other_process_gets_each_missed_event_once(
    two_processes,
):
    first, second = two_processes
    study, session = await _study_and_member()
    page = await Page.open(second, study.slug, session)
    await page.resume(0)
    assert await post_contribution(first, study.slug, session, "One") == 200
    assert (await page.next())["seq"] == 1
    await page.close()

    # While no page is open: two posts through the first process, one through the second.
    for base, title in ((first, "Two"), (first, "Three"), (second, "Four")):
        assert await post_contribution(base, study.slug, session, title) == 200

    page = await Page.open(first, study.slug, session)
    try:
        replay = await page.resume(1)
        assert [m["type"] for m in replay] == ["event", "event", "event", "resumed"]
        assert [m["seq"] for m in replay] == [2, 3, 4, 4]
        assert ["Two" in replay[0]["html"], "Three" in replay[1]["html"]] == [True, True]
        assert "Four" in replay[2]["html"]
        # Live again, through the other process, with nothing replayed a second time.
        for title in ("Five", "Six"):
            assert await post_contribution(second, study.slug, session, title) == 200
        assert [(await page.next())["seq"], (await page.next())["seq"]] == [5, 6]
        # Bad input is refused on this socket only: an event number the study never had.
        await page.ws.send(json.dumps({"type": "resume", "after": 99}))
        assert await page.next() == {"type": "error", "code": "unknown_event"}
    finally:
        await page.close()


@database_sync_to_async
def _export_status(user_id: int) -> tuple[str, str] | None:
    from accounts.models import DataExport

    export = DataExport.objects.filter(user_id=user_id).first()
    return (export.status, str(export.token)) if export else None


async def test_archive_asked_for_on_one_process_is_built_by_the_celery_worker(two_processes):
    first, second = two_processes
    user, session = await database_sync_to_async(_member_with_session)()
    token = secrets.token_hex(16)
    headers = {"Cookie": f"sessionid={session}; csrftoken={token}", "X-CSRFToken": token}
    async with httpx.AsyncClient(timeout=RECEIVE_TIMEOUT) as http:
        # Refused: without a session nothing is queued.
        refused = await http.post(
            f"{first}/me/data/export/",
            headers={"Cookie": f"csrftoken={token}", "X-CSRFToken": token},
        )
        assert refused.status_code == 302
        assert await _export_status(user.pk) is None
        asked = await http.post(f"{first}/me/data/export/", headers=headers)
        assert asked.status_code == 302
        # The web processes only queue it (not eager): the separate worker builds it.
        deadline = time.monotonic() + 60
        status = await _export_status(user.pk)
        while status is not None and status[0] == "pending" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            status = await _export_status(user.pk)
        assert status is not None
        assert status[0] == "ready"
        download = await http.get(f"{second}/me/data/export/{status[1]}/", headers=headers)
        assert download.status_code == 200
        assert download.content[:2] == b"PK"  # a zip archive
        # Someone else's session gets nothing.
        _, other = await database_sync_to_async(_member_with_session)()
        stranger = await http.get(
            f"{second}/me/data/export/{status[1]}/", headers={"Cookie": f"sessionid={other}"}
        )
        assert stranger.status_code == 404


def _member_with_session():
    user = member()
    return user, _session_for(user)


@database_sync_to_async
def _members_only_study_with_two_members():
    study = StudyFactory(pk=random.randint(10**8, 2 * 10**9), visibility=Visibility.MEMBERS)  # noqa: S311
    return study, _session_for(member(study)), _session_for(member(study))


@pytest.mark.parametrize("through", ["first", "web"])
async def test_a_member_who_leaves_through_one_process_is_closed_on_the_other(
    two_processes, web_process, through
):
    first, second = two_processes
    leave_at = web_process if through == "web" else first
    study, leaving, staying = await _members_only_study_with_two_members()
    theirs = await Page.open(second, study.slug, leaving)
    other = await Page.open(first, study.slug, staying)
    try:
        await theirs.resume(0)
        await other.resume(0)
        token = secrets.token_hex(16)
        async with httpx.AsyncClient(timeout=RECEIVE_TIMEOUT) as http:
            left = await http.post(
                f"{leave_at}/studies/{study.slug}/leave/",
                headers={"Cookie": f"sessionid={leaving}; csrftoken={token}", "X-CSRFToken": token},
            )
        assert left.status_code == 302
        # Closed at once with "access ended", and nothing received before the close.
        with pytest.raises(ConnectionClosed) as closed:
            await theirs.next()
        assert closed.value.rcvd.code == 4403
        # The member who stays is still live, on the other process.
        assert await post_contribution(second, study.slug, staying, "Still here") == 200
        assert (await other.next())["seq"] == 1
    finally:
        await theirs.close()
        await other.close()
