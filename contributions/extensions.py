"""What the apps above contributions add to the study page, registered in their ready().

The study page (``contributions/study_detail.html``) is contributions' own;
moderation puts its tools beside the list and polls put the study's polls
above it. Each registers the template of its panel, so contributions imports
neither and its templates name neither. The document page
(``contributions/document.html``) includes the "aside" panels too: its
passage panels list comments and amendments that take the same per-item
controls.
"""

from __future__ import annotations

PLACES = ("main", "aside")  # above the contributions; beside them
_panels: dict[str, list[str]] = {place: [] for place in PLACES}
_scripts: list[str] = []


def study_page_panel_register(place: str, template_name: str, *, scripts=()) -> None:
    """Include ``template_name`` in the study page's ``place`` (once; in registration order).

    The template gets the page's context: study, access, request, filters.
    ``scripts`` are static paths loaded (deferred) in the page's head, where
    every script of the page stands.
    """
    if place not in PLACES:
        raise ValueError(f"unknown place {place!r}")
    if template_name not in _panels[place]:
        _panels[place].append(template_name)
    _scripts.extend(path for path in scripts if path not in _scripts)


def study_page_panels() -> dict[str, list[str]]:
    """The panels' templates by place, and under "scripts" the scripts they need."""
    return {**{place: list(names) for place, names in _panels.items()}, "scripts": list(_scripts)}
