"""Comments, replies and amendments on a passage a newer version no longer has: listed
as "on version 0.8: …" under the document, with the same per-item controls (flag,
moderate) and the same permissions as in a block's panel, a hidden one as a marker."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from contributions import passages
from contributions.models import ItemState
from moderation import services as moderation
from moderation.models import Flag
from studies.services import document_version_publish
from tests.contributions.factories import member
from tests.contributions.passage_setup import DOC, document_study
from tests.factories import login_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def doc(settings):
    """Kari's comment (with her reply and Ola's) and amendment on the list item of
    version 0.8, which version 0.9 leaves out; and a comment on a passage that stays."""
    doc = document_study(settings)
    gone = doc.blocks[2].anchor  # "- It works on a phone."
    doc.comment = passages.passage_comment_create(
        study=doc.study, author=doc.kari, anchor=gone, body="Which phones?"
    )
    doc.amendment = passages.amendment_create(
        study=doc.study, author=doc.kari, anchor=gone, wording="- It works offline.", reason="Why"
    )
    doc.reply = passages.passage_reply_create(
        contribution=doc.comment, author=doc.kari, body="Old ones too."
    )
    doc.answer = passages.passage_reply_create(
        contribution=doc.comment, author=doc.ola, body="Agreed."
    )
    doc.kept = passages.passage_comment_create(
        study=doc.study, author=doc.kari, anchor=doc.blocks[1].anchor, body="Stays."
    )
    doc.study.refresh_from_db()
    document_version_publish(
        study=doc.study,
        number="0.9",
        body=DOC.replace("- It works on a phone.\n", ""),
        change_summary="Shorter.",
        by=doc.coordinator,
    )
    return doc


def _page(client, doc) -> str:
    client.cookies["django_language"] = "en"
    response = client.get(reverse("passages:document", args=[doc.study.slug]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def _gone(html: str) -> str:
    start = html.index('class="ds-card card gone-passages"')
    return html[start : html.index("</section>\n", html.rindex("passage-item", start))]


def _tag(html: str, item_type: str, item) -> str:
    pattern = rf'<article [^>]*data-item-type="{item_type}" data-item-id="{item.pk}"[^>]*>'
    found = re.search(pattern, html)
    assert found, f"no {item_type} {item.pk}"
    return found.group(0)


ITEMS = {
    "comment": ("contribution", "comment"),
    "amendment": ("contribution", "amendment"),
    "reply": ("comment", "reply"),
    "answer": ("comment", "answer"),
}


def test_each_gone_item_and_reply_carries_what_the_page_s_item_controls_need(doc, client):
    gone = _gone(_page(client, doc))
    for item_type, name in ITEMS.values():
        item = getattr(doc, name)
        tag = _tag(gone, item_type, item)
        # The same markup as in a block's panel (contributions/_passage_item.html).
        assert ('class="passage-item item"' in tag) or ('class="passage-reply item' in tag)
        assert f'data-author-id="{item.author_id}"' in tag
        assert 'data-state="published"' in tag
    assert gone.count('<div class="item-tools"></div>') == 4
    assert gone.count("On version 0.8:") == 2
    assert "It works on a phone." in gone and "Old ones too." in gone and "Agreed." in gone
    # The passage is gone: nothing to support, decide or reply to here.
    assert "/support/" not in gone and "/decide/" not in gone and "reply-form" not in gone
    assert f'data-item-id="{doc.kept.pk}"' not in gone


def test_the_gone_list_reads_its_items_replies_in_one_query(doc, django_assert_num_queries):
    with django_assert_num_queries(2):  # the items, then all their replies
        items = passages.gone_items(study=doc.study)
    assert [p.contribution_id for p in items] == [doc.comment.pk, doc.amendment.pk]
    assert [r.pk for r in items[0].replies] == [doc.reply.pk, doc.answer.pk]


@pytest.mark.parametrize("viewer", ["member", "facilitator", "coordinator"])
def test_the_page_brings_the_controls_for_the_gone_list_as_for_the_panels(doc, client, viewer):
    person = {"member": doc.ola, "facilitator": doc.facilitator, "coordinator": doc.coordinator}
    login_as(client, person[viewer])
    html = _page(client, doc)
    assert 'id="moderation-page-tools"' in html
    assert f'data-user-id="{person[viewer].pk}"' in html
    moderates = viewer != "member"
    assert ('id="moderation-facilitator-template"' in html) == moderates
    assert ('id="moderation-flag-template"' in html) == (not moderates)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "non-member"])
def test_visitors_and_non_members_get_no_control_on_the_gone_list(doc, client, signed_in):
    if signed_in:
        login_as(client, member())  # a member of another study
    html = _page(client, doc)
    assert "Which phones?" in html
    assert "moderation-page-tools" not in html and "moderation-flag-template" not in html


def _flag(client, doc, item_type, item):
    url = reverse("moderation:flag", args=[doc.study.slug, item_type, item.pk])
    next_url = reverse("passages:document", args=[doc.study.slug]) + f"#passage-item-{item.pk}"
    return client.post(url, {"reason": "off_topic", "next": next_url})


@pytest.mark.parametrize("which", ["comment", "amendment", "reply"])
def test_a_member_flags_a_gone_comment_amendment_or_reply(doc, client, which):
    item_type, name = ITEMS[which]
    item = getattr(doc, name)
    login_as(client, doc.ola)
    response = _flag(client, doc, item_type, item)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("passages:document", args=[doc.study.slug]))
    assert Flag.objects.for_item(item).filter(user=doc.ola, reason="off_topic").count() == 1


def test_anonymous_people_non_members_and_the_author_cannot_flag_a_gone_item(doc, client):
    response = _flag(client, doc, "contribution", doc.comment)
    assert response.status_code == 302 and "login" in response["Location"]
    login_as(client, member())  # a member of another study
    assert _flag(client, doc, "contribution", doc.comment).status_code == 403
    login_as(client, doc.ola)
    assert _flag(client, doc, "comment", doc.answer).status_code == 400  # Ola's own
    login_as(client, doc.kari)
    for item_type, item in (("contribution", doc.comment), ("comment", doc.reply)):
        assert _flag(client, doc, item_type, item).status_code == 400
    assert not Flag.objects.exists()


def _hide(client, doc, item_type, item):
    url = reverse("moderation:item_action", args=[doc.study.slug, item_type, item.pk, "hide"])
    return client.post(url, {"reason": "off_topic", "next": "/"})


@pytest.mark.parametrize("moderator", ["facilitator", "coordinator"])
def test_a_facilitator_or_coordinator_hides_a_gone_item_and_it_stays_as_a_marker(
    doc, client, moderator
):
    login_as(client, getattr(doc, moderator))
    assert _hide(client, doc, "contribution", doc.comment).status_code == 302
    assert _hide(client, doc, "comment", doc.answer).status_code == 302
    for item in (doc.comment, doc.answer):
        item.refresh_from_db()
        assert item.state == ItemState.HIDDEN


@pytest.mark.parametrize("signed_in", ["anonymous", "non-member", "member", "author"])
def test_no_one_else_hides_a_gone_item(doc, client, signed_in):
    person = {"non-member": member(), "member": doc.ola, "author": doc.kari}.get(signed_in)
    if person is not None:
        login_as(client, person)
    response = _hide(client, doc, "contribution", doc.comment)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "login" in response["Location"]
    doc.comment.refresh_from_db()
    assert doc.comment.state == ItemState.PUBLISHED


@pytest.mark.parametrize("viewer", ["visitor", "member", "facilitator"])
def test_a_hidden_gone_item_is_shown_as_hidden_as_in_a_panel(doc, client, viewer):
    for item in (doc.comment, doc.amendment, doc.reply):
        moderation.item_hide(study=doc.study, actor=doc.facilitator, item=item, reason="off_topic")
    if viewer != "visitor":
        login_as(client, doc.ola if viewer == "member" else doc.facilitator)
    gone = _gone(_page(client, doc))
    for item_type, item in (
        ("contribution", doc.comment),
        ("contribution", doc.amendment),
        ("comment", doc.reply),
    ):
        assert 'data-state="hidden"' in _tag(gone, item_type, item)
    assert gone.count("Hidden by a facilitator: off-topic.") == 3
    assert "Which phones?" not in gone and "Old ones too." not in gone
    assert "It works offline." not in gone
    # The passage stays quoted; Ola's published reply under the hidden comment stays.
    assert "It works on a phone." in gone
    assert "Agreed." in gone and gone.count("Kari Nordmann") == 0
    assert 'data-state="published"' in _tag(gone, "comment", doc.answer)


def test_a_pending_or_rejected_gone_item_has_no_place_in_the_list(doc):
    for item, state in ((doc.comment, ItemState.PENDING), (doc.amendment, ItemState.REJECTED)):
        item.state = state
        item.save(update_fields=["state"])
    assert passages.gone_items(study=doc.study) == []
