"""The public (aggregate) statistics of a study, as the API and open data show them.

Every figure comes from reports.statistics; this module only chooses what is
safe to publish: per-organisation participant counts below the study's
small-count threshold are withheld ("<k").
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from reports.statistics import headline, small_count, study_statistics
from studies.models import Study

CACHE_SECONDS = 60


def public_statistics(*, study: Study) -> dict[str, Any]:
    """The aggregate figures of a public study, cached for a minute."""
    key = f"api:statistics:{study.pk}:{study.updated_at.timestamp()}"
    return cache.get_or_set(key, lambda: _compute(study), CACHE_SECONDS)


def _compute(study: Study) -> dict[str, Any]:
    figures = study_statistics(study=study)
    threshold = figures.small_count_threshold
    data = figures.to_dict()
    organisations = []
    for row in figures.organisations:
        shown = small_count(row.participants, threshold)
        organisations.append(
            {
                "name": row.name,
                "org_number": row.org_number or "",
                "sector": row.sector,
                "participants": row.participants if shown == str(row.participants) else None,
                "participants_display": shown,
                "contributions": row.contributions,
                "comments": row.comments,
            }
        )
    return {
        "study": study.slug,
        "definitions_version": figures.definitions_version,
        "generated_at": figures.generated_at,
        "small_count_threshold": threshold,
        "headline": {"nb": headline(figures, "nb"), "en": headline(figures, "en")},
        "totals": data["totals"],
        "sectors": data["sectors"],
        "organisations": organisations,
        "days": data["days"],
    }
