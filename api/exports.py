"""Export tiers read through a personal token: adapters over the reports app."""

from __future__ import annotations

from typing import Any

from api.statistics import _compute
from reports.statistics import study_participant_rows
from studies.models import Study


def aggregate_export(*, study: Study, user) -> dict[str, Any]:
    data = _compute(study)
    return {
        "study": study.slug,
        "tier": "aggregate",
        "definitions_version": data["definitions_version"],
        "generated_at": data["generated_at"],
        "data": data,
    }


def pseudonymous_export(*, study: Study, user) -> dict[str, Any]:
    rows = study_participant_rows(study=study)
    return {
        "study": study.slug,
        "tier": "pseudonymous",
        "definitions_version": 1,
        "generated_at": "",
        "data": {"rows": [row.__dict__ for row in rows]},
    }


EXPORT_TIERS = {"aggregate": aggregate_export, "pseudonymous": pseudonymous_export}
