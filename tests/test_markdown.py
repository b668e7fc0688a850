"""Markdown is rendered, then cleaned through an explicit allowlist."""

from html.parser import HTMLParser

import pytest

from studies.markdown import ALLOWED_TAGS, render_markdown


class ElementCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    collector = ElementCollector()
    collector.feed(html)
    return collector.elements


def test_markdown_renders_emphasis_lists_and_links_with_safe_rel():
    html = render_markdown("**bold** and [a link](https://example.org)\n\n- one\n- two")
    assert "<strong>bold</strong>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.org"' in html
    assert 'rel="nofollow ugc noopener"' in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "![image](https://example.org/x.png)",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](&#106;avascript:alert(1))",
        '<svg onload="alert(1)"></svg>',
        '<a href="https://example.org" onclick="alert(1)">x</a>',
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<iframe src="https://example.org"></iframe>',
    ],
)
def test_dangerous_markup_comes_out_inert(source):
    for tag, attrs in elements(render_markdown(source)):
        assert tag in ALLOWED_TAGS
        assert not any(name.startswith("on") for name in attrs)
        href = (attrs.get("href") or "").strip().lower()
        assert not href.startswith(("javascript:", "data:", "vbscript:"))


def test_headings_start_below_the_page_heading():
    assert render_markdown("# Title").startswith("<h2>")
