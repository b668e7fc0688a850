"""A page whose access ends says so, in the reader's language, and stops reconnecting."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from studies import services as study_services
from studies.models import Membership, Visibility
from tests.browser.conftest import in_thread, sign_in_as
from tests.browser.test_flows import _not_reloaded, _study_page
from tests.contributions.factories import member
from tests.factories import StudyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENDED = {
    "en": "You no longer have access to this study.",
    "nb": "Du har ikke lenger tilgang til denne studien.",
}
# Longer than the first reconnect delays (0.5 s, then 1 s, with jitter).
NO_RECONNECT_WINDOW_MS = 3_000
# The study's sockets (a signed-in page also holds /ws/me/ for notifications).
STUDY_SOCKETS = "window.__dugnadSockets.filter((s) => s.url.includes('/ws/studies/'))"


def _ended(page, language: str) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "ended")
    expect(page.locator("#live-access-ended")).to_have_text(ENDED[language])
    expect(page.locator("#live-access-ended")).to_have_attribute("role", "alert")


def _a_lost_connection_reconnects_within_the_window(new_page) -> None:
    """The control: a page whose connection is merely lost (not ended) opens a new study
    socket well within the window, so the silence of an ended page is its own."""
    page = new_page(language="en")
    _study_page(page, StudyFactory())
    page.evaluate(f"{STUDY_SOCKETS}.forEach((s) => s.close())")
    page.wait_for_function(f"() => {STUDY_SOCKETS}.length > 1", timeout=NO_RECONNECT_WINDOW_MS)


def test_visitors_are_told_when_a_study_becomes_members_only_and_do_not_reconnect(new_page):
    study = StudyFactory()
    pages = {}
    for language in ("en", "nb"):
        pages[language] = new_page(language=language)
        _study_page(pages[language], study)
    in_thread(study_services.study_update, study=study, visibility=Visibility.MEMBERS)
    for language, page in pages.items():
        _ended(page, language)
    pages["en"].wait_for_timeout(NO_RECONNECT_WINDOW_MS)
    for page in pages.values():
        assert page.evaluate(f"{STUDY_SOCKETS}.length") == 1
        assert page.evaluate(f"{STUDY_SOCKETS}[0].readyState") == 3  # closed
        assert _not_reloaded(page)
        assert page.console_errors == []
    _a_lost_connection_reconnects_within_the_window(new_page)


def test_a_member_who_leaves_a_members_only_study_is_told_on_their_open_page(new_page):
    study = StudyFactory(visibility=Visibility.MEMBERS)
    user = member(study)
    page = new_page(language="en")
    sign_in_as(page, user)
    _study_page(page, study)
    membership = Membership.objects.get(user=user, study=study)
    in_thread(study_services.membership_leave, membership=membership)
    _ended(page, "en")
    page.wait_for_timeout(NO_RECONNECT_WINDOW_MS)
    assert page.evaluate(f"{STUDY_SOCKETS}.length") == 1
    assert page.evaluate(f"{STUDY_SOCKETS}[0].readyState") == 3  # closed
    assert page.console_errors == []
    _a_lost_connection_reconnects_within_the_window(new_page)
