"""Blocks of a published version and the anchors that follow their text."""

from __future__ import annotations

from studies.blocks import best_match, match_anchors, parse_blocks, version_blocks
from studies.models import DocumentBlock, Role
from studies.services import document_version_publish
from tests.factories import MembershipFactory, StudyFactory

DOC = """# Digital assistant

Citizens should find help in one place, whatever agency holds the answer.

The assistant must explain decisions in plain language and name the law behind them.

- It works on a phone.
- It speaks Norwegian and English.

| Need | Who |
|---|---|
| Help | NAV |
"""


def test_every_heading_paragraph_list_item_and_table_is_a_block():
    blocks = parse_blocks(DOC)
    assert [b.kind for b in blocks] == [
        "heading",
        "paragraph",
        "paragraph",
        "item",
        "item",
        "table",
    ]
    assert blocks[0].text == "Digital assistant"
    assert blocks[3].source == "- It works on a phone."
    assert "NAV" in blocks[5].text


def test_an_unchanged_document_keeps_every_anchor():
    old = [("p-1", b.text) for b in parse_blocks(DOC)[:1]] + [
        (f"p-{i}", b.text) for i, b in enumerate(parse_blocks(DOC)[1:], start=2)
    ]
    anchors = match_anchors(parse_blocks(DOC), old)
    assert anchors == [anchor for anchor, _text in old]


def test_a_moved_and_a_reworded_paragraph_keep_their_anchors_and_a_new_one_gets_its_own():
    old_blocks = parse_blocks(DOC)
    old = [(f"p-{i}", b.text) for i, b in enumerate(old_blocks)]
    new_doc = """# Digital assistant

The assistant must explain every decision in plain language and name the law behind it.

A brand new paragraph about privacy by design and data minimisation.

Citizens should find help in one place, whatever agency holds the answer.
"""
    anchors = match_anchors(parse_blocks(new_doc), old)
    assert anchors[0] == "p-0"
    assert anchors[1] == "p-2"  # reworded and moved up
    assert anchors[3] == "p-1"  # moved down, same words
    assert anchors[2] not in {a for a, _t in old}


def _first_version():
    """Version 0.8 of DOC, published by a study's coordinator, and a function that
    publishes version 0.9 of the same study: ``publish_next(body, change_summary)``."""
    study = StudyFactory()
    coordinator = MembershipFactory(study=study, role=Role.COORDINATOR).user

    def publish(number, body, change_summary):
        return document_version_publish(
            study=study, number=number, body=body, change_summary=change_summary, by=coordinator
        )

    return publish("0.8", DOC, "First."), lambda body, summary: publish("0.9", body, summary)


def test_a_pinned_comment_follows_the_half_of_a_split_paragraph_that_holds_its_quote(db):
    v1, publish_next = _first_version()
    old = version_blocks(v1)[2]
    split = DOC.replace("plain language and name", "plain language.\n\nEvery decision must name")
    v2 = publish_next(split, "Split.")
    new_blocks = version_blocks(v2)
    first_half = best_match(
        text=old.text, quote="explain decisions", blocks=new_blocks, anchor=old.anchor
    )
    second_half = best_match(
        text=old.text, quote="the law behind", blocks=new_blocks, anchor=old.anchor
    )
    assert first_half.text.startswith("The assistant must explain decisions")
    assert second_half.text.startswith("Every decision must name")
    # Without a quote it goes to the part that kept the anchor or resembles it most.
    assert best_match(text=old.text, quote="", blocks=new_blocks, anchor=old.anchor) is not None


def test_a_deleted_paragraph_has_no_match_in_the_next_version(db):
    v1, publish_next = _first_version()
    gone = version_blocks(v1)[1]
    body = DOC.replace(
        "Citizens should find help in one place, whatever agency holds the answer.\n\n", ""
    )
    v2 = publish_next(body, "Cut.")
    blocks = version_blocks(v2)
    assert best_match(text=gone.text, quote="", blocks=blocks, anchor=gone.anchor) is None
    assert gone.anchor not in {b.anchor for b in blocks}


def test_publishing_stores_the_blocks_of_the_version_with_anchors_carried_over(db):
    v1, publish_next = _first_version()
    v2 = publish_next(
        DOC.replace("# Digital assistant\n\n", "# Digital assistant\n\nAn introduction.\n\n"),
        "Intro.",
    )
    first = list(DocumentBlock.objects.filter(version=v1).values_list("anchor", flat=True))
    second = list(DocumentBlock.objects.filter(version=v2).values_list("anchor", flat=True))
    assert len(second) == len(first) + 1
    assert second[0] == first[0] and second[2:] == first[1:]
    assert second[1] not in first


def test_blocks_of_a_version_made_before_blocks_existed_are_made_once_when_asked(db):
    from tests.studies.factories import DocumentVersionFactory

    version = DocumentVersionFactory(body=DOC)
    assert not version.blocks.exists()
    made = version_blocks(version)
    assert [b.anchor for b in version_blocks(version)] == [b.anchor for b in made]
    assert DocumentBlock.objects.filter(version=version).count() == len(parse_blocks(DOC))
