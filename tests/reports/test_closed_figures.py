# ruff: noqa: F811  (the fixtures come from test_exports_helpers; tests name them as arguments)
"""One figure per closed study: every surface gives the frozen report's figures.

After a spam removal that follows the close, the live recount differs by one
contribution; the statistics page, the API, the open-data bundle, the token
export, the coordinator's export and the report all keep the frozen figure
and say when it was frozen.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.exports import study_export
from contributions.models import Contribution
from moderation.services import item_hide
from reports.models import ParticipationReport
from reports.services import export_build, export_request, report_statistics
from reports.statistics import study_statistics
from studies.models import StudyStatus
from studies.services import study_set_status
from tests.reports.test_exports_helpers import (  # noqa: F401 (fixtures)
    _english_and_eager,
    world,
)


@pytest.fixture
def closed(world):
    study_set_status(study=world.study, status=StudyStatus.CLOSED, by=world.coordinator)
    report = ParticipationReport.objects.get(study=world.study)
    bob_item = Contribution.objects.get(study=world.study, author=world.people["bob"])
    item_hide(study=world.study, actor=world.facilitator, item=bob_item, reason="spam")
    world.study.refresh_from_db()
    return world, report


def test_the_live_recount_differs_from_the_frozen_figures(closed):
    world, report = closed
    frozen = report_statistics(report)
    assert frozen.totals.contributions == 6  # hand-computed in test_exports_roundtrip
    assert study_statistics(study=world.study).totals.contributions == 5


def test_every_surface_gives_the_frozen_figures(client, closed):
    world, report = closed
    frozen_at = report.frozen_at.isoformat()
    api = APIClient()
    api.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    body = api.get(f"/api/v1/studies/{world.study.slug}/statistics/").json()
    assert body["totals"]["contributions"] == 6
    assert body["frozen_at"]

    archive = zipfile.ZipFile(
        io.BytesIO(api.get(f"/api/v1/studies/{world.study.slug}/open-data/").content)
    )
    rows = csv.DictReader(io.StringIO(archive.read("statistics.csv").decode("utf-8-sig")))
    totals = {r["measure"]: r["value"] for r in rows if r["table"] == "totals"}
    assert totals["contributions"] == "6"
    assert "Figures frozen" in archive.read("README.md").decode()

    for tier in ("aggregate", "pseudonymous"):
        exported = json.loads(study_export(study=world.study, tier=tier, fmt="json").content)
        assert exported["totals"]["contributions"] == 6
        assert exported["frozen_at"] == frozen_at

    export = export_request(study=world.study, user=world.coordinator, tier="aggregate", fmt="json")
    export = export_build(export_id=export.pk)
    with export.file.open("rb") as handle:
        made = json.loads(handle.read())
    assert made["totals"]["contributions"] == 6 and made["frozen_at"] == frozen_at

    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(reverse("reports:statistics", args=[world.study.slug])).content.decode()
    assert "with 6 contributions" in page
    assert "Frozen when the study closed" in page
    assert f'datetime="{timezone.localtime(report.frozen_at).isoformat()[:19]}' in page
    report_page = client.get(reverse("reports:report", args=[world.study.slug])).content.decode()
    assert "with 6 contributions" in report_page
