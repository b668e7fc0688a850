"""The blocks of a published concept document, and anchors that stay with their text.

Every heading, paragraph, list item, table, quotation and code block of a
published version is a ``DocumentBlock`` with an anchor. A block of a new
version takes the anchor of the block of the previous version whose text it
resembles most (``difflib`` ratio, not position), so a paragraph that moved
or was reworded keeps its address and its comments; a new paragraph gets a
new anchor. Items pinned to a block are carried the same way
(``best_match``): a split paragraph's comment follows the part that holds its
quote, or else the most similar part; a deleted paragraph's comments have no
block in the new version.
"""

from __future__ import annotations

import difflib
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from markdown_it import MarkdownIt

from studies.models import DocumentBlock, DocumentVersion

# A block of the new version is "the same block" when its text is at least
# this similar to the old one (difflib ratio, 0..1).
SAME_BLOCK = 0.6
# A pinned item follows a block at least this similar (a split half of a
# paragraph is about 0.67 similar to the whole).
FOLLOW_BLOCK = 0.5

_parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])

_BLOCK_KINDS = {
    "heading_open": "heading",
    "paragraph_open": "paragraph",
    "table_open": "table",
    "blockquote_open": "quote",
    "fence": "code",
    "code_block": "code",
}


@dataclass(frozen=True)
class ParsedBlock:
    kind: str
    source: str
    text: str


def _plain(tokens, start: int, end: int) -> str:
    words = []
    for token in tokens[start:end]:
        if token.type == "inline" or token.type in ("fence", "code_block"):
            words.append(token.content)
    return " ".join(" ".join(words).split())


def _closing(tokens, start: int) -> int:
    """The index just past the token that closes ``tokens[start]``."""
    if tokens[start].nesting != 1:
        return start + 1
    depth = 0
    for index in range(start, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index + 1
    return len(tokens)


def parse_blocks(markdown: str) -> list[ParsedBlock]:
    """The top-level blocks of a Markdown document, list items one by one, in order."""
    lines = (markdown or "").splitlines()
    tokens = _parser.parse(markdown or "")
    blocks: list[ParsedBlock] = []

    def source_of(token) -> str:
        start, end = token.map
        return "\n".join(lines[start:end]).strip("\n")

    index = 0
    while index < len(tokens):
        token = tokens[index]
        end = _closing(tokens, index)
        if token.level == 0 and token.type in ("bullet_list_open", "ordered_list_open"):
            inner = index + 1
            while inner < end - 1:
                item = tokens[inner]
                item_end = _closing(tokens, inner)
                if item.type == "list_item_open" and item.map:
                    text = _plain(tokens, inner, item_end)
                    if text:
                        blocks.append(ParsedBlock("item", source_of(item), text))
                inner = item_end
        elif token.level == 0 and token.type in _BLOCK_KINDS and token.map:
            text = _plain(tokens, index, end)
            if text:
                blocks.append(ParsedBlock(_BLOCK_KINDS[token.type], source_of(token), text))
        index = end
    return blocks


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0..1, word by word (so long paragraphs compare fast)."""
    if a == b:
        return 1.0
    matcher = difflib.SequenceMatcher(a=a.split(), b=b.split(), autojunk=False)
    if matcher.real_quick_ratio() < FOLLOW_BLOCK or matcher.quick_ratio() < FOLLOW_BLOCK:
        return 0.0
    return matcher.ratio()


def _new_anchor(taken: set[str]) -> str:
    while True:
        anchor = f"p-{secrets.token_hex(4)}"
        if anchor not in taken:
            taken.add(anchor)
            return anchor


def match_anchors(new: list[ParsedBlock], old: list[tuple[str, str]]) -> list[str]:
    """An anchor for each new block: an old block's (anchor, text) when alike, else a new one.

    Identical texts pair first, then the most similar pairs, each old anchor
    used at most once.
    """
    anchors: list[str | None] = [None] * len(new)
    free = dict(old)  # anchor -> text
    by_text: dict[str, list[str]] = {}
    for anchor, text in old:
        by_text.setdefault(text, []).append(anchor)
    for i, block in enumerate(new):
        same = by_text.get(block.text)
        while same:
            anchor = same.pop(0)
            if anchor in free:
                anchors[i] = anchor
                del free[anchor]
                break
    pairs = []
    for i, block in enumerate(new):
        if anchors[i] is not None:
            continue
        for anchor, text in free.items():
            score = similarity(block.text, text)
            if score >= SAME_BLOCK:
                pairs.append((score, -i, anchor))
    for _score, negative_i, anchor in sorted(pairs, reverse=True):
        i = -negative_i
        if anchors[i] is None and anchor in free:
            anchors[i] = anchor
            del free[anchor]
    taken = {a for a in anchors if a} | {anchor for anchor, _text in old}
    return [a or _new_anchor(taken) for a in anchors]


def previous_version(version: DocumentVersion) -> DocumentVersion | None:
    return (
        DocumentVersion.objects.filter(study_id=version.study_id)
        .filter(published_at__lte=version.published_at)
        .exclude(pk=version.pk)
        .exclude(published_at=version.published_at, id__gt=version.pk)
        .order_by("-published_at", "-id")
        .first()
    )


def latest_version(study) -> DocumentVersion | None:
    return DocumentVersion.objects.filter(study=study).order_by("-published_at", "-id").first()


def version_blocks(version: DocumentVersion) -> list[DocumentBlock]:
    """The blocks of a published version, made (once) when first asked for.

    Versions published before blocks existed get theirs here, with anchors
    matched against the previous version's.
    """
    blocks = list(version.blocks.order_by("position"))
    if blocks:
        return blocks
    previous = previous_version(version)
    old = []
    if previous is not None:
        old = [(b.anchor, b.text) for b in version_blocks(previous)]
    parsed = parse_blocks(version.body)
    anchors = match_anchors(parsed, old)
    rows = [
        DocumentBlock(
            version=version,
            position=position,
            kind=block.kind,
            anchor=anchor,
            source=block.source,
            text=block.text,
        )
        for position, (block, anchor) in enumerate(zip(parsed, anchors, strict=True))
    ]
    try:
        with transaction.atomic():
            DocumentBlock.objects.bulk_create(rows)
    except IntegrityError:
        pass  # made by a concurrent request; read theirs
    return list(version.blocks.order_by("position"))


def best_match(
    *, text: str, quote: str, blocks: list[DocumentBlock], anchor: str
) -> DocumentBlock | None:
    """Where an item pinned to a block of ``text`` (and ``quote``, if any) belongs now.

    The block holding the quoted words, preferring the one that kept the
    anchor; else the block that kept the anchor if still alike enough; else
    the most similar block; None when nothing is alike (the passage is gone).
    """
    quote = " ".join((quote or "").split())
    if quote:
        holding = [b for b in blocks if quote in b.text]
        if holding:
            holding.sort(key=lambda b: b.anchor != anchor)
            return holding[0]
    best, best_score = None, 0.0
    for block in blocks:
        score = similarity(text, block.text)
        if block.anchor == anchor:
            score += 0.01  # a tie goes to the block that kept the address
        if score > best_score:
            best, best_score = block, score
    if best is not None and best_score >= FOLLOW_BLOCK:
        return best
    return None
