"""Every template draws buttons, alerts, tags and fields with Designsystemet's classes.

dugnad.css styles only the .ds-* components (and Django's plain fields by type), so a
button, message or tag written without them shows up as the browser's bare default.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
CLASS = re.compile(r'class="([^"]*)"')


def _templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        yield path.relative_to(TEMPLATES), path.read_text()


def _tags(html: str, name: str):
    return re.findall(rf"<{name}\b[^>]*>", html)


def _classes(tag: str) -> set[str]:
    found = CLASS.search(tag)
    return set(found.group(1).split()) if found else set()


def test_every_button_is_a_designsystemet_button():
    bare = [
        f"{path}: {tag}"
        for path, html in _templates()
        for tag in _tags(html, "button")
        if not _classes(tag) & {"ds-button", "link-button"}
    ]
    assert bare == []


def test_messages_are_alerts_and_badges_are_tags():
    wrong = []
    for path, html in _templates():
        for tag in re.findall(r"<[a-z]+\b[^>]*>", html):
            classes = _classes(tag)
            if classes & {"message", "button"} - {"link-button"} and not classes & {
                "ds-alert",
                "ds-button",
            }:
                wrong.append(f"{path}: {tag}")
            if "badge" in classes and "ds-tag" not in classes:
                wrong.append(f"{path}: {tag}")
            if "card" in classes and "ds-card" not in classes:
                wrong.append(f"{path}: {tag}")
    assert wrong == []


def test_every_text_field_says_its_type():
    """An <input> without a type is drawn as the browser's default, not as a field."""
    untyped = [
        f"{path}: {tag}"
        for path, html in _templates()
        for tag in _tags(html, "input")
        if "type=" not in tag
    ]
    assert untyped == []


def test_the_check_sees_a_bare_button():
    assert not _classes('<button type="submit" class="secondary">') & {"ds-button"}
