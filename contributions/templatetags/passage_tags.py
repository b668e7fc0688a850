"""Template helpers for passages of the concept document and amendments."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from contributions import passages
from core.memory import Memory, MiB
from studies.markdown import render_markdown

register = template.Library()


@register.filter
def word_diff(amendment) -> SafeString:
    """The proposed wording against the passage it replaces, word by word, escaped."""
    old = amendment.contribution.passage.origin.source
    parts = passages.word_diff(old, amendment.wording)
    tags = {"same": "span", "removed": "del", "added": "ins"}
    return format_html_join("", "<{0}>{1}</{0}>", ((tags[op], text) for op, text in parts))


@register.filter
def credit_line(amendment) -> str:
    return passages.credit_line(amendment)


# A block's HTML is its Markdown source's alone, and a published version's blocks
# never change: rendered once per process and source (about 8 % of the document
# page's CPU when each request rendered every block).
_block_html = Memory("contributions.block_html", 4096, max_bytes=MiB // 2)


@register.filter
def block_html(block) -> SafeString:
    html = _block_html.get_or_set(block.source, lambda: render_markdown(block.source))
    return format_html("{}", SafeString(html))
