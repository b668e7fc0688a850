"""Two people on the concept document: a comment on a passage and an amendment arrive live,
the second person supports the amendment, and the coordinator's decision reaches both."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contributions import passages
from contributions.models import Contribution
from studies.blocks import version_blocks
from studies.models import Role
from studies.services import document_version_publish
from tests.browser.conftest import in_thread
from tests.browser.test_accessibility import _blocking_violations
from tests.browser.test_flows import _member, _signed_in_page
from tests.factories import StudyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOC = (
    "# Digital assistant\n\n"
    "Citizens should find help in one place, whatever agency holds the answer.\n\n"
    "- It works on a phone.\n"
)


def _document_page(page, study):
    page.goto(f"/studies/{study.slug}/document/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


@pytest.mark.parametrize("width", [390, 1280])
def test_a_passage_comment_and_an_amendment_reach_a_second_browser_live(
    new_page, asgi_server, width
):
    study = StudyFactory(body=DOC)
    coordinator = _member(study, role=Role.COORDINATOR)
    version = in_thread(
        document_version_publish,
        study=study,
        number="0.8",
        body=DOC,
        change_summary="First.",
        by=coordinator,
    )
    anchor = version_blocks(version)[1].anchor
    kari = _member(study, display_name="Kari Nordmann")
    ola = _member(study, display_name="Ola Nordmann")
    first = _signed_in_page(new_page, kari)
    second = _signed_in_page(new_page, ola)
    for page in (first, second):
        page.set_viewport_size({"width": width, "height": 900})
        _document_page(page, study)
    block = first.locator(f"#{anchor}")
    block.locator(".passage-open").click()
    block.locator("textarea[name=comment-body]").fill("Which agencies?")
    block.locator("form.passage-form button[type=submit]").first.click()
    expect(block.locator(".passage-item")).to_have_count(1)
    other = second.locator(f"#{anchor}")
    expect(other.locator('[data-count="comments"]')).to_have_text("1")
    block.locator(".amendment-form-wrap summary").click()
    block.locator("textarea[name=amend-wording]").fill("Citizens find help in one place.")
    block.locator("textarea[name=amend-body]").fill("Shorter.")
    block.locator(".amendment-form-wrap form button[type=submit]").click()
    expect(block.locator(".passage-item")).to_have_count(2)
    expect(other.locator('[data-count="amendments"]')).to_have_text("1")
    # The second person opens the passage, sees the word diff and supports the proposal.
    other.locator(".passage-open").click()
    amendment = other.locator(".passage-item[data-kind=amendment]")
    expect(amendment.locator(".word-diff del").first).to_have_text(" should")
    amendment.locator("form[action$='/support/'] button").click()
    expect(other.locator(".passage-item[data-kind=amendment]")).to_contain_text(
        "1 person supports this"
    )
    # The author's open panel follows, and the coordinator's decision reaches both pages.
    expect(block.locator(".passage-item[data-kind=amendment]")).to_contain_text(
        "1 person supports this"
    )
    contribution = Contribution.objects.get(kind="amendment")
    in_thread(
        passages.amendment_decide,
        contribution=contribution,
        by=coordinator,
        status="considering",
        reason="We look at it.",
    )
    for panel in (block, other):
        expect(panel.locator(".amendment-status")).to_have_attribute("data-status", "considering")
    assert _blocking_violations(second) == []
    assert first.console_errors == [] and second.console_errors == []


def test_a_declined_amendment_loses_its_support_button_on_open_pages_without_a_reload(
    new_page, asgi_server
):
    """A member has the document's panel and the study page open; the coordinator declines
    the amendment and both pages stop offering support (the server would answer 409)."""
    study = StudyFactory(body=DOC)
    coordinator = _member(study, role=Role.COORDINATOR)
    version = in_thread(
        document_version_publish,
        study=study,
        number="0.8",
        body=DOC,
        change_summary="First.",
        by=coordinator,
    )
    anchor = version_blocks(version)[1].anchor
    kari = _member(study, display_name="Kari Nordmann")
    ola = _member(study, display_name="Ola Nordmann")
    amendment = in_thread(
        passages.amendment_create,
        study=study,
        author=kari,
        anchor=anchor,
        wording="Citizens find help in one place.",
        reason="Shorter.",
    )
    document = _signed_in_page(new_page, ola)
    _document_page(document, study)
    document.evaluate("window.__noReload = true")
    block = document.locator(f"#{anchor}")
    block.locator(".passage-open").click()
    card = block.locator(".passage-item[data-kind=amendment]")
    expect(card.locator("form[action$='/support/'] button")).to_be_visible()
    listing = _signed_in_page(new_page, ola, study)
    item = listing.locator(f"#contribution-{amendment.pk}")
    expect(item.locator(".react-button")).to_be_visible()

    in_thread(
        passages.amendment_decide,
        contribution=amendment,
        by=coordinator,
        status="declined",
        reason="Not in this version.",
    )
    expect(card.locator(".amendment-status")).to_have_attribute("data-status", "declined")
    expect(card.locator("form[action$='/support/']")).to_have_count(0)
    expect(item).to_have_attribute("data-decided", "true")
    expect(item.locator(".react-button")).to_have_count(0)
    # Commenting on the decision is still offered.
    expect(item.locator(".live-item-tools").get_by_role("link", name="Comment")).to_have_count(1)
    expect(item.locator(".live-item-tools button")).to_have_count(0)
    assert document.evaluate("window.__noReload === true")
    assert listing.evaluate("window.__noReload === true")
    assert _blocking_violations(document) == []
    assert document.console_errors == [] and listing.console_errors == []


@pytest.mark.parametrize("width", [390, 1280])
def test_a_reply_to_a_passage_comment_lands_under_it_on_another_open_panel(
    new_page, asgi_server, width
):
    """Ola is typing a reply when Kari's reply arrives: it lands under the comment, and
    Ola's open form keeps its text; Ola's reply then reaches Kari's panel the same way."""
    study = StudyFactory(body=DOC)
    coordinator = _member(study, role=Role.COORDINATOR)
    version = in_thread(
        document_version_publish,
        study=study,
        number="0.8",
        body=DOC,
        change_summary="First.",
        by=coordinator,
    )
    anchor = version_blocks(version)[1].anchor
    kari = _member(study, display_name="Kari Nordmann")
    ola = _member(study, display_name="Ola Nordmann")
    item = in_thread(
        passages.passage_comment_create,
        study=study,
        author=kari,
        anchor=anchor,
        body="Which agencies?",
    )
    pages = []
    for person in (kari, ola):
        page = _signed_in_page(new_page, person)
        page.set_viewport_size({"width": width, "height": 900})
        _document_page(page, study)
        page.evaluate("window.__noReload = true")
        page.locator(f"#{anchor} .passage-open").click()
        pages.append(page)
    first, second = pages
    theirs = second.locator(f"#passage-item-{item.pk}")
    theirs.locator(".reply-form-wrap summary").click()
    theirs.locator("textarea").fill("Half-written")

    mine = first.locator(f"#passage-item-{item.pk}")
    mine.locator(".reply-form-wrap summary").click()
    mine.locator("textarea").fill("NAV and the municipalities.")
    mine.locator(".reply-form button[type=submit]").click()
    expect(mine.locator(".passage-replies")).to_contain_text("NAV and the municipalities.")

    expect(theirs.locator(".passage-replies .passage-reply")).to_have_count(1)
    expect(theirs.locator(".passage-replies")).to_contain_text("Kari Nordmann")
    expect(theirs.locator("textarea")).to_have_value("Half-written")
    theirs.locator("textarea").fill("Thank you.")
    theirs.locator(".reply-form button[type=submit]").click()
    expect(mine.locator(".passage-replies .passage-reply")).to_have_count(2)
    expect(mine.locator(".passage-reply").nth(1)).to_contain_text("Thank you.")
    for page in pages:
        assert page.evaluate("window.__noReload === true")
    assert _blocking_violations(second) == []
    assert first.console_errors == [] and second.console_errors == []
