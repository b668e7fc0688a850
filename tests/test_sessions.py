"""Sessions are read from the cache and written through to the database."""

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _session_queries(client, path="/"):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, secure=True).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]


def test_a_signed_in_request_reads_no_session_from_the_database(client):
    client.force_login(UserFactory())
    _session_queries(client)  # the first request may fill the cache
    assert _session_queries(client) == []
    # Written through: the database holds the session as well.
    assert Session.objects.filter(session_key=client.session.session_key).exists()


def test_a_session_survives_an_emptied_cache(client):
    user = UserFactory()
    client.force_login(user)
    cache.clear()
    assert _session_queries(client)  # read from the database again
    response = client.get("/me/", secure=True)
    assert response.status_code == 200
    assert response.wsgi_request.user == user
