"""Account pages in a real browser: the organisation picker, CSP, and axe."""

from __future__ import annotations

import re

import pytest

from accounts.models import Affiliation
from accounts.services import notification_create
from tests.factories import OrganisationFactory, UserFactory
from tests.live_browser import live_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_page(live_chromium, live_server):
    def open_as(user, *, bypass_csp: bool = False):
        return live_page(live_chromium, live_server.url, user, language="en", bypass_csp=bypass_csp)

    return open_as


def test_typing_in_the_picker_finds_my_organisation_and_joins_it(open_page, live_server):
    person = UserFactory()
    organisation = OrganisationFactory(name="Digitaliseringsdirektoratet")
    page = open_page(person)
    page.goto(f"{live_server.url}/me/")
    page.get_by_label("Name or organisation number").fill("digitali")
    button = page.get_by_role(
        "button", name=re.compile("This is mine.*Digitaliseringsdirektoratet")
    )
    button.wait_for()
    button.click()
    page.wait_for_load_state()
    # A claim, waiting for confirmation: the person is told what that means.
    assert page.get_by_text("You say you represent Digitaliseringsdirektoratet.").count() == 1
    assert page.get_by_text("waiting for confirmation").count() == 1
    assert Affiliation.objects.get(user=person, organisation=organisation).state == "pending"
    assert page.problems == []


@pytest.mark.parametrize(
    "path", ["/me/", "/me/notifications/", "/me/notifications/settings/", "/me/data/"]
)
def test_account_pages_have_no_accessibility_violations(open_page, live_server, path):
    from axe_playwright_python.sync_playwright import Axe

    person = UserFactory()
    Affiliation.objects.create(user=person, organisation=OrganisationFactory())
    notification_create(user=person, kind="other", title="Something happened", url="/")
    page = open_page(person, bypass_csp=True)
    page.goto(f"{live_server.url}{path}")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/accounts/3rdparty/",
        "/me/delete/",
    ],
)
def test_allauth_pages_have_no_accessibility_violations(open_page, live_server, path):
    from axe_playwright_python.sync_playwright import Axe

    page = open_page(UserFactory(), bypass_csp=True)
    page.goto(f"{live_server.url}{path}")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
)
def test_sign_in_pages_have_no_accessibility_violations(live_chromium, live_server, path):
    from axe_playwright_python.sync_playwright import Axe

    page = live_chromium.new_context(bypass_csp=True).new_page()
    page.goto(f"{live_server.url}{path}")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
