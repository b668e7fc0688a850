"""A page that missed a broadcast catches up from the presence message's event number."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from playwright.sync_api import expect

from contributions import services as contribution_services
from studies.models import Study
from tests.browser.conftest import in_thread
from tests.browser.test_flows import _not_reloaded, _study_page
from tests.contributions.factories import member
from tests.factories import StudyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRESENCE = (
    "(seq) => window.__dugnadSockets.forEach((s) => s.dispatchEvent(new MessageEvent("
    "'message', {data: JSON.stringify({type: 'presence', data: {viewers: 1, seq: seq}})})))"
)


def _post_without_broadcast(study, author):
    """Committed and numbered, but never sent: as when Redis was away at the time."""
    with transaction.atomic():
        item = contribution_services.contribution_create(
            study=study, author=author, title="Missed while Redis was away", body="Body"
        )
        connection.run_on_commit.clear()
    return item


def test_a_page_behind_the_presence_number_resumes_without_a_new_event(new_page, asgi_server):
    study = StudyFactory()
    author = member(study)
    page = new_page(language="en")
    _study_page(page, study)
    missed = in_thread(_post_without_broadcast, study, author)
    seq = Study.objects.get(pk=study.pk).last_event_seq
    # What the server's presence message says once per window, sent now.
    page.evaluate(PRESENCE, seq)
    # The page waits 2-4 s for the event to arrive by itself, then resumes.
    expect(page.locator(f"#{missed.dom_id}")).to_have_count(1, timeout=10_000)
    expect(page.get_by_text("Missed while Redis was away", exact=True)).to_have_count(1)
    assert _not_reloaded(page)
    assert page.console_errors == []


def test_a_presence_number_the_page_already_has_asks_for_nothing(new_page, asgi_server):
    study = StudyFactory()
    page = new_page(language="en")
    _study_page(page, study)
    page.evaluate(
        "window.__sent = [];"
        "window.__dugnadSockets.forEach((s) => { const send = s.send.bind(s);"
        " s.send = (m) => { window.__sent.push(m); send(m); }; });"
    )
    page.evaluate(PRESENCE, 0)
    # Give a resume every chance to happen (longer than the longest first wait).
    page.wait_for_timeout(4_500)
    assert page.evaluate("window.__sent") == []
    # The control: a number the page does not have yet makes it ask, through the
    # same wrapped socket, so the silence above was the page's and not the wrapper's.
    page.evaluate(PRESENCE, 1)
    page.wait_for_function("() => window.__sent.length > 0", timeout=10_000)
    assert [json.loads(m) for m in page.evaluate("window.__sent")] == [
        {"type": "resume", "after": 0}
    ]
