"""Factories and helpers only the contributions tests need."""

from __future__ import annotations

from accounts.models import Sector
from studies.models import Role
from tests.factories import MembershipFactory, OrganisationFactory, StudyFactory, UserFactory


def member(study=None, *, role=Role.CONTRIBUTOR, organisation=None, **user_kwargs):
    """A person with an active membership in ``study`` (a new public open study if None)."""
    study = study or StudyFactory()
    user = UserFactory(**user_kwargs)
    MembershipFactory(study=study, user=user, role=role, organisation=organisation)
    return user


def organisation(sector=Sector.PUBLIC, **kwargs):
    return OrganisationFactory(sector=sector, **kwargs)
