"""The OpenAPI schema, the documentation page, and schemathesis against the schema.

schemathesis generates requests from the schema (valid and invalid ones) and
sends them to the Django app in-process over WSGI, on a small seeded dataset:
no answer may be a 5xx, and every answer must match what the schema says
(status code, content type and body).
"""

from __future__ import annotations

import copy
import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import ApiToken
from api.services import token_digest
from api.views import api_schema
from contributions.models import ItemState, ModerationReason
from studies.models import StudyStatus
from tests.api.factories import coordinator_of, seed_study
from tests.factories import ContributionFactory

OPEN_SLUG, CLOSED_SLUG = "schema-open", "schema-closed"
SECRET = "dgn_schemathesis-fixed-token-for-tests-only"


def test_schema_is_json_openapi_listing_every_endpoint(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/",
        "/api/v1/studies/",
        "/api/v1/studies/{slug}/",
        "/api/v1/studies/{slug}/sections/",
        "/api/v1/studies/{slug}/contributions/",
        "/api/v1/studies/{slug}/contributions/{id}/",
        "/api/v1/studies/{slug}/comments/",
        "/api/v1/studies/{slug}/statistics/",
        "/api/v1/studies/{slug}/open-data/",
        "/api/v1/studies/{slug}/exports/{tier}/",
    }
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3.0.3")


@pytest.mark.django_db
def test_documentation_page_lists_endpoints_without_foreign_scripts(client):
    response = client.get("/api/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/studies/{slug}/contributions/" in html
    assert "updated_since" in html
    assert not re.search(r"<script[^>]+src=\"https?://", html)
    assert not re.search(r"<link[^>]+href=\"https?://", html)
    assert "<script>" not in html


# --- schemathesis ------------------------------------------------------------------


def _pinned_schema() -> dict:
    """The schema with study slugs drawn from the seeded studies (and one unknown)."""
    schema = copy.deepcopy(api_schema())
    for operation in (op for ops in schema["paths"].values() for op in ops.values()):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "slug":
                parameter["schema"] = {
                    "type": "string",
                    "enum": [OPEN_SLUG, CLOSED_SLUG, "no-such-study"],
                }
    return schema


unpinned = schemathesis.openapi.from_dict(copy.deepcopy(api_schema()))
unpinned.app = get_wsgi_application()
pinned = schemathesis.openapi.from_dict(_pinned_schema())
pinned.app = unpinned.app

CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection open across in-process WSGI requests.

    Django's handler closes old connections when a request starts and ends;
    inside a test transaction (and with PostgreSQL's pool) that would drop the
    seeded data. Django's own test client disconnects these signals the same way.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db, settings, in_test_transaction):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "api_anon": "100000/min",
            "api_token": "100000/min",
            "api_bulk": "100000/min",
        },
    }
    settings.DUGNAD_REQUIRE_MFA = False
    open_ = seed_study(slug=OPEN_SLUG)
    closed = seed_study(slug=CLOSED_SLUG, status=StudyStatus.CLOSED)
    ContributionFactory(
        study=closed["study"], state=ItemState.HIDDEN, moderation_reason=ModerationReason.FLAGGED
    )
    coordinator = coordinator_of(closed["study"])
    ApiToken.objects.create(
        user=coordinator, name="fuzz", prefix="dgn_sc", digest=token_digest(SECRET)
    )
    return open_, closed


def _call(case):
    # The WSGI transport hands over the body as sent and does not undo gzip, which
    # the site applies to every page (core/compression.py); ask for it plain.
    headers = {"Accept-Encoding": "identity"}
    if "/exports/" in case.path:
        headers["Authorization"] = f"Bearer {SECRET}"
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.formatted_path, case.query)
    case.validate_response(response, checks=CHECKS)


@pytest.mark.slow
@pinned.parametrize()
@FUZZ
def test_api_answers_every_generated_request_on_seeded_data_by_its_schema(case, seeded):
    _call(case)


@pytest.mark.slow
@unpinned.parametrize()
@FUZZ
def test_api_answers_arbitrary_addresses_by_its_schema(case, seeded):
    _call(case)


@pytest.mark.django_db
def test_every_page_links_to_the_api_documentation(client):
    assert b'href="/api/"' in client.get("/").content
