"""Moderation in the document's passage panels as on the study page: every comment,
reply and amendment there takes the same flag (and moderation) controls, a hidden one
names nobody, and a block's comment count counts the replies the panel shows."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from contributions import passages
from contributions.models import Comment, ItemState
from moderation import services as moderation
from moderation.models import Flag
from studies.models import StudyEvent
from tests.contributions.factories import member
from tests.contributions.passage_setup import document_study
from tests.factories import login_as

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def doc(settings):
    doc = document_study(settings)
    anchor = doc.blocks[1].anchor
    doc.comment = passages.passage_comment_create(
        study=doc.study, author=doc.kari, anchor=anchor, body="Which agencies?"
    )
    doc.amendment = passages.amendment_create(
        study=doc.study,
        author=doc.kari,
        anchor=anchor,
        wording="Citizens find help in one place.",
        reason="Shorter.",
    )
    doc.reply = passages.passage_reply_create(
        contribution=doc.comment, author=doc.kari, body="All of them."
    )
    return doc


def _document(client, doc) -> str:
    """The document page with the block's panel open, as without JavaScript."""
    url = reverse("passages:document", args=[doc.study.slug])
    response = client.get(f"{url}?open={doc.blocks[1].anchor}")
    assert response.status_code == 200
    return unescape(response.content.decode())


def _panel(client, doc) -> str:
    url = reverse("passages:panel", args=[doc.study.slug, doc.blocks[1].anchor])
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    return unescape(response.content.decode())


def _flag(client, doc, item_type, item):
    url = reverse("moderation:flag", args=[doc.study.slug, item_type, item.pk])
    return client.post(url, {"reason": "off_topic", "next": "/"})


# --- the flag control ------------------------------------------------------------------


def test_each_panel_item_and_reply_carries_what_the_page_s_item_controls_need(doc, client):
    html = _panel(client, doc)
    for item_type, item in (
        ("contribution", doc.comment),
        ("contribution", doc.amendment),
        ("comment", doc.reply),
    ):
        pattern = rf'<article [^>]*data-item-type="{item_type}" data-item-id="{item.pk}"[^>]*>'
        tag = re.search(pattern, html).group(0)
        assert 'class="passage-' in tag and " item" in tag
        assert f'data-author-id="{item.author_id}"' in tag
        assert 'data-state="published"' in tag
    # An empty .item-tools of its own, where static/js/moderation.js puts the controls.
    assert html.count('<div class="item-tools"></div>') == 3


def test_a_member_gets_the_flag_control_of_the_study_page_on_the_document_page(doc, client):
    login_as(client, doc.ola)
    html = _document(client, doc)
    assert 'id="moderation-page-tools"' in html
    assert f'data-user-id="{doc.ola.pk}"' in html
    assert 'data-can-flag="true"' in html
    # The same template as on the study page: one copy of its markup.
    assert 'id="moderation-flag-template"' in html
    assert 'id="moderation-facilitator-template"' not in html
    assert "js/moderation.js" in html


def test_a_facilitator_gets_the_moderation_controls(doc, client):
    login_as(client, doc.facilitator)
    html = _document(client, doc)
    assert 'id="moderation-facilitator-template"' in html
    assert 'id="moderation-flag-template"' not in html


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "non-member"])
def test_visitors_and_non_members_get_no_flag_control(doc, client, signed_in):
    if signed_in:
        login_as(client, member())  # a member of another study
    html = _document(client, doc)
    assert "moderation-page-tools" not in html
    assert "moderation-flag-template" not in html


@pytest.mark.parametrize("which", ["comment", "amendment", "reply"])
def test_a_member_flags_a_passage_comment_an_amendment_or_a_reply(doc, client, which):
    item_type, item = {
        "comment": ("contribution", doc.comment),
        "amendment": ("contribution", doc.amendment),
        "reply": ("comment", doc.reply),
    }[which]
    login_as(client, doc.ola)
    response = _flag(client, doc, item_type, item)
    assert response.status_code == 302
    assert Flag.objects.for_item(item).filter(user=doc.ola, reason="off_topic").count() == 1


def test_anonymous_people_non_members_and_the_author_cannot_flag(doc, client):
    response = _flag(client, doc, "contribution", doc.comment)
    assert response.status_code == 302 and "login" in response["Location"]
    login_as(client, member())  # a member of another study
    assert _flag(client, doc, "contribution", doc.comment).status_code == 403
    login_as(client, doc.kari)
    for item_type, item in (("contribution", doc.comment), ("comment", doc.reply)):
        assert _flag(client, doc, item_type, item).status_code == 400
    assert not Flag.objects.exists()


# --- a hidden item names nobody --------------------------------------------------------


def _hide_all(doc):
    for item in (doc.comment, doc.amendment):
        moderation.item_hide(study=doc.study, actor=doc.facilitator, item=item, reason="off_topic")


@pytest.mark.parametrize("viewer", ["visitor", "member", "facilitator"])
def test_a_hidden_passage_item_shows_neither_its_author_nor_organisation(doc, client, viewer):
    _hide_all(doc)
    if viewer != "visitor":
        login_as(client, doc.ola if viewer == "member" else doc.facilitator)
    html = _panel(client, doc)
    for pk in (doc.comment.pk, doc.amendment.pk):
        start = html.index(f'id="passage-item-{pk}"')
        head = html[start : html.find("passage-replies", start)]
        assert "Kari Nordmann" not in head and "NAV" not in head
        assert 'data-state="hidden"' in html[start - 200 : start + 400]
        assert "item-marker" in head
    assert "Which agencies?" not in html and "Citizens find help" not in html
    # The reply under the hidden comment is published and still names its author.
    assert html.count("Kari Nordmann") == 1


def test_a_facilitator_sees_a_hidden_item_as_hidden_with_the_moderation_controls(doc, client):
    _hide_all(doc)
    login_as(client, doc.facilitator)
    client.cookies["django_language"] = "en"
    html = _document(client, doc)
    assert f'id="passage-item-{doc.comment.pk}"' in html
    assert "Hidden by a facilitator" in html
    assert 'id="moderation-facilitator-template"' in html


# --- the block's comment count ---------------------------------------------------------


def _count(client, doc) -> dict:
    data = client.get(reverse("passages:counts", args=[doc.study.slug])).json()
    return data["blocks"].get(doc.blocks[1].anchor, {})


def test_a_block_s_comment_count_counts_the_replies_in_its_panel(doc, client):
    # The comment and its reply; the amendment counts apart.
    assert _count(client, doc) == {"comments": 2, "amendments": 1}
    answer = passages.passage_reply_create(
        contribution=doc.amendment, author=doc.ola, body="Agreed."
    )
    deeper = passages.passage_reply_create(
        contribution=doc.comment, author=doc.ola, body="Really all?"
    )
    deeper.parent = doc.reply
    deeper.save(update_fields=["parent"])
    assert _count(client, doc) == {"comments": 4, "amendments": 1}
    # Each step is a comment event, on which open pages refetch the counts.
    moderation.item_hide(study=doc.study, actor=doc.facilitator, item=answer, reason="off_topic")
    assert StudyEvent.objects.filter(kind="comment.state", key=f"comment-{answer.pk}").exists()
    assert _count(client, doc) == {"comments": 3, "amendments": 1}
    # A hidden comment is a marker and counts nothing; the replies the panel still
    # shows under it count.
    moderation.item_hide(
        study=doc.study, actor=doc.facilitator, item=doc.comment, reason="off_topic"
    )
    assert _count(client, doc) == {"comments": 2, "amendments": 1}
    html = _panel(client, doc)
    assert "All of them." in html and "Really all?" in html


def test_the_document_page_shows_the_count_with_replies(doc, client):
    html = _document(client, doc)
    block = html[html.index(f'id="{doc.blocks[1].anchor}"') :]
    assert re.search(r'data-count="comments">2<', block)


def test_pending_replies_do_not_count(doc, client):
    passages.passage_reply_create(contribution=doc.comment, author=doc.ola, body="Later.")
    reply = doc.comment.comments.latest("pk")
    reply.state = ItemState.PENDING
    reply.save(update_fields=["state"])
    assert _count(client, doc)["comments"] == 2


def _readable(html: str) -> int:
    """The comments a reader can read in a panel: published passage comments and replies
    (an amendment counts apart; a marker is not a comment anyone can read)."""
    items = re.findall(r'<article class="passage-(?:item|reply) item[^>]*>', html)
    return sum(
        1 for tag in items if 'data-state="published"' in tag and 'data-kind="amendment"' not in tag
    )


@pytest.fixture
def thread(doc):
    """Under the comment: a hidden reply with a published reply to it and a pending one
    (with a published reply of its own); under the amendment, which is hidden: two
    published replies."""
    moderation.item_hide(study=doc.study, actor=doc.facilitator, item=doc.reply, reason="spam")
    for body, state in (("Under the hidden reply.", ItemState.PUBLISHED), ("Waiting.", None)):
        deeper = Comment.objects.create(
            study=doc.study,
            contribution=doc.comment,
            parent=doc.reply,
            author=doc.ola,
            body=body,
            body_html=f"<p>{body}</p>",
            state=state or ItemState.PENDING,
        )
    # A published reply under a reply still waiting for approval has no place either.
    Comment.objects.create(
        study=doc.study,
        contribution=doc.comment,
        parent=deeper,
        author=doc.ola,
        body="Orphan.",
        body_html="<p>Orphan.</p>",
        state=ItemState.PUBLISHED,
    )
    for body in ("On it.", "Me too."):
        passages.passage_reply_create(contribution=doc.amendment, author=doc.ola, body=body)
    moderation.item_hide(
        study=doc.study, actor=doc.facilitator, item=doc.amendment, reason="off_topic"
    )
    return doc


@pytest.mark.parametrize("viewer", ["visitor", "non-member", "member", "author", "facilitator"])
def test_a_block_s_count_is_what_its_reader_can_read_in_the_panel(thread, client, viewer):
    doc = thread
    person = {
        "non-member": member(),
        "member": doc.ola,
        "author": doc.kari,
        "facilitator": doc.facilitator,
    }.get(viewer)
    if person is not None:
        login_as(client, person)
    html = _panel(client, doc)
    # The comment, the reply under the hidden reply, the replies under the hidden amendment.
    assert "Under the hidden reply." in html and "On it." in html and "Me too." in html
    assert "Waiting." not in html and "Orphan." not in html
    assert _readable(html) == 4
    assert _count(client, doc) == {"comments": 4, "amendments": 0}
    page = _document(client, doc)
    block = page[page.index(f'id="{doc.blocks[1].anchor}"') :]
    assert re.search(r'data-count="comments">4<', block)


def test_a_block_s_counts_take_one_query_however_many_blocks_and_items(
    thread, django_assert_num_queries
):
    doc = thread
    for block in doc.blocks:
        item = passages.passage_comment_create(
            study=doc.study, author=doc.ola, anchor=block.anchor, body="More."
        )
        passages.passage_reply_create(contribution=item, author=doc.kari, body="Yes.")
    with django_assert_num_queries(1):
        counts = passages.block_counts(study=doc.study, version=doc.version)
    assert counts[doc.blocks[1].anchor] == {"comments": 6, "amendments": 0}
    assert counts[doc.blocks[0].anchor] == {"comments": 2, "amendments": 0}
