"""The study page's window, live: nothing that arrives outside it is dropped.

A contribution that arrives while the page shows an older window (?before=…)
or a filter it does not match shows as a bar "N new contributions: show"
that opens the newest page; a comment on a contribution whose comments are
collapsed raises the count of "Show all N comments" or "N replies: show" and
is there when they are pressed; after a lost connection the same holds for
what was posted meanwhile. axe stays clean with the bar and the controls.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contributions import services as contribution_services
from contributions.models import ContributionKind
from contributions.selectors import PAGE_SIZE
from tests.browser.conftest import in_thread
from tests.browser.test_accessibility import _blocking_violations
from tests.browser.test_flows import RECONNECT_TIMEOUT, _not_reloaded, _post
from tests.contributions.factories import member
from tests.factories import CommentFactory, ContributionFactory, StudyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open(page, path: str) -> None:
    page.goto(path)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.evaluate("window.__noReload = true")


def test_a_contribution_arriving_outside_the_window_shows_as_a_bar_that_opens_it(new_page):
    study = StudyFactory()
    author = member(study)
    items = [
        ContributionFactory(study=study, author=author, title=f"Older {n:02}")
        for n in range(PAGE_SIZE + 3)
    ]
    page = new_page(language="en")
    _open(page, f"/studies/{study.slug}/?before={items[3].pk}")
    expect(page.get_by_text("Older 02", exact=True)).to_have_count(1)
    bar = page.locator("#new-contributions")
    expect(bar).to_be_hidden()

    fresh = _post(study, author, "Fresh arrival", "New while looking back")
    expect(bar).to_be_visible()
    expect(bar).to_have_text("1 new contribution: show")
    # Not slipped into the older window.
    expect(page.locator(f"#{fresh.dom_id}")).to_have_count(0)
    assert _blocking_violations(page) == []
    assert _not_reloaded(page)

    bar.get_by_role("link").click()
    expect(page.locator(f"#{fresh.dom_id}")).to_have_count(1)
    expect(page.get_by_text("Fresh arrival", exact=True)).to_have_count(1)
    assert page.url.endswith(f"/studies/{study.slug}/")
    assert page.console_errors == []


def test_a_contribution_a_filter_does_not_match_shows_as_a_bar_to_the_whole_list(new_page):
    study = StudyFactory()
    author = member(study)
    ContributionFactory(study=study, author=author, kind=ContributionKind.IDEA, title="An idea")
    page = new_page(language="en")
    _open(page, f"/studies/{study.slug}/?kind=idea")
    concern = _post(study, author, "A concern", "Not an idea", kind=ContributionKind.CONCERN)
    bar = page.locator("#new-contributions")
    expect(bar).to_have_text("1 new contribution: show")
    expect(page.locator(f"#{concern.dom_id}")).to_have_count(0)
    # A matching one on the newest page goes straight into the list, not the bar.
    idea = _post(study, author, "Another idea", "An idea")
    expect(page.locator(f"#{idea.dom_id}")).to_have_count(1)
    expect(bar).to_have_text("1 new contribution: show")
    bar.get_by_role("link").click()
    expect(page.locator(f"#{concern.dom_id}")).to_have_count(1)
    assert page.url.endswith(f"/studies/{study.slug}/")


def _comment_from_elsewhere(contribution, author, body: str, parent=None):
    """A comment (a reply if ``parent``) posted by another thread, as another process would."""
    return in_thread(
        contribution_services.comment_create,
        contribution=contribution,
        author=author,
        body=body,
        parent=parent,
    )


def _collapsed_thread(study):
    contribution = ContributionFactory(study=study, title="Much discussed")
    tops = [
        CommentFactory(contribution=contribution, author=member(study), body_html=f"<p>Top {n}</p>")
        for n in range(4)
    ]
    for n in range(2):
        CommentFactory(contribution=contribution, parent=tops[-1], body_html=f"<p>Reply {n}</p>")
    return contribution, tops


def test_a_comment_on_a_collapsed_contribution_raises_its_count_and_is_there_when_opened(
    new_page,
):
    study = StudyFactory()
    contribution, tops = _collapsed_thread(study)
    commenter, replier = member(study), member(study)
    page = new_page(language="en")
    _open(page, f"/studies/{study.slug}/")
    show_all = page.locator(f"#{contribution.dom_id}-more a")
    replies = page.locator(f"#{tops[-1].dom_id}-more a")
    expect(show_all).to_have_text("Show all 4 comments")
    expect(replies).to_have_text("2 replies: show")

    reply = _comment_from_elsewhere(contribution, replier, "A late reply", parent=tops[-1])
    expect(replies).to_have_text("3 replies: show")
    expect(page.get_by_text("A late reply", exact=True)).to_be_hidden()
    comment = _comment_from_elsewhere(contribution, commenter, "A late comment")
    expect(show_all).to_have_text("Show all 5 comments")
    expect(page.locator(f"#{comment.dom_id}")).to_be_visible()
    assert _blocking_violations(page) == []

    replies.click()
    expect(page.locator(f"#{tops[-1].dom_id}-replies .comment")).to_have_count(3)
    expect(page.locator(f"#{reply.dom_id}")).to_be_visible()
    expect(page.locator(f"#{tops[-1].dom_id}-more")).to_have_count(0)
    show_all.click()
    expect(page.locator(f"#{contribution.dom_id}-comments > .comment")).to_have_count(5)
    expect(page.get_by_text("Top 0", exact=True)).to_be_visible()
    expect(page.locator(f"#{comment.dom_id}")).to_have_count(1)
    expect(page.locator(f"#{reply.dom_id}")).to_have_count(1)
    assert _not_reloaded(page)
    assert page.console_errors == []


def test_after_a_lost_connection_the_window_catches_up_exactly(new_page):
    study = StudyFactory()
    contribution, tops = _collapsed_thread(study)
    older = [ContributionFactory(study=study, title=f"Older {n:02}") for n in range(PAGE_SIZE)]
    replier, commenter, author = member(study), member(study), member(study)
    outside = _comment_from_elsewhere(contribution, commenter, "Before the window opened")
    page = new_page(language="en")
    # The older window: the thread is there, the newest contributions are not.
    _open(page, f"/studies/{study.slug}/?before={older[2].pk}")
    show_all = page.locator(f"#{contribution.dom_id}-more a")
    expect(show_all).to_have_text("Show all 5 comments")
    shown = page.locator(".comment").count()

    page.evaluate(
        "window.__dugnadBlockSockets = true;"
        "window.__dugnadSockets.forEach(function (s) { s.close(); });"
    )
    expect(page.locator("#live-status")).to_have_attribute("data-state", "offline")
    reply = _comment_from_elsewhere(contribution, replier, "A reply while away", parent=tops[-1])
    fresh = [_post(study, author, f"While away {n}", "Body") for n in range(2)]
    # An older comment the window leaves out is withdrawn: it must not slip in.
    in_thread(contribution_services.comment_withdraw, comment=tops[0], user=tops[0].author)

    page.evaluate("window.__dugnadBlockSockets = false")
    expect(page.locator("#live-status")).to_have_attribute(
        "data-state", "live", timeout=RECONNECT_TIMEOUT
    )
    expect(page.locator("#new-contributions")).to_have_text("2 new contributions: show")
    expect(page.locator(f"#{tops[-1].dom_id}-more a")).to_have_text("3 replies: show")
    expect(show_all).to_have_text("Show all 4 comments")  # the withdrawn one is not counted
    expect(page.locator(f"#{tops[0].dom_id}")).to_have_count(0)
    assert page.locator(".comment").count() == shown + 1  # the hidden reply, waiting
    for item in fresh:
        expect(page.locator(f"#{item.dom_id}")).to_have_count(0)
    page.locator(f"#{tops[-1].dom_id}-more a").click()
    expect(page.locator(f"#{reply.dom_id}")).to_be_visible()
    expect(page.get_by_text("A reply while away", exact=True)).to_have_count(1)
    expect(page.locator(f"#{outside.dom_id}")).to_have_count(1)
    assert _not_reloaded(page)
    assert page.console_errors == []
