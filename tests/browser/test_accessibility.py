"""axe finds no serious or critical violation on the pages, in both languages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def _blocking_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


@pytest.mark.parametrize("language", ["nb", "en"])
def test_home_page_signed_out_has_no_serious_violation(new_page, language):
    page = new_page(language=language)
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == language
    assert _blocking_violations(page) == []


def test_the_check_catches_an_unlabelled_input(new_page):
    page = new_page()
    page.goto("/")
    page.evaluate("document.querySelector('#lang-select').removeAttribute('id')")
    assert any(v.startswith(("label", "select-name")) for v in _blocking_violations(page))


# --- every page type, signed out and signed in, in both languages -----------------------

# (name, role, path): role None is signed out; paths are filled in from a world with one of
# everything (tests/security/world.py). Fragments that only htmx loads into a page (edit
# and comment forms) are checked as part of the study page they appear in.
PAGES = [
    ("home", None, "/"),
    ("study page", None, "/studies/{s}/"),
    ("statistics", None, "/reports/{s}/statistics/"),
    ("statistics definitions", None, "/reports/definitions/"),
    ("participation report", None, "/reports/{s}/report/"),
    ("document versions", None, "/studies/{s}/versions/"),
    ("document version", None, "/studies/{s}/versions/{version}/"),
    ("API documentation", None, "/api/"),
    ("sign in", None, "/accounts/login/"),
    ("sign up", None, "/accounts/signup/"),
    ("password reset", None, "/accounts/password/reset/"),
    ("invitation", None, "/studies/invitation/{invitation_token}/"),
    ("search with results", None, "/search/?q=text"),
    ("study search with results", None, "/studies/{s}/search/?q=text&sort=newest"),
    ("home", "member", "/"),
    ("study page with the posting form", "member", "/studies/{s}/"),
    ("membership", "member", "/studies/{s}/membership/"),
    ("profile", "member", "/me/"),
    ("notifications", "member", "/me/notifications/"),
    ("notification settings", "member", "/me/notifications/settings/"),
    ("my data", "member", "/me/data/"),
    ("e-mail addresses", "member", "/accounts/email/"),
    ("password change", "member", "/accounts/password/change/"),
    ("two-factor", "member", "/accounts/2fa/"),
    ("API tokens", "member", "/api/tokens/"),
    ("join", "outsider", "/studies/{s}/join/"),
    ("study page as facilitator", "facilitator", "/studies/{s}/"),
    ("moderation overview", "facilitator", "/moderation/"),
    ("moderation queue", "facilitator", "/moderation/{s}/"),
    ("moderation item", "facilitator", "/moderation/{s}/items/contribution/{contribution}/"),
    ("moderation members", "facilitator", "/moderation/{s}/members/"),
    ("moderation member", "facilitator", "/moderation/{s}/members/{member}/"),
    ("item history", "facilitator", "/studies/{s}/contributions/{contribution}/history/"),
    ("study settings", "coordinator", "/studies/{s}/settings/"),
    ("phases", "coordinator", "/studies/{s}/phases/"),
    ("study status", "coordinator", "/studies/{s}/status/"),
    ("members and requests", "coordinator", "/studies/{s}/members/"),
    ("invitations", "coordinator", "/studies/{s}/invitations/"),
    ("new version", "coordinator", "/studies/{s}/versions/new/"),
    ("moderation log", "coordinator", "/moderation/{s}/log/"),
    ("statistics in full", "coordinator", "/reports/{s}/statistics/"),
    ("exports", "coordinator", "/reports/{s}/exports/"),
    ("API tokens for a coordinator", "coordinator", "/api/tokens/"),
    ("new study", "administrator", "/studies/new/"),
    ("administration", "administrator", "/administration/"),
    ("all studies", "administrator", "/administration/studies/"),
    ("administrators", "administrator", "/administration/administrators/"),
    ("my studies", "coordinator", "/my-studies/"),
    ("name to show", "member", "/me/name/"),
    ("platform statistics", "administrator", "/reports/platform/"),
    ("organisation registry", "administrator", "/reports/organisations/"),
    ("organisation", "administrator", "/reports/organisations/{organisation}/"),
    ("claims to confirm", "administrator", "/me/organisations/claims/"),
]


def _path(template: str, world) -> str:
    return template.format(
        s=world.study.slug,
        version=world.version.pk,
        invitation_token=world.invitation_token,
        contribution=world.contribution.pk,
        member=world.memberships["member"].pk,
        organisation=world.organisation.pk,
    )


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize(
    ("name", "role", "path"), PAGES, ids=[f"{n} ({r or 'signed out'})" for n, r, _ in PAGES]
)
def test_page_has_no_serious_violation(new_page, language, name, role, path):
    from tests.browser.conftest import sign_in_as
    from tests.security.world import build_world

    world = build_world()
    page = new_page(language=language)
    if role is not None:
        page.goto("/health/")
        sign_in_as(page, world.users[role])
    response = page.goto(_path(path, world))
    assert response.status == 200, f"{name}: {response.status} at {page.url}"
    assert page.locator("html").get_attribute("lang") == language
    assert _blocking_violations(page) == [], name


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_403_page_has_no_serious_violation(new_page, language):
    from tests.browser.conftest import sign_in_as
    from tests.security.world import build_world

    world = build_world()
    page = new_page(language=language)
    page.goto("/health/")
    sign_in_as(page, world.users["member"])
    response = page.goto("/me/organisations/claims/")  # representatives and administrators only
    assert response.status == 403
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("main h1").count() == 1
    assert _blocking_violations(page) == []


@pytest.mark.parametrize("language", ["nb", "en"])
def test_forms_opened_in_the_study_page_have_no_serious_violation(new_page, language):
    """The fragments htmx loads into the page: the comment and edit forms, the tools."""
    from playwright.sync_api import expect

    from tests.browser.conftest import sign_in_as
    from tests.security.world import build_world

    world = build_world()
    item = f"#{world.contribution.dom_id}"
    page = new_page(language=language)
    page.goto("/health/")
    sign_in_as(page, world.users["member"])
    page.goto(f"/studies/{world.study.slug}/")
    tools = page.locator(f"{item} > .item-tools .live-item-tools a")  # Comment
    expect(tools.first).to_be_visible()
    tools.first.click()  # the comment form
    expect(page.locator(f"{item} > .item-form-slot form")).to_be_visible()
    assert _blocking_violations(page) == []

    moderator = new_page(language=language)
    moderator.goto("/health/")
    sign_in_as(moderator, world.users["facilitator"])
    moderator.goto(f"/studies/{world.study.slug}/")
    summary = moderator.locator(f"{item} > .item-tools .moderation-tools summary")
    summary.click()
    expect(moderator.locator(f"{item} > .item-tools .moderation-tools form").first).to_be_visible()
    assert _blocking_violations(moderator) == []
