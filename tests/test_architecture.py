"""The layering of docs/architecture.md holds: apps depend downward only.

Python imports are checked by import-linter's contracts in pyproject.toml
(``[tool.importlinter]``; also ``make lint``). What import-linter cannot see
is checked here: templates that include, load or link a higher app's
templates, tags or URLs, and Celery tasks that services queue by name.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
# From the bottom up, as in pyproject.toml's "apps" contract.
LAYERS = ["core", "accounts", "studies", "contributions", "moderation", "polls", "reports", "api"]
TAG_LIBRARIES = {
    "dugnad_format": "accounts",
    "study_tags": "studies",
    "moderation_tags": "moderation",
    "poll_tags": "polls",
}
URL_NAMESPACES = {"studies": "studies", "moderation": "moderation", "polls": "polls"}
URL_NAMESPACES |= {"reports": "reports", "api": "api"}


def test_the_import_contracts_hold():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_an_import_back_up_breaks_the_contract(tmp_path):
    """The control: with the two lowest apps' places swapped, the code's real
    imports (studies imports accounts) break the contract."""
    config = tmp_path / "swapped.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["accounts", "studies"]\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "swapped"\n'
        'type = "layers"\n'
        'layers = ["accounts", "studies"]\n'
    )
    assert lint_imports(config_filename=str(config), no_cache=True) == 1


def references_up(app: str, source: str) -> list[str]:
    """What a template of ``app`` names of a higher app: includes, tag libraries, URLs."""
    rank = LAYERS.index(app)
    found = []
    for other in re.findall(r'\{%\s*(?:include|extends)\s+"(\w+)/', source):
        if other in LAYERS and LAYERS.index(other) > rank:
            found.append(f"includes {other}/")
    for libraries in re.findall(r"\{%\s*load\s+([\w ]+?)\s*%\}", source):
        for library in libraries.split():
            owner = TAG_LIBRARIES.get(library)
            if owner and LAYERS.index(owner) > rank:
                found.append(f"loads {library}")
    for namespace in re.findall(r"\{%\s*url\s+['\"](\w+):", source):
        owner = URL_NAMESPACES.get(namespace)
        if owner and LAYERS.index(owner) > rank:
            found.append(f"links {namespace}:")
    return found


def test_no_template_of_a_lower_app_names_a_higher_one():
    broken = []
    for app in LAYERS:
        for path in sorted((ROOT / "templates" / app).rglob("*.html")):
            broken += [
                f"{path.relative_to(ROOT)}: {r}" for r in references_up(app, path.read_text())
            ]
    assert broken == []


@pytest.mark.parametrize(
    "source",
    [
        '{% include "reports/_headline.html" %}',
        "{% load i18n poll_tags %}",
        "<a href=\"{% url 'reports:report' study.slug %}\">",
    ],
)
def test_the_template_check_sees_each_kind_of_reference(source):
    assert references_up("studies", source) != []
    assert references_up("api", source) == []


def test_every_task_queued_by_name_is_registered():
    """Services queue tasks by name (core.tasks.task): each name must be a real task."""
    from core.tasks import task

    names = set()
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py"):
            text = path.read_text()
            names |= set(re.findall(r'\btask\("([\w.]+)"\)', text))
            names |= set(re.findall(r'^\w+_TASK = "([\w.]+)"', text, re.M))
    assert {"accounts.tasks.data_export_build", "studies.tasks.send_invitation_emails"} <= names
    for name in sorted(names):
        assert task(name).name == name
