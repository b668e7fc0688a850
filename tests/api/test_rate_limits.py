"""Per-client rate limits: anonymous clients by address, token holders by token."""

from __future__ import annotations

import pytest

from tests.api.factories import closed_study, coordinator_of, token_for
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight(settings):
    rates = {"api_anon": "2/min", "api_token": "3/min", "api_bulk": "1/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    return rates


def test_anonymous_client_past_its_limit_gets_429_with_retry_after(api, tight):
    assert [api.get("/api/v1/studies/").status_code for _ in range(2)] == [200, 200]
    response = api.get("/api/v1/studies/")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_clients_at_other_addresses_have_their_own_budget(api, tight):
    for _ in range(2):
        api.get("/api/v1/studies/", REMOTE_ADDR="10.0.0.1")
    assert api.get("/api/v1/studies/", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert api.get("/api/v1/studies/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_forged_forwarded_for_header_does_not_reset_the_budget(api, tight):
    for n in range(2):
        api.get("/api/v1/studies/", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = api.get("/api/v1/studies/", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert response.status_code == 429


def test_token_holder_has_a_budget_of_its_own(api, tight):
    for _ in range(2):
        api.get("/api/v1/studies/")
    assert api.get("/api/v1/studies/").status_code == 429
    _t, secret = token_for(coordinator_of(StudyFactory()))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert [api.get("/api/v1/studies/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_bulk_downloads_have_a_tighter_limit(api, tight, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**tight, "api_anon": "100/min"},
    }
    study = closed_study()["study"]
    url = f"/api/v1/studies/{study.slug}/open-data/"
    assert api.get(url).status_code == 200
    assert api.get(url).status_code == 429
    assert api.get(f"/api/v1/studies/{study.slug}/").status_code == 200
