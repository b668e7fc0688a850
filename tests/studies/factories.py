"""Factories only the studies tests need."""

from __future__ import annotations

import secrets

import factory
from django.utils import timezone

from studies.models import DocumentVersion, Invitation, JoinRequest, Phase
from studies.services import invitation_token_hash
from tests.factories import StudyFactory, UserFactory


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase
        skip_postgeneration_save = True

    study = factory.SubFactory(StudyFactory)
    title = factory.Sequence(lambda n: f"Phase {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=6))


class DocumentVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentVersion

    study = factory.SubFactory(StudyFactory)
    number = factory.Sequence(lambda n: f"0.{n + 1}")
    body = "# Concept\n\nFirst text."
    change_summary = "First draft."


class JoinRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JoinRequest

    study = factory.SubFactory(StudyFactory)
    user = factory.SubFactory(UserFactory)


def make_invitation(study, email: str, **fields) -> tuple[Invitation, str]:
    """An invitation and the token its e-mail would carry."""
    token = secrets.token_urlsafe(32)
    fields.setdefault("expires_at", timezone.now() + timezone.timedelta(days=14))
    invitation = Invitation.objects.create(
        study=study, email=email, token=invitation_token_hash(token), **fields
    )
    return invitation, token


def study_data(**overrides) -> dict:
    """A valid post of the study settings form (no sections), with ``overrides``."""
    return {
        "title": "Digital assistant",
        "summary": "A concept for a digital assistant.",
        "body": "# Concept\n\nText.",
        "opens_at": "",
        "closes_at": "",
        "visibility": "public",
        "joining": "open",
        "moderation_mode": "post",
        "flag_threshold": 3,
        "small_count_threshold": 3,
        "sections-TOTAL_FORMS": 0,
        "sections-INITIAL_FORMS": 0,
        **overrides,
    }


def formset(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    """A formset's post: its management form and ``rows`` (the first ``initial`` existing)."""
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data
