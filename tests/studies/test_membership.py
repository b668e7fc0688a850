"""Joining as oneself or for an organisation, changing it, consent, leaving, approval, roles."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Notification
from contributions.models import Contribution
from studies.models import Joining, JoinRequest, Membership, MembershipStatus, Role
from studies.services import membership_set_role
from tests.factories import (
    AffiliationFactory,
    ContributionFactory,
    MembershipFactory,
    OrganisationFactory,
    StudyFactory,
    UserFactory,
)


@pytest.fixture
def study(db, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    study = StudyFactory()
    MembershipFactory(study=study, role=Role.COORDINATOR)
    return study


def test_a_person_joins_as_themselves(client, study):
    person = UserFactory()
    client.force_login(person)
    response = client.post(reverse("studies:join", args=[study.slug]), {})
    assert response["Location"] == reverse("study_detail", args=[study.slug])
    membership = Membership.objects.get(study=study, user=person)
    assert (membership.role, membership.organisation, membership.consent_named) == (
        Role.CONTRIBUTOR,
        None,
        False,
    )


def test_a_person_joins_for_their_organisation_and_consents_to_be_named(client, study):
    affiliation = AffiliationFactory()
    client.force_login(affiliation.user)
    client.post(
        reverse("studies:join", args=[study.slug]),
        {"organisation": affiliation.organisation.pk, "consent_named": "on"},
    )
    membership = Membership.objects.get(study=study, user=affiliation.user)
    assert membership.organisation == affiliation.organisation
    assert membership.consent_named


def test_nobody_can_act_for_an_organisation_they_do_not_belong_to(client, study):
    person = UserFactory()
    stranger_org = OrganisationFactory()
    client.force_login(person)
    response = client.post(
        reverse("studies:join", args=[study.slug]), {"organisation": stranger_org.pk}
    )
    assert response.status_code == 200
    assert "Choose one of your organisations" in response.content.decode()
    assert not Membership.objects.filter(user=person).exists()


def test_changing_the_organisation_never_changes_items_already_posted(client, study):
    first = AffiliationFactory()
    person = first.user
    second = AffiliationFactory(user=person)
    membership = MembershipFactory(study=study, user=person, organisation=first.organisation)
    posted = ContributionFactory(
        study=study,
        author=person,
        acted_for=first.organisation,
        acted_for_sector=first.organisation.sector,
    )
    client.force_login(person)
    response = client.post(
        reverse("studies:membership", args=[study.slug]),
        {"organisation": second.organisation.pk, "consent_named": "on"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.organisation == second.organisation
    assert membership.consent_named
    posted = Contribution.objects.get(pk=posted.pk)
    assert posted.acted_for == first.organisation
    assert posted.acted_for_sector == first.organisation.sector


def test_consent_can_be_withdrawn(client, study):
    membership = MembershipFactory(study=study, consent_named=True)
    client.force_login(membership.user)
    client.post(reverse("studies:membership", args=[study.slug]), {"organisation": ""})
    membership.refresh_from_db()
    assert not membership.consent_named


def test_consent_can_change_after_closing_but_the_organisation_cannot(client, study):
    affiliation = AffiliationFactory()
    membership = MembershipFactory(study=study, user=affiliation.user)
    study.status = "closed"
    study.save()
    client.force_login(affiliation.user)
    response = client.post(
        reverse("studies:membership", args=[study.slug]),
        {"organisation": affiliation.organisation.pk, "consent_named": "on"},
    )
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.organisation is None
    assert not membership.consent_named  # the whole change is refused
    client.post(reverse("studies:membership", args=[study.slug]), {"consent_named": "on"})
    membership.refresh_from_db()
    assert membership.consent_named


def _leave(client, membership) -> None:
    """The member asks to leave; ``membership`` is read again afterwards."""
    client.force_login(membership.user)
    client.post(reverse("studies:leave", args=[membership.study.slug]))
    membership.refresh_from_db()


def test_leaving_keeps_the_membership_row_and_allows_joining_again(client, study):
    membership = MembershipFactory(study=study, role=Role.FACILITATOR)
    _leave(client, membership)
    assert membership.status == MembershipStatus.LEFT
    client.post(reverse("studies:join", args=[study.slug]), {})
    membership.refresh_from_db()
    assert (membership.status, membership.role) == (MembershipStatus.ACTIVE, Role.CONTRIBUTOR)


def test_a_blocked_member_cannot_leave_and_rejoin_to_escape_the_block(client, study):
    membership = MembershipFactory(study=study, status=MembershipStatus.BLOCKED)
    _leave(client, membership)
    assert membership.status == MembershipStatus.BLOCKED


def test_the_last_coordinator_cannot_leave(client, study):
    coordinator = Membership.objects.get(study=study, role=Role.COORDINATOR)
    client.force_login(coordinator.user)
    response = client.post(reverse("studies:leave", args=[study.slug]), follow=True)
    assert "only coordinator" in response.content.decode()
    coordinator.refresh_from_db()
    assert coordinator.status == MembershipStatus.ACTIVE


def test_an_invitation_only_study_cannot_be_joined_directly(client, study):
    study.joining = Joining.INVITATION
    study.save()
    person = UserFactory()
    client.force_login(person)
    response = client.post(reverse("studies:join", args=[study.slug]), {})
    assert response.status_code == 403
    assert "by invitation only" in response.content.decode()
    assert not Membership.objects.filter(user=person).exists()


def test_header_shows_the_right_button_for_each_viewer(client, study):
    page = reverse("study_detail", args=[study.slug])
    assert "Sign in to take part" in client.get(page).content.decode()
    person = UserFactory()
    client.force_login(person)
    assert "Join the study" in client.get(page).content.decode()
    study.joining = Joining.APPROVAL
    study.save()
    assert "Ask to join" in client.get(page).content.decode()
    JoinRequest.objects.create(study=study, user=person)
    assert "waiting for a coordinator" in client.get(page).content.decode()
    MembershipFactory(study=study, user=person)
    assert "You take part as yourself" in client.get(page).content.decode()


# --- Approval studies -------------------------------------------------------


@pytest.fixture
def approval_study(study):
    study.joining = Joining.APPROVAL
    study.save()
    return study


def test_asking_to_join_an_approval_study_tells_the_coordinators(client, approval_study):
    person = UserFactory(display_name="Kari")
    client.force_login(person)
    client.post(reverse("studies:join", args=[approval_study.slug]), {"message": "Hello"})
    request = JoinRequest.objects.get(study=approval_study, user=person)
    assert request.status == "pending"
    assert request.message == "Hello"
    assert not Membership.objects.filter(user=person).exists()
    coordinator = Membership.objects.get(study=approval_study, role=Role.COORDINATOR).user
    assert Notification.objects.filter(user=coordinator, kind="join_request").exists()
    client.post(reverse("studies:join", args=[approval_study.slug]), {"message": "Again"})
    assert JoinRequest.objects.filter(user=person).count() == 1


@pytest.mark.parametrize("decision, member", [("approve", True), ("decline", False)])
def test_coordinator_decides_and_the_person_is_told(client, approval_study, decision, member):
    affiliation = AffiliationFactory()
    request = JoinRequest.objects.create(
        study=approval_study,
        user=affiliation.user,
        organisation=affiliation.organisation,
        consent_named=True,
    )
    coordinator = Membership.objects.get(study=approval_study, role=Role.COORDINATOR).user
    client.force_login(coordinator)
    client.post(
        reverse("studies:join_request_decide", args=[approval_study.slug, request.pk]),
        {"decision": decision},
    )
    request.refresh_from_db()
    assert request.status == ("approved" if member else "declined")
    assert request.decided_by == coordinator
    membership = Membership.objects.filter(study=approval_study, user=affiliation.user).first()
    assert (membership is not None) == member
    if member:
        assert membership.organisation == affiliation.organisation
        assert membership.consent_named
    notice = Notification.objects.get(user=affiliation.user, kind="join_request_decided")
    assert ("declined" in notice.title) != member


def test_a_request_is_decided_once(client, approval_study):
    request = JoinRequest.objects.create(study=approval_study, user=UserFactory())
    coordinator = Membership.objects.get(study=approval_study, role=Role.COORDINATOR).user
    client.force_login(coordinator)
    url = reverse("studies:join_request_decide", args=[approval_study.slug, request.pk])
    client.post(url, {"decision": "decline"})
    client.post(url, {"decision": "approve"})
    request.refresh_from_db()
    assert request.status == "declined"
    assert not Membership.objects.filter(user=request.user).exists()


def test_a_request_of_another_study_cannot_be_decided_here(client, approval_study):
    other = StudyFactory(joining=Joining.APPROVAL)
    request = JoinRequest.objects.create(study=other, user=UserFactory())
    coordinator = Membership.objects.get(study=approval_study, role=Role.COORDINATOR).user
    client.force_login(coordinator)
    url = reverse("studies:join_request_decide", args=[approval_study.slug, request.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 404


# --- Roles -----------------------------------------------------------------


def test_coordinator_grants_and_revokes_roles_and_the_person_is_told(client, study):
    coordinator = Membership.objects.get(study=study, role=Role.COORDINATOR).user
    member = MembershipFactory(study=study)
    client.force_login(coordinator)
    url = reverse("studies:member_role", args=[study.slug, member.pk])
    client.post(url, {"role": "facilitator"})
    member.refresh_from_db()
    assert member.role == Role.FACILITATOR
    client.post(url, {"role": "coordinator"})
    member.refresh_from_db()
    assert member.role == Role.COORDINATOR
    client.post(url, {"role": "contributor"})
    member.refresh_from_db()
    assert member.role == Role.CONTRIBUTOR
    assert Notification.objects.filter(user=member.user, kind="study_role").count() == 3


def test_a_study_always_keeps_one_coordinator(client, study):
    coordinator = Membership.objects.get(study=study, role=Role.COORDINATOR)
    client.force_login(coordinator.user)
    response = client.post(
        reverse("studies:member_role", args=[study.slug, coordinator.pk]),
        {"role": "contributor"},
        follow=True,
    )
    assert "at least one coordinator" in response.content.decode()
    coordinator.refresh_from_db()
    assert coordinator.role == Role.COORDINATOR


def test_with_two_coordinators_one_may_step_down(study):
    first = Membership.objects.get(study=study, role=Role.COORDINATOR)
    second = MembershipFactory(study=study, role=Role.COORDINATOR)
    membership_set_role(membership=first, role=Role.CONTRIBUTOR, by=first.user)
    with pytest.raises(ValidationError):
        membership_set_role(membership=second, role=Role.FACILITATOR, by=second.user)


def test_an_unknown_role_is_refused(client, study):
    coordinator = Membership.objects.get(study=study, role=Role.COORDINATOR)
    member = MembershipFactory(study=study)
    client.force_login(coordinator.user)
    client.post(reverse("studies:member_role", args=[study.slug, member.pk]), {"role": "king"})
    member.refresh_from_db()
    assert member.role == Role.CONTRIBUTOR


def test_a_member_of_another_study_cannot_be_given_a_role_here(client, study):
    coordinator = Membership.objects.get(study=study, role=Role.COORDINATOR)
    foreign = MembershipFactory()
    client.force_login(coordinator.user)
    url = reverse("studies:member_role", args=[study.slug, foreign.pk])
    assert client.post(url, {"role": "coordinator"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.CONTRIBUTOR


def test_members_page_lists_coordinators_and_facilitators_first(client, study):
    MembershipFactory(study=study, user=UserFactory(display_name="Aaron Contributor"))
    MembershipFactory(
        study=study, role=Role.FACILITATOR, user=UserFactory(display_name="Zed Facilitator")
    )
    coordinator = Membership.objects.get(study=study, role=Role.COORDINATOR)
    client.force_login(coordinator.user)
    members = list(client.get(reverse("studies:members", args=[study.slug])).context["members"])
    assert [m.role for m in members] == ["coordinator", "facilitator", "contributor"]


def test_approving_someone_who_joined_meanwhile_just_closes_the_request(client, approval_study):
    member = MembershipFactory(study=approval_study)
    request = JoinRequest.objects.create(study=approval_study, user=member.user)
    coordinator = Membership.objects.get(study=approval_study, role=Role.COORDINATOR).user
    client.force_login(coordinator)
    client.post(
        reverse("studies:join_request_decide", args=[approval_study.slug, request.pk]),
        {"decision": "approve"},
    )
    request.refresh_from_db()
    assert request.status == "approved"
    assert Membership.objects.filter(user=member.user).count() == 1


def test_leaving_a_members_only_study_leads_back_to_the_list(client, study):
    study.visibility = "members"
    study.save()
    membership = MembershipFactory(study=study)
    client.force_login(membership.user)
    response = client.post(reverse("studies:leave", args=[study.slug]))
    assert response["Location"] == reverse("home")
    assert client.get(reverse("study_detail", args=[study.slug])).status_code == 404
