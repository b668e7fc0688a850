"""Every user-facing string has a bokmål translation.

The strings are found the way `makemessages` finds them, without GNU gettext
(which a new machine does not have): templates go through Django's own
``templatize`` (the step makemessages uses before xgettext), and the Python it
produces, like the project's own Python files, is searched with ``ast`` for
gettext calls. Each msgid must have a non-empty bokmål msgstr in one of the
project's catalogues (locale/ and every app's locale/) or in the bokmål
catalogues of Django and allauth, which render those apps' own pages.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.utils.translation.template import templatize

BASE = Path(settings.BASE_DIR).resolve()
SKIP_DIRS = {
    ".venv",
    ".git",
    "node_modules",
    "staticfiles",
    "static",
    "media",
    "migrations",
    "tests",
    "bench",
    "docs",
    "platform",
    "locale",
    "__pycache__",
}
TEMPLATE_SUFFIXES = {".html", ".txt"}

# name -> (index of context argument or None, index of msgid, index of plural or None)
GETTEXT_FUNCTIONS = {
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "_": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
CALL_START = re.compile(r"\b(" + "|".join(GETTEXT_FUNCTIONS) + r")\(")


@dataclass(frozen=True)
class Message:
    msgid: str
    context: str | None
    plural: str | None
    where: str

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)


def _string(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _message_from_call(call: ast.Call, where: str) -> Message | None:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name not in GETTEXT_FUNCTIONS:
        return None
    context_at, msgid_at, plural_at = GETTEXT_FUNCTIONS[name]
    args = call.args
    if len(args) <= msgid_at:
        return None
    msgid = _string(args[msgid_at])
    if not msgid:  # a variable or an empty string: nothing to translate here
        return None
    context = _string(args[context_at]) if context_at is not None else None
    plural = _string(args[plural_at]) if plural_at is not None and len(args) > plural_at else None
    return Message(msgid=msgid, context=context, plural=plural, where=where)


def messages_in_python(source: str, where: str) -> list[Message]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            message = _message_from_call(node, f"{where}:{node.lineno}")
            if message:
                found.append(message)
    return found


def messages_in_template(source: str, where: str) -> list[Message]:
    """The msgids makemessages would extract from one template."""
    code = templatize(source, origin=where)
    found = []
    for match in CALL_START.finditer(code):
        # The call ends at one of the following ")": the first that parses.
        end = match.end()
        while (end := code.find(")", end)) != -1:
            end += 1
            try:
                tree = ast.parse(code[match.start() : end].strip(), mode="eval")
            except SyntaxError:
                continue
            if isinstance(tree.body, ast.Call):
                line = code.count("\n", 0, match.start()) + 1
                message = _message_from_call(tree.body, f"{where}:{line}")
                if message:
                    found.append(message)
            break
    return found


def _project_files() -> list[Path]:
    files = []
    for path in BASE.rglob("*"):
        relative = path.relative_to(BASE)
        if any(part in SKIP_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        if path.is_file():
            files.append(path)
    return sorted(files)


def project_messages() -> list[Message]:
    messages = []
    for path in _project_files():
        where = str(path.relative_to(BASE))
        in_templates = "templates" in path.relative_to(BASE).parts
        if path.suffix == ".py":
            messages += messages_in_python(path.read_text(encoding="utf-8"), where)
        elif in_templates and path.suffix in TEMPLATE_SUFFIXES:
            messages += messages_in_template(path.read_text(encoding="utf-8"), where)
    return messages


def _catalogue_files() -> list[Path]:
    """The project's bokmål catalogues, then Django's and allauth's own."""
    dirs = [Path(p) for p in settings.LOCALE_PATHS]
    dirs += [Path(app.path) / "locale" for app in apps.get_app_configs()]
    import allauth
    import django

    dirs += [Path(django.__file__).parent / "conf" / "locale"]
    dirs += [Path(allauth.__file__).parent / "locale"]
    files = []
    for directory in dirs:
        for name in ("django.po", "django.mo"):
            path = directory / "nb" / "LC_MESSAGES" / name
            if path.exists():
                files.append(path)
                break
    return files


def translated_keys() -> set[tuple[str | None, str]]:
    keys = set()
    for path in _catalogue_files():
        catalogue = polib.pofile(str(path)) if path.suffix == ".po" else polib.mofile(str(path))
        for entry in catalogue:
            if entry.obsolete or "fuzzy" in entry.flags:
                continue
            done = all(entry.msgstr_plural.values()) if entry.msgid_plural else bool(entry.msgstr)
            if done:
                keys.add((entry.msgctxt, entry.msgid))
    return keys


def test_the_extractor_finds_strings_in_python_the_way_makemessages_does():
    source = (
        "from django.utils.translation import gettext_lazy as _, ngettext, pgettext\n"
        "a = _('Plain')\n"
        "b = ngettext('%(n)d item', '%(n)d items', n)\n"
        "c = pgettext('verb', 'Flag')\n"
        "d = _(variable)\n"
    )
    found = {(m.context, m.msgid, m.plural) for m in messages_in_python(source, "x.py")}
    assert found == {
        (None, "Plain", None),
        (None, "%(n)d item", "%(n)d items"),
        ("verb", "Flag", None),
    }


def test_the_extractor_finds_strings_in_templates_the_way_makemessages_does():
    source = (
        "{% load i18n %}<a title=\"{% translate 'Account settings' %}\">"
        '{% trans "It\'s (here)" %}</a>'
        '{% translate "May" context "month" %}'
        "{% blocktranslate with name=user.name %}Hello {{ name }}, 100%{% endblocktranslate %}"
        "{% blocktranslate count counter=n %}{{ counter }} item{% plural %}"
        "{{ counter }} items{% endblocktranslate %}"
        "{% blocktranslate trimmed %}\n  Two\n  lines\n{% endblocktranslate %}"
    )
    found = {(m.context, m.msgid) for m in messages_in_template(source, "x.html")}
    assert found == {
        (None, "Account settings"),
        (None, "It's (here)"),
        ("month", "May"),
        (None, "Hello %(name)s, 100%%"),
        (None, "%(counter)s item"),
        (None, "Two lines"),
    }


def test_the_project_has_user_facing_strings_to_check():
    where = {m.where.split(":")[0] for m in project_messages()}
    assert "templates/base.html" in where
    assert "accounts/models.py" in where


def test_every_user_facing_string_has_a_bokmal_translation():
    translated = translated_keys()
    missing: dict[tuple[str | None, str], list[str]] = {}
    for message in project_messages():
        if message.key not in translated:
            missing.setdefault(message.key, []).append(message.where)
    if missing:
        lines = [
            f"{wheres[0]}{f' (+{len(wheres) - 1})' if len(wheres) > 1 else ''}: "
            f"{('[' + context + '] ') if context else ''}{msgid!r}"
            for (context, msgid), wheres in sorted(missing.items(), key=lambda kv: kv[1][0])
        ]
        pytest.fail(
            f"{len(missing)} string(s) have no bokmål translation (add them to the app's "
            "locale/nb/LC_MESSAGES/django.po):\n" + "\n".join(lines)
        )


def test_every_project_catalogue_declares_utf8_and_plural_forms():
    for path in _catalogue_files():
        if not path.resolve().is_relative_to(BASE) or path.suffix != ".po":
            continue
        catalogue = polib.pofile(str(path))
        assert "charset=UTF-8" in catalogue.metadata.get("Content-Type", ""), path
        assert catalogue.metadata.get("Plural-Forms", "").startswith("nplurals=2"), path
