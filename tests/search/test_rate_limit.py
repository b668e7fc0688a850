"""Search: a limit on searches per person (or per address when not signed in), with a 429 page."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.factories import StudyFactory, UserFactory, login_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch, settings):
    """Two searches a minute, at a fixed time 20 s into a minute (no window ends mid-test)."""
    settings.SEARCH_RATE_LIMIT = "2/m"
    now = SimpleNamespace(value=dt.datetime(2026, 12, 7, 12, 0, 20, tzinfo=dt.UTC))
    monkeypatch.setattr("search.views.timezone", SimpleNamespace(now=lambda: now.value))
    return now


def _search(client, path="/search/", address="192.0.2.1", language="en", **params):
    return client.get(
        path, {"q": "klarspråk", **params}, REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language
    )


def test_a_visitor_past_the_limit_gets_a_clear_429_page_with_the_query_kept(client, clock):
    study = StudyFactory(slug="konsept")
    assert _search(client).status_code == 200
    assert _search(client, path=f"/studies/{study.slug}/search/").status_code == 200

    response = _search(client, sort="newest")

    assert response.status_code == 429
    assert response["Retry-After"] == "40"
    body = response.content.decode()
    assert "You are searching faster than Dugnad allows" in body
    assert "try again in 40 seconds" in body
    assert 'value="klarspråk"' in body  # the field keeps what was typed


def test_the_429_page_is_in_norwegian_for_a_norwegian_reader(client, clock):
    _search(client)
    _search(client)
    response = _search(client, language="nb")
    assert response.status_code == 429
    assert "Du søker raskere enn Dugnad tillater" in response.content.decode()


def test_the_limit_counts_each_address_and_each_person_apart(client, clock):
    _search(client)
    _search(client)
    assert _search(client).status_code == 429

    assert _search(client, address="192.0.2.2").status_code == 200
    login_as(client, UserFactory())
    assert _search(client).status_code == 200  # a person has their own budget


def test_a_signed_in_person_is_limited_whatever_address_they_use(client, clock):
    login_as(client, UserFactory())
    _search(client, address="192.0.2.1")
    _search(client, address="192.0.2.2")
    assert _search(client, address="192.0.2.3").status_code == 429


def test_the_next_window_searches_again(client, clock):
    for _ in range(2):
        _search(client)
    assert _search(client).status_code == 429
    clock.value += dt.timedelta(seconds=40)
    assert _search(client).status_code == 200


def test_a_page_without_a_query_or_with_bad_input_is_not_counted(client, clock):
    for _ in range(3):
        assert client.get("/search/", REMOTE_ADDR="192.0.2.1").status_code == 200
        assert _search(client, sort="moon").status_code == 400
    assert _search(client).status_code == 200
