"""Every user-supplied field is inert in pages and in live fragments."""

import re
from html.parser import HTMLParser

import pytest

from accounts.models import Sector
from contributions import services
from studies.models import StudyEvent
from tests.conftest import broadcast_html, broadcast_live
from tests.contributions.factories import member, posted
from tests.factories import OrganisationFactory, StudyFactory

pytestmark = pytest.mark.django_db

CORPUS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java%0ascript:alert(1))",
    "<iframe src=//evil.example></iframe>",
    '"><script>alert(1)</script>',
    "' onmouseover='alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "![x](javascript:alert(1))",
    '<div style="background:url(javascript:alert(1))">x</div>',
]

FORBIDDEN_TAGS = {"script", "img", "svg", "iframe", "math", "style", "object", "embed", "form"}


SCHEME = re.compile(r"^[\x00-\x20]*([a-z][a-z0-9+.\-]*):")
SAFE = {"http", "https", "mailto"}


class _Elements(HTMLParser):
    def __init__(self, allow=frozenset()):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.allow = allow

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS and tag not in self.allow:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            squashed = "".join(value.split())
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            # As a browser reads a URL: tabs and newlines removed, then the scheme, if any.
            scheme = SCHEME.match(squashed)
            if name in ("href", "src", "action") and scheme and scheme.group(1) not in SAFE:
                self.problems.append(f"{tag}[{name}={value!r}]")
            if name == "style":
                self.problems.append(f"{tag}[style]")


def assert_inert(html: str, allow=frozenset()) -> None:
    """No active element, event handler or script URL survives, as a browser would parse it.

    ``allow``: tags the page itself uses (its own forms, whose actions are still checked).
    """
    parser = _Elements(allow)
    parser.feed(html)
    parser.close()
    assert not parser.problems, parser.problems


def items_html(html: str) -> str:
    """Only the part of the page that renders items (the base page has its own scripts)."""
    start = html.index('id="contributions"')
    return html[start : html.index("</main>")]


@pytest.mark.parametrize("payload", CORPUS)
def test_payload_is_inert_in_every_field_on_the_page_and_in_live_events(client, payload):
    study = StudyFactory()
    organisation = OrganisationFactory(name=payload[:200], sector=Sector.PRIVATE)
    author = member(study, organisation=organisation, display_name=payload[:80])
    contribution = services.contribution_create(
        study=study, author=author, title=payload[:200], body=payload
    )
    comment = services.comment_create(contribution=contribution, author=author, body=payload)
    services.comment_create(contribution=contribution, author=author, body=payload, parent=comment)
    services.contribution_edit(
        contribution=contribution, editor=author, title=payload[:200], body=payload + " edited"
    )
    for event in StudyEvent.objects.filter(study=study):
        assert_inert(broadcast_html(event))
        for alternative in broadcast_live(event).get("html_alt", {}).values():
            assert_inert(alternative)
    page = client.get(f"/studies/{study.slug}/").content.decode()
    assert_inert(items_html(page))


def test_markdown_links_get_safe_rel_and_raw_html_is_escaped():
    contribution = posted(
        StudyFactory(), title="Links", body="[site](https://example.org) <b>raw</b>"
    )
    assert 'rel="nofollow ugc noopener"' in contribution.body_html
    assert "<b>" not in contribution.body_html
    assert "&lt;b&gt;raw&lt;/b&gt;" in contribution.body_html


@pytest.mark.parametrize(
    "html",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVa\tScRiPt:alert(1)">x</a>',
        "<img src=x onerror=alert(1)>",
        "<svg></svg>",
        '<p style="color:red">x</p>',
    ],
)
def test_the_checker_itself_catches_active_html(html):
    with pytest.raises(AssertionError):
        assert_inert(html)


def main_html(html: str) -> str:
    """The page's own content (scripts live in the head, outside it)."""
    return html[html.index("<main") : html.index("</main>")]


@pytest.mark.parametrize("payload", CORPUS)
def test_payload_is_inert_in_study_section_and_attachment_names_on_the_page(client, payload):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contributions.models import Attachment
    from tests.factories import SectionFactory

    study = StudyFactory(title=payload[:200], summary=payload[:600])
    section = SectionFactory(study=study, order=1, title=payload[:200], prompt=payload)
    author = member(study)
    contribution = services.contribution_create(
        study=study, author=author, title="t", body="b", kind="idea", section=section
    )
    Attachment.objects.create(
        contribution=contribution,
        file=SimpleUploadedFile("x.pdf", b"%PDF-1.4\n"),
        original_name=payload[:200],
        content_type="application/pdf",
        size=9,
    )
    for params in ({}, {"section": section.pk}):
        page = client.get(f"/studies/{study.slug}/", params).content.decode()
        assert_inert(main_html(page), allow={"form"})
    for event in StudyEvent.objects.filter(study=study):
        assert_inert(broadcast_html(event))
