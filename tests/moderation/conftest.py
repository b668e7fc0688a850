"""People and items for the moderation tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from studies.models import Role
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    MembershipFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
    login_as,
)


@pytest.fixture(autouse=True)
def _english_and_eager(in_english, eager_celery):
    """Assertions read English source strings (pages ask for English in login());
    Celery tasks run in the test (tests/conftest.py)."""


@pytest.fixture
def study(db):
    return StudyFactory(flag_threshold=3)


def member(study, role=Role.CONTRIBUTOR, **kwargs):
    user = UserFactory()
    MembershipFactory(study=study, user=user, role=role, **kwargs)
    if role != Role.CONTRIBUTOR:
        give_mfa(user)
    return user


def flagger(study, role=Role.CONTRIBUTOR, **kwargs):
    """A member whose flags count toward the automatic hide: an old account, joined long ago."""
    long_ago = timezone.now() - dt.timedelta(days=30)
    user = UserFactory(date_joined=long_ago)
    MembershipFactory(study=study, user=user, role=role, joined_at=long_ago, **kwargs)
    return user


@pytest.fixture
def facilitator(study):
    return member(study, Role.FACILITATOR)


@pytest.fixture
def coordinator(study):
    return member(study, Role.COORDINATOR)


@pytest.fixture
def author(study):
    return member(study)


@pytest.fixture
def contributor(study):
    return member(study)


@pytest.fixture
def contribution(study, author):
    return ContributionFactory(study=study, author=author, body="Buy cheap watches")


@pytest.fixture
def comment(contribution, author):
    return CommentFactory(contribution=contribution, author=author)


@pytest.fixture
def other_study(db):
    return StudyFactory()


def login(client, user, language="en"):
    login_as(client, user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client
