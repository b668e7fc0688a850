"""The study page tools in a real browser: members flag, facilitators hide, from each item."""

from __future__ import annotations

import re

import pytest

from contributions.models import ItemState
from moderation.models import Flag
from studies.models import Role
from tests.factories import ContributionFactory, MembershipFactory, StudyFactory, UserFactory
from tests.live_browser import live_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page_for(live_chromium, live_server):
    def open_study(user, study):
        page = live_page(live_chromium, live_server.url, user)
        page.goto(f"{live_server.url}/studies/{study.slug}/")
        return page

    return open_study


def _setup(settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory(flag_threshold=5)
    author, contributor, facilitator = UserFactory(), UserFactory(), UserFactory()
    MembershipFactory(study=study, user=author)
    MembershipFactory(study=study, user=contributor)
    MembershipFactory(study=study, user=facilitator, role=Role.FACILITATOR)
    contribution = ContributionFactory(study=study, author=author, title="Watch deals")
    return study, author, contributor, facilitator, contribution


def _open_tools(page, contribution, kind: str):
    """Opens the item's ``kind`` tools (a <details>) and returns them."""
    tools = page.locator(f"#{contribution.dom_id} > .item-tools .{kind}")
    tools.locator("summary").click()
    return tools


def test_member_flags_an_item_from_the_study_page(page_for, live_server, settings):
    study, author, contributor, _f, contribution = _setup(settings)
    page = page_for(contributor, study)
    tools = _open_tools(page, contribution, "moderation-flag")
    tools.get_by_label("Why should facilitators look at this?").select_option("spam")
    tools.get_by_label("Anything facilitators should know (optional)").fill("Ads")
    tools.get_by_role("button", name="Send to the facilitators").click()
    page.wait_for_url(f"**/studies/{study.slug}/**")
    flag = Flag.objects.get()
    assert (flag.user_id, flag.reason, flag.note) == (contributor.pk, "spam", "Ads")
    assert page.problems == []


def test_author_gets_no_flag_button_on_their_own_item(page_for, live_server, settings):
    study, author, _c, _f, contribution = _setup(settings)
    page = page_for(author, study)
    page.wait_for_load_state("load")
    assert page.locator(f"#{contribution.dom_id} .moderation-flag").count() == 0
    assert page.problems == []


def test_facilitator_hides_an_item_from_the_study_page(page_for, live_server, settings):
    study, _a, _c, facilitator, contribution = _setup(settings)
    page = page_for(facilitator, study)
    tools = _open_tools(page, contribution, "moderation-tools")
    tools.get_by_label("Reason shown to everyone").select_option("off_topic")
    tools.get_by_role("button", name="Hide").click()
    page.wait_for_url(f"**/studies/{study.slug}/**")
    contribution.refresh_from_db()
    assert (contribution.state, contribution.moderation_reason) == (ItemState.HIDDEN, "off_topic")
    # After the reload the item shows the restore form instead.
    restore = page.locator(f"#{contribution.dom_id} > .item-tools form[action$='/restore/']")
    assert restore.count() == 1
    assert page.problems == []


def _tools_html(page, dom_id: str) -> str:
    html = page.locator(f"#{dom_id} > .item-tools > .moderation-item-tools").evaluate(
        "el => el.outerHTML"
    )
    # Each rendering masks the CSRF secret afresh: the values differ, the markup may not.
    return re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+"', r'\1token"', html)


def _set_state(page, dom_id: str, state: str) -> None:
    from playwright.sync_api import expect

    item = page.locator(f"#{dom_id}")
    item.evaluate("(el, state) => el.setAttribute('data-state', state)", state)
    expect(page.locator(f"#{dom_id} > .item-tools > .moderation-item-tools")).to_have_attribute(
        "data-for-state", state
    )


def test_controls_the_script_adds_are_the_ones_the_server_renders(page_for, live_server, settings):
    """The script rebuilds an item's controls from the page's template when its state
    changes live: the result is the server's markup, ids and labels included."""
    study, author, _c, facilitator, contribution = _setup(settings)
    hidden = ContributionFactory(
        study=study, author=author, state=ItemState.HIDDEN, moderation_reason="spam"
    )
    page = page_for(facilitator, study)
    page.wait_for_load_state("load")
    for item, state, other in (
        (contribution, "published", "hidden"),
        (hidden, "hidden", "published"),
    ):
        server = _tools_html(page, item.dom_id)
        _set_state(page, item.dom_id, other)
        assert _tools_html(page, item.dom_id) != server
        _set_state(page, item.dom_id, state)
        assert _tools_html(page, item.dom_id) == server
        tools = page.locator(f"#{item.dom_id} > .item-tools .moderation-tools")
        tools.locator("summary").click()
        label = "Reason shown to everyone" if state == "published" else "Why is it restored?"
        assert tools.get_by_label(label).count() == 1
    assert page.problems == []
