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


def posted(study, *, title: str = "t", body: str = "b", **kwargs):
    """A contribution a new member of ``study`` posts through the service (its side
    effects included: revision, event, broadcast)."""
    from contributions import services

    return services.contribution_create(
        study=study, author=member(study), title=title, body=body, **kwargs
    )


def contribution_form(title: str, body: str, **extra) -> dict:
    """A post of the contribution form: an idea, with a fresh idempotency key."""
    import uuid

    return {
        "title": title,
        "kind": "idea",
        "body": body,
        "idempotency_key": str(uuid.uuid4()),
        **extra,
    }
