"""A small world for the studies tests: one study and a person in every role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import translation

from accounts.models import User
from studies.models import Role, Study
from tests.factories import MembershipFactory, SectionFactory, StudyFactory, UserFactory

PERSONAS = [
    "visitor",
    "non_member",
    "contributor",
    "facilitator",
    "coordinator",
    "other_coordinator",
    "staff",
]


@dataclass
class World:
    study: Study
    other_study: Study
    people: dict[str, User | None]


@pytest.fixture(autouse=True)
def _english(settings):
    """Assert on the English source strings; bokmål has its own test."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _eager_celery(eager_celery):
    """Celery tasks run in the test (tests/conftest.py)."""


@pytest.fixture
def coordinated(db, settings):
    """A study and its coordinator (two-factor not required of them here)."""
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory()
    coordinator = MembershipFactory(study=study, role=Role.COORDINATOR).user
    return study, coordinator


@pytest.fixture
def world(db, settings) -> World:
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory(slug="the-study", title="The study")
    SectionFactory(study=study, order=1, title="Problem")
    other = StudyFactory(slug="other-study", title="Other study")
    people: dict[str, User | None] = {"visitor": None}
    people["non_member"] = UserFactory()
    people["staff"] = UserFactory(is_administrator=True)
    for role in (Role.CONTRIBUTOR, Role.FACILITATOR, Role.COORDINATOR):
        people[str(role)] = MembershipFactory(study=study, role=role).user
    people["other_coordinator"] = MembershipFactory(study=other, role=Role.COORDINATOR).user
    return World(study=study, other_study=other, people=people)


@pytest.fixture
def login(client):
    def _login(user):
        if user is not None:
            client.force_login(user)
        return client

    return _login
