"""core.queries.first_row: one row or None, with no ORDER BY."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from core.queries import first_row
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_row_or_none_without_an_order_by():
    person = UserFactory(email="kari@example.org")
    with CaptureQueriesContext(connection) as queries:
        assert first_row(User.objects.filter(email="kari@example.org")) == person
        assert first_row(User.objects.filter(email="nobody@example.org")) is None
    assert len(queries) == 2
    for query in queries:
        assert "ORDER BY" not in query["sql"] and "LIMIT 1" in query["sql"]
    # What it replaces orders by the primary key.
    with CaptureQueriesContext(connection) as queries:
        User.objects.filter(email="kari@example.org").first()
    assert "ORDER BY" in queries[0]["sql"]
