"""The study the passage and amendment tests share: a published concept document
with two members to write on it and a facilitator to moderate."""

from __future__ import annotations

from dataclasses import dataclass

from studies.blocks import version_blocks
from studies.models import DocumentBlock, DocumentVersion, Role, Study
from studies.services import document_version_publish
from tests.contributions.factories import member, organisation
from tests.factories import StudyFactory

DOC = "# Assistant\n\nCitizens should find help in one place.\n\n- It works on a phone.\n"


@dataclass
class DocumentStudy:
    study: Study
    coordinator: object
    facilitator: object
    version: DocumentVersion
    blocks: list[DocumentBlock]
    kari: object  # a member for NAV
    ola: object  # a member for no organisation


def document_study(settings, body: str = DOC) -> DocumentStudy:
    """A study with version 0.8 of ``body`` published; staff sign in without a second
    factor."""
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory(body=body)
    coordinator = member(study, role=Role.COORDINATOR)
    facilitator = member(study, role=Role.FACILITATOR)
    version = document_version_publish(
        study=study, number="0.8", body=body, change_summary="First.", by=coordinator
    )
    kari = member(study, organisation=organisation(name="NAV"), display_name="Kari Nordmann")
    ola = member(study, display_name="Ola Nordmann")
    return DocumentStudy(
        study, coordinator, facilitator, version, version_blocks(version), kari, ola
    )
