"""The public (aggregate) statistics of a study, as the API and open data show them.

Every figure comes from reports.statistics and what may be shown of it from
reports.disclosure (complementary suppression: no withheld cell can be worked
out from the others). A closed study with a frozen participation report gives
the report's figures, with ``frozen_at``: one figure per closed study.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from reports.disclosure import public_tables
from reports.services import published_figures
from studies.models import Study

CACHE_SECONDS = 60


def public_statistics(*, study: Study) -> dict[str, Any]:
    """The aggregate figures of a public study, cached until its next event (or a minute)."""
    key = (
        f"api:statistics:{study.pk}:{study.last_event_seq}:{study.updated_at.timestamp()}:"
        f"{study.status}"
    )
    return cache.get_or_set(key, lambda: _compute(study), CACHE_SECONDS)


def _compute(study: Study) -> dict[str, Any]:
    figures, frozen_at = published_figures(study=study)
    data = public_tables(figures)
    data["study"] = study.slug
    data["frozen_at"] = frozen_at
    return data
