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


PLACES = ("lead", "closed", "card", "staff")


@dataclass(frozen=True)
class StudyLink:
    """A link to ``url_name`` (with the study's slug) on studies' pages.

    ``place`` is where it shows: "lead" (the study's header, under the summary),
    "closed" (the header's sentence that the study closed), "card" (after
    "Closed …" on a closed study's card in the lists) or "staff" (the links of
    the people who run the study, for the ``roles`` given). ``closed_only``
    keeps a link to closed and archived studies; ``order`` places it among
    the others of its place.
    """

    key: str
    label: str
    url_name: str
    place: str = "lead"
    roles: tuple[str, ...] = ("coordinator", "facilitator")
    closed_only: bool = False
    order: int = 50

    def __post_init__(self) -> None:
        if self.place not in PLACES:
            raise ValueError(f"unknown place {self.place!r}")


_links: dict[str, StudyLink] = {}


def study_link_register(link: StudyLink) -> None:
    """Add ``link`` to studies' pages; a key registered again replaces its link."""
    _links[link.key] = link


def study_links(study, *, place: str, role: str = "") -> list[dict]:
    """The links of ``place`` for ``study`` (and, for "staff", the viewer's ``role``)."""
    closed = study.status in ("closed", "archived")
    return [
        {"key": link.key, "label": link.label, "url": reverse(link.url_name, args=[study.slug])}
        for link in sorted(_links.values(), key=lambda link: link.order)
        if link.place == place
        and (closed or not link.closed_only)
        and (place != "staff" or role in link.roles)
    ]
