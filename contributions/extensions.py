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

from collections.abc import Callable

PLACES = ("main", "aside")  # above the contributions; beside them
_panels: dict[str, list[str]] = {place: [] for place in PLACES}
_scripts: list[str] = []
_per_class: set[str] = set()
_when: dict[str, Callable] = {}


def study_page_panel_register(
    place: str,
    template_name: str,
    *,
    scripts=(),
    per_class: bool = False,
    when: Callable | None = None,
) -> None:
    """Include ``template_name`` in the study page's ``place`` (once; in registration order).

    The template gets the page's context: study, access, request, filters.
    ``scripts`` are static paths loaded (deferred) in the page's head, where
    every script of the page stands.

    A panel is rendered for each request, unless:

    - ``per_class``: it shows the same to every viewer of a class (the same
      rights) at one study event, so it is rendered into the page's kept shell
      (contributions/page.py), where ``csrf_token`` and ``viewer_id`` stand for
      the request's own values. Such panels come first in their place.
    - ``when(access, user)`` is false: the panel has nothing to show this viewer
      and is not rendered (its template must still show nothing then: the
      concept document page renders it without asking).
    """
    if place not in PLACES:
        raise ValueError(f"unknown place {place!r}")
    if template_name not in _panels[place]:
        _panels[place].append(template_name)
    if per_class:
        _per_class.add(template_name)
    if when is not None:
        _when[template_name] = when
    _scripts.extend(path for path in scripts if path not in _scripts)


def study_page_panels() -> dict[str, list[str]]:
    """The panels' templates by place, and under "scripts" the scripts they need."""
    return {**{place: list(names) for place, names in _panels.items()}, "scripts": list(_scripts)}


def per_class_panels(place: str) -> list[str]:
    """The panels of ``place`` rendered into the page's shell, in registration order."""
    return [name for name in _panels[place] if name in _per_class]


def per_request_panels(place: str, access, user) -> list[str]:
    """The panels of ``place`` rendered for this request: not per class, shown to this viewer."""
    return [
        name
        for name in _panels[place]
        if name not in _per_class and (name not in _when or _when[name](access, user))
    ]
