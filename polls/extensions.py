"""Where a survey's results are shown: reports registers its page in ready().

Results, their charts and exports are reports' work, above polls; polls'
pages link to them through the URL name registered here, so polls imports
nothing of reports and its templates name none of its URLs.
"""

from __future__ import annotations

_results: list[str] = []


def survey_results_register(url_name: str) -> None:
    """The URL name of a survey's results page (taking ``slug`` and ``pk``)."""
    _results[:] = [url_name]


def survey_results_url_name() -> str:
    """The registered URL name, or "" (no link) while no app shows results."""
    return _results[0] if _results else ""
