"""Shared people, items and file readers for the export and frozen-report tests.

Imported by tests/reports/test_exports*.py and test_frozen*.py (no tests here).
The study, hand-built:

- org_a (public sector) and org_b (private sector); org_c was a duplicate of
  org_a (merged into it before any export);
- alice posts for org_a (consents to be named), bob for org_b (does not
  consent), carol as an individual (consents), dave for org_a and org_b
  (consents), and a pending item and a spam-removed item that do not count;
- names and an organisation that a spreadsheet would read as formulas.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import pytest
from openpyxl import load_workbook

from accounts.models import Organisation, Sector
from contributions.models import Comment, Contribution, ItemState, ModerationReason
from reports.exports import FORMULA_PREFIXES
from studies.models import Role, Study
from tests.factories import (
    CommentFactory,
    ContributionFactory,
    MembershipFactory,
    OrganisationFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
)


@pytest.fixture(autouse=True)
def _english_and_eager(in_english, eager_celery):
    """Assertions read English source strings; Celery tasks run in the test."""


@pytest.fixture
def client(client):
    """Pages in English unless a test asks for bokmål: the assertions read the English
    source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@dataclass
class World:
    study: Study
    coordinator: object
    facilitator: object
    contributor: object
    staff: object
    other_coordinator: object
    org_a: Organisation
    org_b: Organisation
    org_c: Organisation
    people: dict = field(default_factory=dict)


def post(study, user, org=None, *, comments=0, state=ItemState.PUBLISHED, reason=""):
    contribution = ContributionFactory(
        study=study,
        author=user,
        acted_for=org,
        acted_for_sector=org.sector if org else "",
        state=state,
        moderation_reason=reason,
    )
    for _i in range(comments):
        CommentFactory(
            contribution=contribution,
            author=user,
            acted_for=org,
            acted_for_sector=org.sector if org else "",
        )
    return contribution


def build_world(*, small_count_threshold: int = 2) -> World:
    study = StudyFactory(title="Digital assistant", small_count_threshold=small_count_threshold)
    other = StudyFactory(title="Another study")

    def member(role=Role.CONTRIBUTOR, *, target=study, mfa=None, **kwargs):
        user = kwargs.pop("user", None) or UserFactory()
        MembershipFactory(study=target, user=user, role=role, **kwargs)
        if mfa or (mfa is None and role != Role.CONTRIBUTOR):
            give_mfa(user)
        return user

    org_a = OrganisationFactory(name='=HYPERLINK("http://evil")', sector=Sector.PUBLIC)
    org_b = OrganisationFactory(name="Bedrift AS", sector=Sector.PRIVATE)
    org_c = OrganisationFactory(name="Duplicate of A", sector=Sector.PUBLIC)
    staff = UserFactory(is_administrator=True)
    give_mfa(staff)
    world = World(
        study=study,
        coordinator=member(Role.COORDINATOR),
        facilitator=member(Role.FACILITATOR),
        contributor=member(),
        staff=staff,
        other_coordinator=member(Role.COORDINATOR, target=other),
        org_a=org_a,
        org_b=org_b,
        org_c=org_c,
    )
    alice = member(user=UserFactory(display_name="@alice"), organisation=org_a, consent_named=True)
    bob = member(user=UserFactory(display_name="Bob"), organisation=org_b, consent_named=False)
    carol = member(user=UserFactory(display_name="+carol\tx"), consent_named=True)
    dave = member(user=UserFactory(display_name="-dave\r"), organisation=org_a, consent_named=True)
    erin = member(user=UserFactory(display_name="Erin"), organisation=org_b, consent_named=True)
    world.people = {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "erin": erin}
    post(study, alice, org_a, comments=2)
    post(study, alice, org_c)  # posted for the duplicate, counts for org_a
    post(study, bob, org_b, comments=1)
    post(study, carol, None, comments=1, state=ItemState.WITHDRAWN)
    post(study, dave, org_a)
    post(study, dave, org_b, comments=1)
    post(study, erin, org_b, state=ItemState.PENDING)  # not counted
    post(study, erin, org_b, state=ItemState.REMOVED, reason=ModerationReason.SPAM)
    post(other, world.other_coordinator, None, comments=1)
    org_c.merged_into = org_a
    org_c.save(update_fields=["merged_into"])
    return world


@pytest.fixture
def world(db, settings) -> World:
    settings.DUGNAD_REQUIRE_MFA = True
    return build_world()


def empty_study(db) -> Study:
    study = StudyFactory(title="Nobody came")
    coordinator = UserFactory()
    MembershipFactory(study=study, user=coordinator, role=Role.COORDINATOR)
    give_mfa(coordinator)
    return study


# --- readers -----------------------------------------------------------------


def unescape(value):
    """Undo the apostrophe that keeps a spreadsheet from reading a cell as a formula."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def read_csv(data: bytes) -> dict[str, list[dict]]:
    """{sheet name: rows as dicts}; the Summary sheet as rows of field/value."""
    text = data.decode("utf-8-sig")
    sheets: dict[str, list[dict]] = {}
    name, header = None, None
    for row in csv.reader(io.StringIO(text, newline="")):
        if not row:
            name, header = None, None
        elif name is None:
            assert row[0].startswith("[") and row[0].endswith("]"), row
            name = row[0][1:-1]
            sheets[name] = []
        elif header is None:
            header = row
        else:
            sheets[name].append(dict(zip(header, row, strict=True)))
    return sheets


def read_xlsx(data: bytes) -> dict[str, list[dict]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    sheets = {}
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = list(rows[0])
        sheets[sheet.title] = [
            dict(zip(header, ["" if v is None else v for v in row], strict=True))
            for row in rows[1:]
        ]
    workbook.close()
    return sheets


def read_json(data: bytes) -> dict:
    return json.loads(data.decode())


def counted_items(study) -> tuple[int, int]:
    return Contribution.objects.filter(study=study).counted().count(), Comment.objects.filter(
        study=study
    ).counted().count()
