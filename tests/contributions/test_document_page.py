"""The document page as one rendering per study event and viewer class
(contributions/document_page.py): a fixed number of queries however long the
document and however many items, never a hidden text served from what was
kept, the reader's language, the published version (not the draft), and each
person's own values filled in."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contributions import document_page, listing, passages
from moderation import services as moderation
from studies.services import document_version_publish
from tests.contributions.passage_setup import DOC, document_study
from tests.factories import login_as

pytestmark = pytest.mark.django_db

LONG_DOC = "# Assistant\n\n" + "".join(
    f"Paragraph {n} says something about citizens and help number {n}.\n\n" for n in range(20)
)


def _url(doc, **query) -> str:
    url = reverse("passages:document", args=[doc.study.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _get(client, doc, language: str = "en", **query):
    client.cookies["django_language"] = language
    response = client.get(_url(doc, **query))
    assert response.status_code == 200
    return response


def _page(client, doc, language: str = "en", **query) -> str:
    return unescape(_get(client, doc, language, **query).content.decode())


def _counted(client, doc) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        _get(client, doc)
    return len(queries), [q["sql"] for q in queries.captured_queries]


def _fill(doc, comments: int, amendments: int) -> None:
    for n in range(comments):
        block = doc.blocks[n % len(doc.blocks)]
        passages.passage_comment_create(
            study=doc.study, author=doc.kari, anchor=block.anchor, body=f"Comment {n}"
        )
    for n in range(amendments):
        block = doc.blocks[1 + n % (len(doc.blocks) - 1)]
        passages.amendment_create(
            study=doc.study,
            author=doc.ola,
            anchor=block.anchor,
            wording=f"New wording {n}.",
            reason="Clearer.",
        )


def test_the_page_s_queries_do_not_grow_with_blocks_or_items(settings, client):
    """Rendered (after an event) and filled (no event since): the same number of
    queries for three blocks and one item as for twenty-one blocks and 45 items."""
    settings.POSTING_RATE_LIMIT = "1000/m"
    measured = []
    for body, comments, amendments in ((DOC, 1, 0), (LONG_DOC, 40, 5)):
        doc = document_study(settings, body=body)
        _fill(doc, comments, amendments)
        login_as(client, doc.ola)
        _get(client, doc)  # this process's first look at the study
        passages.passage_comment_create(
            study=doc.study, author=doc.kari, anchor=doc.blocks[0].anchor, body="An event"
        )
        rendered, sql = _counted(client, doc)
        filled, _sql = _counted(client, doc)
        measured.append((rendered, filled))
        # Nothing of this study is gone: the gone items' query is not even made.
        # (A condition on "gone", not the column read with a passage or "NOT gone".)
        gone = re.compile(r'(?<!NOT )"contributions_passage"\."gone"(?=\)| AND | ORDER |$)')
        assert not any(gone.search(statement) for statement in sql)
        assert filled < rendered
    assert measured[0] == measured[1]


def _gone_doc(settings):
    """Kari's comment on a passage version 0.9 leaves out, and one on a passage it keeps."""
    doc = document_study(settings)
    doc.gone = passages.passage_comment_create(
        study=doc.study, author=doc.kari, anchor=doc.blocks[2].anchor, body="Which phones?"
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
    doc.study.refresh_from_db()
    return doc


def _count(html: str, anchor: str) -> int:
    section = html[html.index(f'id="{anchor}"') :]
    return int(re.search(r'data-count="comments">(\d+)<', section).group(1))


@pytest.mark.parametrize("viewer", ["visitor", "member"])
def test_a_hidden_comment_s_text_is_gone_from_the_next_page_and_counts(settings, client, viewer):
    doc = _gone_doc(settings)
    if viewer == "member":
        login_as(client, doc.ola)
    kept_anchor = doc.blocks[1].anchor
    before = _page(client, doc)
    assert "Which phones?" in before and _count(before, kept_anchor) == 1
    assert len(document_page._shells) == 1  # kept: the next page is filled from it
    counts_url = reverse("passages:counts", args=[doc.study.slug])
    assert client.get(counts_url).json()["blocks"][kept_anchor]["comments"] == 1

    for item in (doc.gone, doc.kept):
        moderation.item_hide(study=doc.study, actor=doc.facilitator, item=item, reason="off_topic")

    after = _page(client, doc)
    assert "Which phones?" not in after
    assert "Hidden by a facilitator: off-topic." in after
    assert _count(after, kept_anchor) == 0
    assert kept_anchor not in client.get(counts_url).json()["blocks"]


def test_each_language_has_its_own_page(settings, client):
    doc = document_study(settings)
    english = _page(client, doc, "en")
    norwegian = _page(client, doc, "nb")
    assert "Comments" in english and "Kommentarer" not in english
    assert "Kommentarer" in norwegian and '<html lang="nb">' in norwegian
    assert "Kommentarer" not in _page(client, doc, "en")


def test_the_page_shows_the_published_version_not_the_draft_until_a_new_one_is_published(
    settings, client
):
    doc = document_study(settings)
    assert "Citizens should find help in one place." in _page(client, doc)
    doc.study.body = DOC.replace("in one place", "in the draft only")
    doc.study.save(update_fields=["body", "updated_at"])
    drafted = _page(client, doc)
    assert "in one place" in drafted and "in the draft only" not in drafted

    doc.study.refresh_from_db()
    document_version_publish(
        study=doc.study,
        number="0.9",
        body=DOC.replace("in one place", "at one address"),
        change_summary="Reworded.",
        by=doc.coordinator,
    )
    published = _page(client, doc)
    assert "at one address" in published and "in one place" not in published
    assert "version 0.9" in published


def _attribute(html: str, name: str) -> str:
    return re.search(rf'{name}="([^"]*)"', html).group(1)


def test_people_of_one_class_each_get_their_own_values_and_panel(settings, client):
    """Kari and Ola (members alike) share the page's rendering; each gets their own id,
    CSRF token and, in the open panel (the page without JavaScript), their own controls."""
    doc = document_study(settings)
    anchor = doc.blocks[1].anchor
    passages.amendment_create(
        study=doc.study, author=doc.kari, anchor=anchor, wording="Help in one app.", reason="Why"
    )
    doc.study.refresh_from_db()
    for person, own in ((doc.kari, "Withdraw"), (doc.ola, "Support"), (doc.kari, "Withdraw")):
        client.logout()
        login_as(client, person)
        html = _page(client, doc, open=anchor)
        assert _attribute(html, "data-viewer-id") == str(person.pk)
        token = _attribute(html, 'name="csrfmiddlewaretoken" value')
        assert token and f'"X-CSRFToken": "{token}"' in html
        panel = html[html.index(f'id="panel-{anchor}"') :]
        assert f">{own}</button>" in panel
        other = "Support" if own == "Withdraw" else "Withdraw"
        assert f">{other}</button>" not in panel
        assert "to read and write comments on it" in html
    client.logout()
    visitor = _page(client, doc, open=anchor)
    assert _attribute(visitor, "data-viewer-id") == ""
    assert "Post the comment" not in visitor
    assert "to read and write comments on it" not in visitor
    assert "Sign in to comment or propose wording" in visitor


def test_a_member_posts_a_comment_without_javascript_and_reads_it_on_the_page(settings, client):
    doc = document_study(settings)
    anchor = doc.blocks[1].anchor
    login_as(client, doc.ola)
    html = _page(client, doc, open=anchor)
    assert _count(html, anchor) == 0
    url = reverse("passages:comment", args=[doc.study.slug, anchor])
    response = client.post(
        url,
        {
            "comment-body": "Posted without a script.",
            "comment-quote": "",
            "comment-version": doc.version.pk,
            "comment-idempotency_key": "6f1c4a3e-1b2d-4c5e-8f90-123456789abc",
        },
    )
    assert response.status_code == 302
    after = _page(client, doc, open=anchor)
    assert "Posted without a script." in after and _count(after, anchor) == 1


def test_a_passage_gone_in_a_new_version_is_listed_though_none_was_before(settings, client):
    """Whether anything is gone is kept per latest version: asked under 0.8 (nothing),
    asked again once 0.9 leaves a commented passage out."""
    doc = document_study(settings)
    passages.passage_comment_create(
        study=doc.study, author=doc.kari, anchor=doc.blocks[2].anchor, body="Which phones?"
    )
    assert "gone-passages" not in _page(client, doc)
    doc.study.refresh_from_db()
    document_version_publish(
        study=doc.study,
        number="0.9",
        body=DOC.replace("- It works on a phone.\n", ""),
        change_summary="Shorter.",
        by=doc.coordinator,
    )
    html = _page(client, doc)
    assert "gone-passages" in html and "Which phones?" in html


def test_forgetting_items_empties_the_kept_document_pages(settings, client):
    """Text that must leave no copy (hidden as personal data, a deleted account) goes
    with the shells that hold it, as with the study page's (listing.forget_items)."""
    doc = _gone_doc(settings)
    assert "Which phones?" in _page(client, doc)
    assert len(document_page._shells) == 1
    listing.forget_items(contribution_ids=[doc.gone.pk], study_ids=[doc.study.pk])
    assert len(document_page._shells) == 0
