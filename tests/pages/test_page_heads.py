"""Every page has its own title ("Page – Study – Dugnad"), a meta description and the
active language on <html>, for every role.

The pages are the URL patterns the authorisation matrix walks (tests/security), opened
by each role against the same world; every full HTML page that answers 200 is checked.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.conf import settings

from tests.security.test_authorisation import PATTERNS, _client_for, _url
from tests.security.world import ROLES, build_world

pytestmark = pytest.mark.django_db

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')
LANG = re.compile(r'<html lang="([^"]*)">')
# Not Dugnad's pages: the Django admin and the API's machine answers.
SKIPPED = ("admin:", "api:", "api/")


def _pages(role: str, language: str) -> dict[str, tuple[str, str, str, str]]:
    """Each page's key -> (title, description, lang, template), as ``role`` sees it."""
    world = build_world()
    client = _client_for(world, role)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = {}
    for key in sorted(PATTERNS):
        if key.startswith(SKIPPED) or key.startswith("accounts/social/"):
            continue
        response = client.get(_url(key, world))
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        if "<html" not in html:
            continue  # an htmx fragment, not a page
        title = TITLE.search(html)
        description = DESCRIPTION.search(html)
        lang = LANG.search(html)
        pages[key] = (
            unescape(title.group(1)) if title else "",
            unescape(description.group(1)) if description else "",
            lang.group(1) if lang else "",
            response.templates[0].name,
        )
    return pages


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("language", ["nb", "en"])
def test_every_page_has_its_own_title_a_description_and_its_language(role, language):
    pages = _pages(role, language)
    assert len(pages) >= 5, pages
    problems = []
    for key, (title, description, lang, _template) in pages.items():
        if not title.endswith(" – Dugnad") or title == " – Dugnad":
            problems.append(f"{key}: title {title!r}")
        if "  " in title or "·" in title:
            problems.append(f"{key}: title {title!r} is not 'Page – Study – Dugnad'")
        if len(description) < 10:
            problems.append(f"{key}: description {description!r}")
        if lang != language:
            problems.append(f"{key}: lang {lang!r}, not {language!r}")
    # Two addresses may show the same page (one template): other pages never share a title.
    by_title: dict[str, dict[str, str]] = {}
    for key, (title, _description, _lang, template) in pages.items():
        by_title.setdefault(title, {})[template] = key
    problems += [
        f"{sorted(keys.values())} share the title {title!r}"
        for title, keys in by_title.items()
        if len(keys) > 1
    ]
    assert not problems, "\n".join(problems)


def test_the_study_page_describes_itself_with_the_studys_summary(client):
    world = build_world(summary="A concept for cleaner harbours, open for comments.")
    html = client.get(_url("study_detail", world)).content.decode()
    assert (
        '<meta name="description" content="A concept for cleaner harbours, open for comments.">'
        in html
    )
    assert f"<title>{world.study.title} – Dugnad</title>" in html


@pytest.mark.parametrize(
    ("name", "bokmal"),
    [
        ("home", "Konseptstudier med åpen deltakelse: les en studie, og delta med innspill"),
        ("account_login", "Logg inn på Dugnad, eller opprett en konto"),
        ("api:docs", "Dugnads åpne data-API"),
    ],
)
def test_pages_without_a_study_describe_themselves_in_a_sentence_of_their_own(client, name, bokmal):
    from django.urls import reverse

    html = client.get(reverse(name)).content.decode()
    description = unescape(DESCRIPTION.search(html).group(1))
    assert description.startswith(bokmal)
