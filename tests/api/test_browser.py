"""The token page and the documentation page in a real browser: flow, CSP and axe."""

from __future__ import annotations

import os
import time

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from api.models import ApiToken
from tests.api.factories import coordinator_of
from tests.factories import StudyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def allow_sync_orm():
    # Playwright's sync API runs an event loop in this thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _session_cookie(user) -> dict:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    # Signed in with TOTP, as allauth asks of everyone who has it.
    totp = Authenticator.objects.filter(user=user, type="totp").first()
    if totp is not None:
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "mfa", "at": time.time(), "id": totp.pk, "type": "totp"}
        ]
        session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return {"name": django_settings.SESSION_COOKIE_NAME, "value": session.session_key}


@pytest.fixture
def browser(requires_chromium, live_server, allow_sync_orm):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=requires_chromium)
        yield browser
        browser.close()


def _page(browser, live_server, user=None, *, bypass_csp=False):
    context = browser.new_context(locale="en-GB", bypass_csp=bypass_csp)
    if user is not None:
        context.add_cookies([{**_session_cookie(user), "url": live_server.url}])
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    # Console errors about the content security policy; the live server is WSGI,
    # so the signed-in page's websocket failing to connect is expected here.
    page.on(
        "console",
        lambda msg: (
            page.problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    return page


def test_coordinator_creates_sees_once_and_revokes_a_token(browser, live_server):
    coordinator = coordinator_of(StudyFactory(title="Digital assistant"))
    page = _page(browser, live_server, coordinator)
    page.goto(f"{live_server.url}/api/tokens/")
    page.get_by_label("Name").fill("Dashboard")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator(".token-secret").inner_text()
    assert secret.startswith("dgn_")
    token = ApiToken.objects.get()
    assert token.name == "Dashboard" and token.revoked_at is None
    page.goto(f"{live_server.url}/api/tokens/")
    assert secret not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke token Dashboard").click()
    page.wait_for_load_state()
    assert page.get_by_text("is revoked").count() >= 1
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert page.problems == []


@pytest.mark.parametrize("path", ["/api/", "/api/tokens/"])
def test_api_pages_have_no_accessibility_violations(browser, live_server, path):
    from axe_playwright_python.sync_playwright import Axe

    coordinator = coordinator_of(StudyFactory())
    page = _page(browser, live_server, coordinator, bypass_csp=True)
    page.goto(f"{live_server.url}{path}")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_documentation_page_loads_without_csp_errors(browser, live_server):
    page = _page(browser, live_server)
    page.goto(f"{live_server.url}/api/")
    assert page.get_by_role("heading", name="Open data API").count() == 1
    assert page.problems == []
