"""Live server and browsers for the end-to-end suite.

The real ASGI application runs under uvicorn in a child process on a free
127.0.0.1 port, against the test database pytest-django created. That needs
PostgreSQL: an in-memory SQLite test database is invisible to another
process, so without DATABASE_URL these tests skip (and fail in CI, where
DUGNAD_REQUIRE_SERVICES=1). The child sends e-mail to files that the tests
read, runs Celery tasks eagerly, and shares Redis with the tests when
REDIS_URL is set.

Headless Chromium is Debian's, driven through Playwright; nothing is
downloaded. Each test gets fresh browser contexts (separate cookie jars), so
two people can look at the same study at once.
"""

from __future__ import annotations

import contextlib
import email
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.live_browser import session_cookie
from tests.servers import database_url_for, free_port, spawn, stop, wait_until_up

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright waits this long (ms) for anything to appear before a test fails.
EXPECT_TIMEOUT = 10_000

# Records every WebSocket a page opens, so a test can cut the connection as a
# lost network would, and keep it cut until it lets go. Injected through
# Playwright (not a page script), so the content security policy is untouched.
SOCKET_CONTROL = """
(() => {
  const Real = window.WebSocket;
  window.__dugnadSockets = [];
  window.__dugnadBlockSockets = false;
  // While blocked, a new socket fails as an unreachable server would: closed
  // (1006) a moment later, without touching the network (so Chromium's own
  // throttling of failed connections never delays the test's reconnect).
  function Unreachable() {
    const fake = new EventTarget();
    fake.readyState = 3;
    fake.send = () => {};
    fake.close = () => {};
    setTimeout(() => fake.dispatchEvent(new CloseEvent("close", {code: 1006})), 50);
    return fake;
  }
  function Controlled(url, protocols) {
    if (window.__dugnadBlockSockets) {
      return Unreachable();
    }
    const ws = protocols === undefined ? new Real(url) : new Real(url, protocols);
    window.__dugnadSockets.push(ws);
    return ws;
  }
  Controlled.prototype = Real.prototype;
  Object.assign(Controlled, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Controlled;
})();
"""


@dataclass
class LiveServer:
    url: str
    mail_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def messages(self) -> list[email.message.Message]:
        """Every e-mail the server has sent so far, oldest first."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime):
            # The file backend writes several messages per connection, separated by dashes.
            for chunk in path.read_text(errors="replace").split("-" * 79):
                if chunk.strip():
                    found.append(email.message_from_string(chunk.strip() + "\n"))
        return found

    def wait_for_message(self, to: str, timeout: float = 10.0) -> email.message.Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages()):
                if to in (message.get("To") or ""):
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no e-mail to {to} within {timeout}s")


def message_text(message: email.message.Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    texts = []
    for part in parts:
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(texts)


@pytest.fixture(scope="session")
def _live_server_process(
    django_db_setup, django_db_blocker, tmp_path_factory
) -> Iterator[LiveServer]:
    from django.db import connection

    if connection.vendor != "postgresql" or not os.environ.get("DATABASE_URL"):
        # Session fixtures run before the function-level requires_postgres.
        from tests.conftest import _missing

        _missing("needs PostgreSQL: set DATABASE_URL (the live server shares the test database)")
    base = tmp_path_factory.mktemp("live-server")
    mail_dir = base / "mail"
    mail_dir.mkdir()
    log_path = base / "uvicorn.log"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_HOST", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url_for(connection.settings_dict["NAME"]),
            "DB_POOL_MAX_SIZE": "6",
            "EMAIL_FILE_PATH": str(mail_dir),
            # As `make run` does: links in e-mails lead to this server, and sockets
            # open only from its own origin (core/origins.py).
            "SITE_URL": f"http://127.0.0.1:{port}",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            # Two-factor set-up is proven by the unit tests; the flows here test the rest.
            "DUGNAD_REQUIRE_MFA": "0",
            "MEDIA_ROOT": str(base / "media"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    command = [
        sys.executable, "-m", "uvicorn", "config.asgi:application",
        "--host", "127.0.0.1", "--port", str(port),
        "--lifespan", "off", "--workers", "1", "--log-level", "warning",
    ]  # fmt: skip
    process = spawn(command, env, log_path)
    server = LiveServer(
        url=f"http://127.0.0.1:{port}", mail_dir=mail_dir, log_path=log_path, process=process
    )
    try:
        wait_until_up(server.url, process, log_path)
        yield server
    finally:
        stop(process)


@pytest.fixture
def asgi_server(requires_postgres, transactional_db, _live_server_process) -> Iterator[LiveServer]:
    """The running server, for a test whose data it can see (committed, transactional)."""
    yield _live_server_process
    if _live_server_process.process.poll() is not None:
        pytest.fail("the live server died:\n" + _live_server_process.log_tail())


@pytest.fixture(scope="package")
def _playwright(django_db_setup):
    """Playwright for this package only, started after the test database exists.

    Its sync API keeps an event loop running in this thread while it lives, so
    the ORM calls between browser steps are allowed explicitly, and it stops
    before the rest of the suite (which has async tests of its own) runs.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            yield p
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(requires_chromium_session, _playwright):
    instance = _playwright.chromium.launch(
        executable_path=requires_chromium_session, args=CHROMIUM_ARGS, timeout=30_000
    )
    yield instance
    with contextlib.suppress(Exception):
        instance.close()


@pytest.fixture(scope="session")
def requires_chromium_session() -> str:
    from tests.conftest import _missing, chromium_path

    path = chromium_path()
    if not path:
        _missing("needs Chromium: apt-get install chromium")
    return path


@pytest.fixture
def new_page(browser, asgi_server) -> Iterator[Callable[..., object]]:
    """Open a page in a fresh context (its own cookies), as another person would."""
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT)
    contexts = []

    def make(*, locale: str = "nb-NO", language: str | None = None, accept_downloads=False):
        context = browser.new_context(
            base_url=asgi_server.url, locale=locale, accept_downloads=accept_downloads
        )
        context.set_default_timeout(EXPECT_TIMEOUT)
        if language:
            context.add_cookies(
                [{"name": "django_language", "value": language, "url": asgi_server.url}]
            )
        context.add_init_script(SOCKET_CONTROL)
        contexts.append(context)
        page = context.new_page()
        page.base_url = asgi_server.url
        # Script errors and failed sub-resources (the browser's own favicon probe aside).
        page.console_errors = []
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: (
                page.console_errors.append(msg.text)
                if msg.type == "error" and "Failed to load resource" not in msg.text
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                page.console_errors.append(f"{r.status} {r.url}")
                if r.status >= 400
                and r.request.resource_type != "document"
                and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


def sign_in(page, *, email_address: str, password: str) -> None:
    """Sign in through the real login form."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email_address)
    page.locator("input[name=password]").fill(password)
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_load_state()
    if "/accounts/login/" in page.url:
        raise AssertionError(f"sign-in failed for {email_address}: {page.url}")


def in_thread(function, /, *args, **kwargs):
    """Call a service function in a thread of its own and return its result.

    Playwright's sync API keeps an event loop running in the test thread, where
    the services' broadcast (async_to_sync) cannot run; in a plain thread it
    does, as in a request. The thread's database connection is closed after.
    """
    import threading

    from django.db import connection

    outcome: dict = {}

    def run():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def sign_in_as(page, user) -> None:
    """Give the page's context a signed-in session for ``user``, without the login form.

    The test process hashes passwords with a fast test-only hasher that the live
    server does not know, so people made by the factories cannot use the form;
    a session written to the shared database is what the form would produce.
    """
    page.context.add_cookies([session_cookie(user, page.base_url)])
