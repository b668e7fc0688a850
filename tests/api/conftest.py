import pytest
from rest_framework.test import APIClient

from tests.api.factories import seed_study


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def data(db):
    return seed_study()
