"""Whole flows in real browsers against the real ASGI server, several people at once.

Every wait is Playwright's own (expect(...) with the suite's timeout), never a
sleep: a test that fails here waited the full timeout for something that never
came.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from contributions import services as contribution_services
from contributions.models import Comment, Contribution, ItemState
from studies.models import Membership, Role
from tests.browser.conftest import in_thread, message_text, sign_in_as
from tests.contributions.factories import member
from tests.factories import (
    PASSWORD,
    ContributionFactory,
    StudyFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Live arrivals can take a reconnect's back-off; allow more than the default here.
RECONNECT_TIMEOUT = 30_000


def _study_page(page, study):
    page.goto(f"/studies/{study.slug}/")
    # The socket is up and has caught up: from here on nothing is missed.
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    # A mark that a reload would wipe: later checks prove nothing reloaded the page.
    page.evaluate("window.__noReload = true")


def _not_reloaded(page) -> bool:
    return page.evaluate("window.__noReload === true")


def _post(study, author, title: str, body: str, **kwargs):
    """A contribution posted through the service, broadcast as from a request (in_thread)."""
    return in_thread(
        contribution_services.contribution_create,
        study=study,
        author=author,
        title=title,
        body=body,
        **kwargs,
    )


def _signed_in_page(new_page, user, study=None):
    page = new_page(language="en")
    sign_in_as(page, user)
    if study is not None:
        _study_page(page, study)
    return page


def _post_contribution(page, title: str, body: str) -> None:
    form = page.locator("#contribution-form")
    form.locator("[name=title]").fill(title)
    form.locator("[name=body]").fill(body)
    form.get_by_role("button", name="Post").click()


def _comment_on(page, contribution_dom_id: str, body: str) -> None:
    item = page.locator(f"#{contribution_dom_id}")
    item.locator(":scope > .item-tools").get_by_role("link", name="Comment").click()
    form = item.locator(":scope > .item-form-slot form")
    form.locator("[name=body]").fill(body)
    form.get_by_role("button", name="Post comment").click()


# --- 1. sign up, verify, join for an organisation, post; both see each other live ----


def test_a_new_person_signs_up_joins_for_their_organisation_and_posts_live(new_page, asgi_server):
    study = StudyFactory(title="Digital assistant")
    other = member(study, display_name="Kari Nordmann")
    watcher = _signed_in_page(new_page, other, study)

    # Sign up and verify the address through the link in the e-mail.
    page = new_page(language="en")
    address = "ola.nordmann@example.org"
    page.goto("/accounts/signup/")
    page.locator("[name=email]").fill(address)
    page.locator("[name=display_name]").fill("Ola Nordmann")
    page.locator("[name=password1]").fill(PASSWORD)
    page.locator("[name=password2]").fill(PASSWORD)
    page.locator("form:has([name=password2]) [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/"))
    text = message_text(asgi_server.wait_for_message(to=address))
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", text)
    assert link, text
    page.goto(link.group(0))
    page.get_by_role("button", name="Confirm").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|confirm-email)/"))

    # Add the organisation on the profile, then join the study on its behalf.
    page.goto("/me/")
    propose = page.locator("form[action$='/organisations/propose/']")
    propose.locator("[name=name]").fill("Nordland County Council")
    propose.locator("[name=sector]").select_option("public")
    propose.locator("[type=submit]").click()
    expect(page.get_by_text("Nordland County Council").first).to_be_visible()
    page.goto(f"/studies/{study.slug}/")
    page.get_by_role("link", name="Join the study").first.click()
    choice = page.locator("[name=organisation] option", has_text="Nordland County Council")
    page.locator("[name=organisation]").select_option(choice.get_attribute("value"))
    page.get_by_role("button", name="Join the study").click()
    expect(page.locator("#contribution-form")).to_be_visible()
    membership = Membership.objects.get(study=study, user__email=address)
    assert membership.organisation.name == "Nordland County Council"

    # Post: it appears on the poster's page and, without a reload, on the watcher's.
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.evaluate("window.__noReload = true")
    _post_contribution(page, "One front door for citizens", "A single entry point.")
    contribution = None
    for viewer in (page, watcher):
        expect(viewer.locator("#contributions .contribution h3")).to_have_text(
            ["One front door for citizens"]
        )
    contribution = Contribution.objects.get(title="One front door for citizens")
    assert contribution.acted_for.name == "Nordland County Council"
    # A new person's claim waits for confirmation: others read it as a claim.
    expect(watcher.locator(f"#{contribution.dom_id} .organisation")).to_have_text(
        "says they represent Nordland County Council"
    )
    expect(watcher.locator(f"#{contribution.dom_id} .organisation")).to_have_class(
        re.compile(r"\borganisation-unconfirmed\b")
    )

    # The watcher comments; the new person sees it arrive the same way.
    _comment_on(watcher, contribution.dom_id, "Agreed, and in both languages.")
    expect(page.locator(f"#{contribution.dom_id}-comments .comment")).to_have_count(1)
    expect(page.locator(f"#{contribution.dom_id}-comments")).to_contain_text(
        "Agreed, and in both languages."
    )
    assert Comment.objects.filter(contribution=contribution, author=other).count() == 1
    assert _not_reloaded(page) and _not_reloaded(watcher)
    assert page.console_errors == [] and watcher.console_errors == []


# --- 2. a facilitator hides it; it turns into the marker everywhere at once -----------


def test_a_hidden_contribution_turns_into_the_marker_on_every_open_page(new_page, settings):
    study = StudyFactory()
    author = member(study)
    facilitator = member(study, role=Role.FACILITATOR)
    contribution = _post(study, author, "Buy the vendor's product", "Advert.")
    author_page = _signed_in_page(new_page, author, study)
    visitor = new_page(language="en")
    _study_page(visitor, study)
    for viewer in (author_page, visitor):
        expect(viewer.locator(f"#{contribution.dom_id} h3")).to_have_text(
            "Buy the vendor's product"
        )

    moderator = _signed_in_page(new_page, facilitator, study)
    tools = moderator.locator(f"#{contribution.dom_id} > .item-tools .moderation-tools")
    tools.locator("summary").click()
    tools.get_by_label("Reason shown to everyone").select_option("off_topic")
    tools.get_by_role("button", name="Hide").click()

    for viewer in (author_page, visitor):
        marker = viewer.locator(f"#{contribution.dom_id} .item-marker")
        expect(marker).to_be_visible()
        expect(marker).to_contain_text("Hidden by a facilitator")
        expect(
            viewer.locator("#contributions").get_by_text("Buy the vendor's product")
        ).to_have_count(0)
        assert _not_reloaded(viewer)
    contribution.refresh_from_db()
    assert contribution.state == ItemState.HIDDEN


def test_the_controls_moderation_js_puts_on_a_live_item_are_the_servers(new_page):
    """static/js/moderation.js copies the facilitator's controls from the page's <template>
    onto an item that arrives live; after a reload the server renders the same controls."""
    study = StudyFactory()
    author = member(study)
    facilitator = member(study, role=Role.FACILITATOR)
    moderator = _signed_in_page(new_page, facilitator, study)
    contribution = _post(study, author, "Arrives live", "Text.")
    tools = f"#{contribution.dom_id} > .item-tools .moderation-item-tools"
    token = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')

    def shown() -> str:
        expect(moderator.locator(tools)).to_have_count(1)
        return token.sub(r'\1"', moderator.locator(tools).evaluate("e => e.outerHTML"))

    live = shown()
    assert 'data-moderation-action="hide"' in live
    moderator.reload()
    assert shown() == live


# --- 4. a lost socket: after reconnecting, everything posted meanwhile is there once ---


def test_after_a_lost_connection_every_item_posted_meanwhile_is_on_the_page_once(new_page):
    study = StudyFactory()
    author = member(study)
    before = ContributionFactory(study=study, author=author, title="Before the cut")
    page = new_page(language="en")
    _study_page(page, study)
    expect(page.locator(f"#{before.dom_id}")).to_have_count(1)

    # Cut the connection and keep it cut, as a lost network would.
    page.evaluate(
        "window.__dugnadBlockSockets = true;"
        "window.__dugnadSockets.forEach(function (s) { s.close(); });"
    )
    expect(page.locator("#live-status")).to_have_attribute("data-state", "offline")

    posted = [_post(study, author, f"While away {n}", f"Body {n}") for n in range(3)]
    comment = in_thread(
        contribution_services.comment_create,
        contribution=before,
        author=author,
        body="A comment while away",
    )
    # Still cut: nothing has arrived yet.
    expect(page.locator(f"#{posted[0].dom_id}")).to_have_count(0)

    page.evaluate("window.__dugnadBlockSockets = false")
    expect(page.locator("#live-status")).to_have_attribute(
        "data-state", "live", timeout=RECONNECT_TIMEOUT
    )
    for item in posted:
        expect(page.locator(f"#{item.dom_id}")).to_have_count(1, timeout=RECONNECT_TIMEOUT)
    expect(page.locator(f"#{comment.dom_id}")).to_have_count(1)
    expect(page.locator("#contributions .contribution")).to_have_count(4)
    # Each once, also by what people read.
    for n in range(3):
        expect(page.get_by_text(f"While away {n}", exact=True)).to_have_count(1)
    assert _not_reloaded(page)
    assert page.console_errors == []


# --- keyboard alone, and the polite live region ------------------------------------------


def _tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus by Tab")


def test_posting_works_by_keyboard_alone(new_page):
    study = StudyFactory()
    user = member(study)
    page = _signed_in_page(new_page, user, study)
    page.locator("body").focus()
    _tab_to(page, "#contribution-form [name=title]")
    page.keyboard.type("Typed without a mouse")
    _tab_to(page, "#contribution-form [name=body]")
    page.keyboard.type("Every step by keyboard.")
    _tab_to(page, "#contribution-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#contributions .contribution h3")).to_have_text(["Typed without a mouse"])
    assert Contribution.objects.get(study=study).author == user


def test_new_live_items_are_announced_through_a_polite_live_region(new_page):
    study = StudyFactory()
    author = member(study)
    page = new_page(language="en")
    _study_page(page, study)
    region = page.locator("#live-announcer")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_text("")
    _post(study, author, "Announced arrival", "Hello.")
    expect(page.locator("#contributions .contribution")).to_have_count(1)
    expect(region).not_to_have_text("")
    first = region.text_content()
    assert first.strip()
    _post(study, author, "Second arrival", "Hello again.")
    expect(page.locator("#contributions .contribution")).to_have_count(2)
    # The region speaks again for the next arrival (it is emptied, then refilled).
    expect(region).not_to_have_text("")


# --- the posting limit in the browser ----------------------------------------------------


@pytest.mark.parametrize("failure", ["server error", "connection lost"])
def test_when_posting_fails_the_page_says_so_and_keeps_the_text(new_page, failure):
    """A 500 or 503 (the server, Redis away) or no answer at all swaps nothing:
    the form says nothing was saved, keeps what was typed, and the next try works."""
    study = StudyFactory()
    user = member(study)
    page = _signed_in_page(new_page, user, study)
    url = "**" + reverse("contribution_list", args=[study.slug])

    def fail(route):
        if route.request.method != "POST":
            return route.continue_()
        if failure == "server error":
            return route.fulfill(status=503, body="Busy")
        return route.abort("connectionreset")

    page.route(url, fail)
    _post_contribution(page, "Careful words", "What I wrote with care.")
    form = page.locator("#contribution-form")
    alert = form.locator(".request-failed[role=alert]")
    expect(alert).to_contain_text("What you wrote is still here")
    expect(form.locator("[name=body]")).to_have_value("What I wrote with care.")
    assert not Contribution.objects.filter(study=study).exists()
    page.unroute(url)
    form.get_by_role("button", name="Post").click()
    expect(page.locator("#contributions")).to_contain_text("Careful words")
    expect(page.locator(".request-failed")).to_have_count(0)


def test_when_a_button_fails_the_page_says_to_reload(new_page):
    """A form without text (Support) gets the message to reload instead."""
    study = StudyFactory()
    contribution = ContributionFactory(study=study, title="Someone else's idea")
    page = _signed_in_page(new_page, member(study), study)
    page.route("**/react/", lambda route: route.fulfill(status=503, body="Busy"))
    item = page.locator(f"#{contribution.dom_id}")
    item.locator(":scope > .item-tools").get_by_role("button", name="Support").click()
    alert = item.locator(":scope > .item-tools .request-failed[role=alert]")
    expect(alert).to_contain_text("Reload the page and try again")
    expect(alert).not_to_contain_text("still here")


def test_past_the_posting_limit_the_message_is_friendly_and_the_text_is_kept(
    new_page, requires_redis
):
    import time

    from django.conf import settings
    from django.core.cache import cache

    from contributions.services import parse_rate

    study = StudyFactory()
    user = member(study)
    page = _signed_in_page(new_page, user, study)
    # Use up this person's allowance on the shared cache the server counts in (this
    # window and the next, so a minute turning over cannot let the post through).
    rate = parse_rate(settings.POSTING_RATE_LIMIT)
    window = int(time.time()) // rate.seconds
    for w in (window, window + 1):
        cache.set(f"posting-rate:{user.pk}:{w}", rate.count, timeout=rate.seconds * 3)
    _post_contribution(page, "Too fast", "What I wrote with care.")
    alert = (
        page.locator("#contribution-form, .refusal")
        .locator("[role=alert]")
        .or_(page.locator(".refusal[role=alert]"))
    )
    expect(alert.first).to_contain_text("faster than the study allows")
    assert not Contribution.objects.filter(study=study).exists()
    expect(page.locator("#contribution-form [name=body]")).to_have_value("What I wrote with care.")
