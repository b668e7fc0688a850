"""Status moves draft → open → closed → archived, and what each status allows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from studies.access import Action, StudyAccess
from studies.models import Membership, Role, StudyStatus
from studies.services import study_set_status
from tests.factories import MembershipFactory, StudyFactory, UserFactory


@pytest.fixture
def setup(db, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory(status=StudyStatus.DRAFT)
    coordinator = MembershipFactory(study=study, role=Role.COORDINATOR).user
    return study, coordinator


def _in_status(setup, status):
    study, coordinator = setup
    study.status = status
    study.save()
    return study, coordinator


@pytest.mark.parametrize(
    "start, target",
    [
        ("draft", "open"),
        ("open", "closed"),
        ("closed", "archived"),
    ],
)
def test_status_moves_one_step_forward(setup, start, target):
    study, coordinator = _in_status(setup, start)
    assert study_set_status(study=study, status=target, by=coordinator).status == target


@pytest.mark.parametrize(
    "start, target",
    [
        ("draft", "closed"),
        ("draft", "archived"),
        ("open", "draft"),
        ("open", "archived"),
        ("closed", "open"),
        ("closed", "draft"),
        ("archived", "closed"),
        ("archived", "open"),
        ("open", "nonsense"),
    ],
)
def test_status_never_skips_or_goes_back(setup, start, target):
    study, coordinator = _in_status(setup, start)
    with pytest.raises(ValidationError):
        study_set_status(study=study, status=target, by=coordinator)
    study.refresh_from_db()
    assert study.status == start


def test_a_study_whose_close_date_passed_cannot_open(setup):
    study, coordinator = setup
    study.opens_at = timezone.now() - timedelta(days=3)
    study.closes_at = timezone.now() - timedelta(days=1)
    study.save()
    with pytest.raises(ValidationError):
        study_set_status(study=study, status="open", by=coordinator)


def test_closing_early_records_the_close_time(setup):
    study, coordinator = setup
    study.status = StudyStatus.OPEN
    study.closes_at = timezone.now() + timedelta(days=10)
    study.save()
    study_set_status(study=study, status="closed", by=coordinator)
    study.refresh_from_db()
    assert study.closes_at <= timezone.now()


def test_closing_asks_for_confirmation_first(client, setup):
    study, coordinator = setup
    study.status = StudyStatus.OPEN
    study.save()
    client.force_login(coordinator)
    response = client.post(reverse("studies:status", args=[study.slug]), {"status": "closed"})
    assert response["Location"] == reverse("studies:close", args=[study.slug])
    study.refresh_from_db()
    assert study.status == StudyStatus.OPEN
    page = client.get(response["Location"])
    assert "This cannot be undone" in page.content.decode()
    client.post(
        reverse("studies:status", args=[study.slug]), {"status": "closed", "confirm": "yes"}
    )
    study.refresh_from_db()
    assert study.status == StudyStatus.CLOSED


def test_a_refused_transition_is_explained(client, setup):
    study, coordinator = setup
    client.force_login(coordinator)
    response = client.post(
        reverse("studies:status", args=[study.slug]), {"status": "archived"}, follow=True
    )
    assert "cannot become archived" in response.content.decode()


def _abilities(study, membership, user):
    access = StudyAccess(study=study, membership=membership)
    return {action: access.can(action, user) for action in Action}


def test_what_each_status_allows(setup):
    study, coordinator = setup
    contributor_membership = MembershipFactory(study=study)
    contributor = contributor_membership.user
    outsider = UserFactory()
    coordinator_membership = Membership.objects.get(study=study, user=coordinator)
    table = {}
    for status in ["draft", "open", "closed", "archived"]:
        study.status = status
        study.save()
        contributor_can = _abilities(study, contributor_membership, contributor)
        outsider_can = _abilities(study, None, outsider)
        coordinator_can = _abilities(study, coordinator_membership, coordinator)
        table[status] = (
            outsider_can[Action.VIEW],
            outsider_can[Action.JOIN],
            contributor_can[Action.VIEW],
            contributor_can[Action.CONTRIBUTE],
            coordinator_can[Action.MANAGE],
        )
    # (outsider sees, outsider joins, contributor sees, contributor posts, coordinator manages)
    assert table == {
        "draft": (False, False, False, False, True),
        "open": (True, True, True, True, True),
        "closed": (True, False, True, False, True),
        "archived": (True, False, True, False, True),
    }


def test_an_upcoming_study_takes_no_contributions_yet(setup):
    study, _ = setup
    study.status = StudyStatus.OPEN
    study.opens_at = timezone.now() + timedelta(days=2)
    study.save()
    membership = MembershipFactory(study=study)
    assert not StudyAccess(study=study, membership=membership).can(Action.CONTRIBUTE)


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_closed_and_archived_studies_cannot_be_joined(client, setup, status):
    study, _ = setup
    study.status = status
    study.save()
    client.force_login(UserFactory())
    assert client.get(reverse("studies:join", args=[study.slug])).status_code == 403
    assert client.post(reverse("studies:join", args=[study.slug])).status_code == 403
    assert not Membership.objects.filter(study=study, role=Role.CONTRIBUTOR).exists()


def test_archived_studies_leave_the_default_list(client, setup):
    study, _ = setup
    study.status = StudyStatus.ARCHIVED
    study.title = "Old archived study"
    study.save()
    assert "Old archived study" not in client.get(reverse("home")).content.decode()
    assert "Old archived study" in client.get(reverse("home") + "?archived=1").content.decode()


def test_drafts_are_invisible_outside_their_coordinators(client, setup):
    study, coordinator = setup
    assert client.get(reverse("study_detail", args=[study.slug])).status_code == 404
    client.force_login(coordinator)
    assert client.get(reverse("studies:settings", args=[study.slug])).status_code == 200
