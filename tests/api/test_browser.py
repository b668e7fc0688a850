"""The token page and the documentation page in a real browser: flow, CSP and axe."""

from __future__ import annotations

import pytest

from api.models import ApiToken
from tests.api.factories import coordinator_of
from tests.factories import StudyFactory
from tests.live_browser import live_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_creates_sees_once_and_revokes_a_token(live_chromium, live_server):
    coordinator = coordinator_of(StudyFactory(title="Digital assistant"))
    page = live_page(live_chromium, live_server.url, coordinator)
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
def test_api_pages_have_no_accessibility_violations(live_chromium, live_server, path):
    from axe_playwright_python.sync_playwright import Axe

    coordinator = coordinator_of(StudyFactory())
    page = live_page(live_chromium, live_server.url, coordinator, bypass_csp=True)
    page.goto(f"{live_server.url}{path}")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_documentation_page_loads_without_csp_errors(live_chromium, live_server):
    page = live_page(live_chromium, live_server.url)
    page.goto(f"{live_server.url}/api/")
    assert page.get_by_role("heading", name="Open data API").count() == 1
    assert page.problems == []
