"""The statistics page in a real browser: figures refresh by themselves after a post.

Runs the ASGI live server of tests/browser (PostgreSQL); the refresh test
also asks for Redis, as a deployment with several workers has it.
"""

from __future__ import annotations

import os

import pytest

from studies.models import Role, StudyEvent
from tests.browser.conftest import (  # noqa: F401 (fixtures)
    CHROMIUM_ARGS,
    SOCKET_CONTROL,
    _live_server_process,
    asgi_server,
)
from tests.contributions.factories import member
from tests.factories import ContributionFactory, StudyFactory
from tests.live_browser import session_cookie
from tests.reports.statistics_fixtures import at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium(requires_chromium, asgi_server):  # noqa: F811
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=requires_chromium, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def test_statistics_page_refreshes_after_a_post(chromium, asgi_server, requires_redis):  # noqa: F811
    from playwright.sync_api import expect

    study = StudyFactory()
    author = member(study)
    context = chromium.new_context(locale="en-GB")
    context.add_init_script(SOCKET_CONTROL)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{asgi_server.url}/reports/{study.slug}/statistics/")
    body = page.locator("#statistics-body")
    expect(body).to_contain_text("No one has contributed yet.")
    # A function, not an expression: Playwright polls an expression with eval(),
    # which the page's CSP (no 'unsafe-eval') refuses whenever the first check fails.
    page.wait_for_function(
        "() => window.__dugnadSockets.length > 0 && window.__dugnadSockets[0].readyState === 1"
    )

    # The author posts from their own browser, as on any other day.
    writer = chromium.new_context(locale="en-GB")
    writer.add_cookies(
        [
            session_cookie(author, asgi_server.url),
            {"name": "django_language", "value": "en", "url": asgi_server.url},
        ]
    )
    author_page = writer.new_page()
    author_page.goto(f"{asgi_server.url}/studies/{study.slug}/")
    form = author_page.locator("#contribution-form")
    form.get_by_label("Title").fill("An idea")
    form.get_by_label("Your contribution").fill("Let us try.")
    form.get_by_role("button", name="Post").click()
    expect(author_page.locator("#contributions")).to_contain_text("An idea")
    assert StudyEvent.objects.filter(study=study).exists()

    expect(body).to_contain_text(
        "1 person contributed 1 contribution and 0 comments", timeout=15_000
    )
    expect(page.locator("#statistics-status")).to_have_text("The figures were updated.")
    # The refreshed fragment still has its accessible chart and table.
    expect(page.locator("#chart-sectors-title")).to_have_count(1)
    assert errors == []
    writer.close()
    context.close()


@pytest.mark.parametrize("language", ["nb", "en"])
def test_statistics_and_definitions_pages_have_no_serious_accessibility_violation(
    chromium,
    asgi_server,  # noqa: F811
    language,
):
    from axe_playwright_python.sync_playwright import Axe

    study = StudyFactory()
    for n in range(3):
        ContributionFactory(
            study=study, author=member(study), created_at=at(f"2026-03-0{n + 1} 10:00")
        )
    coordinator = member(study, role=Role.COORDINATOR)
    context = chromium.new_context(locale="en-GB" if language == "en" else "nb-NO")
    context.add_cookies([{"name": "django_language", "value": language, "url": asgi_server.url}])
    page = context.new_page()
    for path in (f"/reports/{study.slug}/statistics/", "/reports/definitions/"):
        page.goto(asgi_server.url + path)
        assert page.locator("html").get_attribute("lang") == language
        violations = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in Axe().run(page).response["violations"]
            if v.get("impact") in {"serious", "critical"}
        ]
        assert violations == [], path
    # The coordinator's view adds the over-time and top-organisation charts.
    context.add_cookies([session_cookie(coordinator, asgi_server.url)])
    page.goto(f"{asgi_server.url}/reports/{study.slug}/statistics/")
    assert page.locator("#chart-time-title").count() == 1
    violations = [
        v["id"]
        for v in Axe().run(page).response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]
    assert violations == []
    context.close()
