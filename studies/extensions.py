"""What the apps above studies add to its pages, registered in their AppConfig.ready().

Studies is below contributions and reports and imports neither. The pages it
owns still show what those apps hold: the contributions a document version
took up, and links from the study's header to the study's statistics and
report. Each higher app fills these slots when Django starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class TakenUp:
    """How a document version's page reads the items it took up (contributions fills it)."""

    choices: Callable  # (study) -> [(id, title)] of items a new version may name
    of_version: Callable  # (version) -> the items shown as taken up, newest first


_taken_up: list[TakenUp] = []


def taken_up_register(provider: TakenUp) -> None:
    _taken_up[:] = [provider]


def taken_up_choices(study) -> list[tuple[int, str]]:
    """What a new version of ``study`` may take up; nothing while no app provides it."""
    return _taken_up[0].choices(study) if _taken_up else []


def taken_up_of(version) -> Iterable:
    return _taken_up[0].of_version(version) if _taken_up else []


@dataclass(frozen=True)
class HeaderLink:
    """A link in the study's header to ``url_name`` (with the study's slug).

    ``place`` is "lead" (under the summary, on every study) or "closed" (after
    the sentence that says the study closed, on closed and archived studies).
    """

    key: str
    label: str
    url_name: str
    place: str = "lead"


_header_links: dict[str, HeaderLink] = {}


def header_link_register(link: HeaderLink) -> None:
    """Add ``link`` to every study's header; a key registered again replaces its link."""
    _header_links[link.key] = link


def header_links(study) -> dict[str, list[dict]]:
    """The header's links for ``study`` by place, in the order they were registered."""
    links: dict[str, list[dict]] = {"lead": [], "closed": []}
    for link in _header_links.values():
        links[link.place].append(
            {"label": link.label, "url": reverse(link.url_name, args=[study.slug])}
        )
    return links
