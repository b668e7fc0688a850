"""Two people on the concept document: a comment on a passage and an amendment arrive live,
the second person supports the amendment, and the coordinator's decision reaches both."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contributions import passages
from contributions.models import Contribution
from moderation import services as moderation
from moderation.models import Flag
from studies.blocks import version_blocks
from studies.models import Role
from studies.services import document_version_publish
from tests.browser.conftest import in_thread
from tests.browser.test_accessibility import _blocking_violations
from tests.browser.test_flows import _signed_in_page
from tests.contributions.factories import member
from tests.factories import StudyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOC = (
    "# Digital assistant\n\n"
    "Citizens should find help in one place, whatever agency holds the answer.\n\n"
    "- It works on a phone.\n"
)


def _document_study():
    """A study with DOC published by its coordinator, and Kari and Ola as members;
    the anchor is the block the tests write on."""
    study = StudyFactory(body=DOC)
    coordinator = member(study, role=Role.COORDINATOR)
    version = in_thread(
        document_version_publish,
        study=study,
        number="0.8",
        body=DOC,
        change_summary="First.",
        by=coordinator,
    )
    kari = member(study, display_name="Kari Nordmann")
    ola = member(study, display_name="Ola Nordmann")
    return study, coordinator, version_blocks(version)[1].anchor, kari, ola


def _document_page(page, study):
    page.goto(f"/studies/{study.slug}/document/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def _comment(study, anchor, author):
    return in_thread(
        passages.passage_comment_create,
        study=study,
        author=author,
        anchor=anchor,
        body="Which agencies?",
    )


def _comment_with_reply(study, anchor, author):
    item = _comment(study, anchor, author)
    in_thread(passages.passage_reply_create, contribution=item, author=author, body="All.")
    return item


def _publish_without_the_paragraph(study, coordinator):
    """Version 0.9: DOC without its paragraph (the block the tests write on is gone)."""
    in_thread(study.refresh_from_db)
    return in_thread(
        document_version_publish,
        study=study,
        number="0.9",
        body="# Digital assistant\n\n- It works on a phone.\n",
        change_summary="Shorter.",
        by=coordinator,
    )


def _open_panel(new_page, person, study, anchor, width):
    page = _signed_in_page(new_page, person)
    page.set_viewport_size({"width": width, "height": 900})
    _document_page(page, study)
    page.locator(f"#{anchor} .passage-open").click()
    expect(page.locator(f"#{anchor} .passage-panel-title")).to_be_visible()
    return page


@pytest.mark.parametrize("width", [390, 1280])
def test_a_passage_comment_and_an_amendment_reach_a_second_browser_live(
    new_page, asgi_server, width
):
    study, coordinator, anchor, kari, ola = _document_study()
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
    study, coordinator, anchor, kari, ola = _document_study()
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
    study, coordinator, anchor, kari, ola = _document_study()
    item = _comment(study, anchor, kari)
    pages = []
    for person in (kari, ola):
        page = _open_panel(new_page, person, study, anchor, width)
        page.evaluate("window.__noReload = true")
        pages.append(page)
    first, second = pages
    theirs = second.locator(f"#passage-item-{item.pk}")
    theirs.locator(".reply-form-wrap summary").click()
    theirs.locator(".reply-form textarea").fill("Half-written")

    mine = first.locator(f"#passage-item-{item.pk}")
    mine.locator(".reply-form-wrap summary").click()
    mine.locator(".reply-form textarea").fill("NAV and the municipalities.")
    mine.locator(".reply-form button[type=submit]").click()
    expect(mine.locator(".passage-replies")).to_contain_text("NAV and the municipalities.")

    expect(theirs.locator(".passage-replies .passage-reply")).to_have_count(1)
    expect(theirs.locator(".passage-replies")).to_contain_text("Kari Nordmann")
    expect(theirs.locator(".reply-form textarea")).to_have_value("Half-written")
    theirs.locator(".reply-form textarea").fill("Thank you.")
    theirs.locator(".reply-form button[type=submit]").click()
    expect(mine.locator(".passage-replies .passage-reply")).to_have_count(2)
    expect(mine.locator(".passage-reply").nth(1)).to_contain_text("Thank you.")
    for page in pages:
        assert page.evaluate("window.__noReload === true")
    assert _blocking_violations(second) == []
    assert first.console_errors == [] and second.console_errors == []


@pytest.mark.parametrize("width", [390, 1280])
def test_a_member_flags_a_passage_comment_from_its_panel(new_page, asgi_server, width):
    """The panel's items take the study page's flag control: on other people's comments
    and replies, not on one's own; the flag is recorded and the panel opens again."""
    study, _coordinator, anchor, kari, ola = _document_study()
    item = _comment_with_reply(study, anchor, kari)
    mine = in_thread(passages.passage_reply_create, contribution=item, author=ola, body="Mine.")
    page = _open_panel(new_page, ola, study, anchor, width)
    card = page.locator(f"#passage-item-{item.pk}")
    expect(card.locator(":scope > .item-tools .moderation-flag")).to_have_count(1)
    expect(card.locator(".passage-reply .moderation-flag")).to_have_count(1)
    expect(page.locator(f"#passage-reply-{mine.pk} .moderation-flag")).to_have_count(0)
    assert _blocking_violations(page) == []
    flag = card.locator(":scope > .item-tools .moderation-flag")
    flag.locator("summary").click()
    flag.locator("select[name=reason]").select_option("off_topic")
    flag.get_by_role("button", name="Send to the facilitators").click()
    expect(page.get_by_text("Thank you. The facilitators will look at it.")).to_be_visible()
    # Back on the document with the panel open, as the address named it.
    expect(page.locator(f"#passage-item-{item.pk}")).to_be_visible()
    assert in_thread(lambda: Flag.objects.filter(contribution=item, user=ola).count()) == 1
    assert page.console_errors == []


@pytest.mark.parametrize("width", [390, 1280])
def test_a_block_s_count_follows_replies_and_a_hidden_comment_names_nobody(
    new_page, asgi_server, width
):
    """Ola has the panel open with a flag form half filled in when Kari replies: the count
    counts the reply and the form stays as it was; when a facilitator hides Kari's comment,
    its author leaves the panel, its flag control with it, and the count drops to the
    replies still shown under it."""
    study, _coordinator, anchor, kari, ola = _document_study()
    facilitator = member(study, role=Role.FACILITATOR)
    item = _comment_with_reply(study, anchor, kari)
    page = _open_panel(new_page, ola, study, anchor, width)
    page.evaluate("window.__noReload = true")
    count = page.locator(f'#{anchor} [data-count="comments"]')
    expect(count).to_have_text("2")
    card = page.locator(f"#passage-item-{item.pk}")
    flag = card.locator(":scope > .item-tools .moderation-flag")
    flag.locator("summary").click()
    flag.locator("select[name=reason]").select_option("off_topic")

    in_thread(passages.passage_reply_create, contribution=item, author=kari, body="And more.")
    expect(card.locator(".passage-reply")).to_have_count(2)
    expect(count).to_have_text("3")
    expect(flag.locator("select[name=reason]")).to_have_value("off_topic")

    in_thread(moderation.item_hide, study=study, actor=facilitator, item=item, reason="off_topic")
    expect(card).to_have_attribute("data-state", "hidden")
    expect(card.locator(".item-marker")).to_be_visible()
    expect(card.locator(":scope > .item-meta .author")).to_have_count(0)
    expect(card.locator(":scope > .item-tools .moderation-flag")).to_have_count(0)
    # The two replies stay readable under the marker, and the count is what can be read.
    expect(card.locator(".passage-reply[data-state=published]")).to_have_count(2)
    expect(count).to_have_text("2")
    assert page.evaluate("window.__noReload === true")
    assert _blocking_violations(page) == []
    assert page.console_errors == []


@pytest.mark.parametrize("width", [390, 1280])
def test_items_on_a_passage_no_longer_in_the_document_take_the_panel_s_controls(
    new_page, asgi_server, width
):
    """Kari's comment, with her reply and Ola's, is on a paragraph version 0.9 leaves out:
    under the document, Ola gets the flag control on Kari's comment and reply, not on her
    own reply, and flags the comment; a facilitator hides it there and it stays as a
    marker, with its replies and the control to restore it."""
    study, coordinator, anchor, kari, ola = _document_study()
    facilitator = member(study, role=Role.FACILITATOR)
    item = _comment_with_reply(study, anchor, kari)
    theirs = in_thread(lambda: item.comments.get(author=kari))
    mine = in_thread(passages.passage_reply_create, contribution=item, author=ola, body="Mine.")
    _publish_without_the_paragraph(study, coordinator)

    page = _signed_in_page(new_page, ola)
    page.set_viewport_size({"width": width, "height": 900})
    _document_page(page, study)
    card = page.locator(f".gone-passages #passage-item-{item.pk}")
    expect(card).to_contain_text("On version 0.8:")
    expect(card.locator(":scope > .item-tools .moderation-flag")).to_have_count(1)
    expect(page.locator(f"#passage-reply-{theirs.pk} .moderation-flag")).to_have_count(1)
    expect(page.locator(f"#passage-reply-{mine.pk} .moderation-flag")).to_have_count(0)
    assert _blocking_violations(page) == []
    flag = card.locator(":scope > .item-tools .moderation-flag")
    flag.locator("summary").click()
    flag.locator("select[name=reason]").select_option("off_topic")
    flag.get_by_role("button", name="Send to the facilitators").click()
    expect(page.get_by_text("Thank you. The facilitators will look at it.")).to_be_visible()
    expect(page.locator(f".gone-passages #passage-item-{item.pk}")).to_be_visible()
    assert in_thread(lambda: Flag.objects.filter(contribution=item, user=ola).count()) == 1

    staff = _signed_in_page(new_page, facilitator)
    staff.set_viewport_size({"width": width, "height": 900})
    _document_page(staff, study)
    card = staff.locator(f".gone-passages #passage-item-{item.pk}")
    tools = card.locator(":scope > .item-tools .moderation-tools")
    expect(card.locator(":scope > .item-tools .moderation-flag")).to_have_count(0)
    tools.locator("summary").click()
    hide = tools.locator("form[data-moderation-action=hide]")
    hide.locator("select[name=reason]").select_option("off_topic")
    hide.get_by_role("button", name="Hide").click()
    card = staff.locator(f".gone-passages #passage-item-{item.pk}")
    expect(card).to_have_attribute("data-state", "hidden")
    expect(card.locator(":scope > .item-marker")).to_be_visible()
    expect(card.locator(":scope > .item-meta .author")).to_have_count(0)
    expect(card.locator(":scope > .item-tools form[data-moderation-action=restore]")).to_have_count(
        1
    )
    expect(card.locator(".passage-reply[data-state=published]")).to_have_count(2)
    assert _blocking_violations(staff) == []
    assert page.console_errors == [] and staff.console_errors == []


def test_a_reply_on_a_gone_passage_arrives_live_and_is_not_announced_as_the_panels(
    new_page, asgi_server
):
    """A reply to an item whose passage is gone arrives live under it, and, though such
    items have the same ids as a panel's, it is not announced as a reply in the open
    panel; a reply there is."""
    study, coordinator, anchor, kari, ola = _document_study()
    gone = _comment(study, anchor, kari)
    version = _publish_without_the_paragraph(study, coordinator)
    kept = in_thread(lambda: version_blocks(version)[1].anchor)
    here = _comment(study, kept, kari)
    page = _open_panel(new_page, ola, study, kept, 1280)
    page.evaluate("window.__noReload = true")
    expect(page.locator(f".gone-passages #passage-item-{gone.pk}")).to_be_visible()
    page.evaluate(
        """() => {
        window.__announced = [];
        const region = document.getElementById("live-announcer");
        new MutationObserver(() => window.__announced.push(region.textContent))
            .observe(region, {childList: true, characterData: true, subtree: true});
    }"""
    )
    # Events arrive in order: once the second reply is in the panel, the first was handled.
    in_thread(passages.passage_reply_create, contribution=gone, author=kari, body="Gone one.")
    in_thread(passages.passage_reply_create, contribution=here, author=kari, body="Here.")
    panel = page.locator(f"#panel-{kept}")
    expect(panel.locator(f"#passage-item-{here.pk} .passage-replies")).to_contain_text("Here.")
    page.wait_for_function("window.__announced.length > 0")
    gone_card = page.locator(f".gone-passages #passage-item-{gone.pk}")
    expect(gone_card.locator(".passage-replies")).to_contain_text("Gone one.")
    assert len(page.evaluate("window.__announced")) == 1
    assert page.evaluate("window.__noReload === true")
    assert page.console_errors == []
