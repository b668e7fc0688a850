"""Statistics on other apps' pages (the study header's headline)."""

from __future__ import annotations

from django import template

from reports.statistics import cached_study_statistics, headline

register = template.Library()


@register.simple_tag
def study_headline(study) -> str:
    """The study's headline sentence in the current language, or "" before anyone posted."""
    figures = cached_study_statistics(study)
    if figures.totals.participants == 0:
        return ""
    return headline(figures) + "."
