"""Markdown to safe HTML: rendered with markdown-it, then cleaned by nh3.

Raw HTML in the source is not rendered, images are not allowed, and links get
rel="nofollow ugc noopener". Whatever markdown-it emits, the nh3 allowlist is
the last word on what reaches a page.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
# Headings inside a contribution start at h2; the page owns h1.
_md.disable("image")


def _demote_headings(renderer, tokens, idx, options, env):
    token = tokens[idx]
    level = min(int(token.tag[1]) + 1, 6)
    token.tag = f"h{level}"
    return renderer.renderToken(tokens, idx, options, env)


_md.add_render_rule("heading_open", _demote_headings)
_md.add_render_rule("heading_close", _demote_headings)


def render_markdown(text: str) -> str:
    """Safe HTML for a piece of user Markdown."""
    html = _md.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener",
        strip_comments=True,
    )
