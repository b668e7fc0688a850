"""Account pages in a real browser: the organisation picker, CSP, and axe."""

from __future__ import annotations

import os
import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from accounts.models import Affiliation
from accounts.services import notification_create
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_page(requires_chromium, live_server):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=requires_chromium)

        def open_as(user, *, bypass_csp: bool = False):
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
            context = browser.new_context(locale="en-GB", bypass_csp=bypass_csp)
            context.add_cookies(
                [
                    {
                        "name": django_settings.SESSION_COOKIE_NAME,
                        "value": session.session_key,
                        "url": live_server.url,
                    },
                    {"name": "django_language", "value": "en", "url": live_server.url},
                ]
            )
            page = context.new_page()
            page.problems = []
            page.on("pageerror", lambda exc: page.problems.append(str(exc)))
            # JavaScript errors and CSP refusals; the live server has no
            # websockets, so the unread-count socket's 404 is expected here.
            page.on(
                "console",
                lambda msg: (
                    page.problems.append(msg.text)
                    if "Content Security Policy" in msg.text
                    else None
                ),
            )
            return page

        yield open_as
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


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
def test_sign_in_pages_have_no_accessibility_violations(requires_chromium, live_server, path):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=requires_chromium)
            page = browser.new_context(bypass_csp=True).new_page()
            page.goto(f"{live_server.url}{path}")
            results = Axe().run(page)
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    assert results.violations_count == 0, results.generate_report()
