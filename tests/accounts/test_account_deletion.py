"""Delete my account: items stay as by "Deleted participant", figures do not move."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db.models import Count
from django.urls import reverse

from accounts.models import Affiliation, ClaimState, Notification, User
from accounts.services import AccountDeletionRefused, account_delete, notification_create
from contributions.models import Comment, Contribution
from reports import statistics
from reports.models import ParticipationReport
from reports.services import report_freeze
from studies.models import Membership, Role, StudyStatus
from tests.accounts.conftest import reauthenticate, sign_in
from tests.factories import (
    PASSWORD,
    CommentFactory,
    ContributionFactory,
    MembershipFactory,
    OrganisationFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
)

pytestmark = pytest.mark.django_db


def study_figures(study) -> dict:
    """The figures a study publishes, and the same definitions computed directly.

    reports.statistics owns the published figures (totals, sectors,
    organisations, days, participant rows, headline); the counts from
    ``counted()`` check the same definitions (version 1) independently.
    """
    contributions = Contribution.objects.filter(study=study).counted()
    comments = Comment.objects.filter(study=study).counted()
    people = set(contributions.values_list("author", flat=True)) | set(
        comments.values_list("author", flat=True)
    )
    organisations = set(contributions.values_list("acted_for", flat=True)) | set(
        comments.values_list("acted_for", flat=True)
    )
    organisations.discard(None)
    sectors = dict(contributions.values_list("acted_for_sector").annotate(n=Count("id")).order_by())
    figures = {
        "participants": len(people),
        "organisations": len(organisations),
        "contributions": contributions.count(),
        "comments": comments.count(),
        "by_sector": sectors,
    }
    published = statistics.study_statistics(study=study).to_dict()
    published.pop("generated_at")
    figures["reports"] = published
    figures["participant_rows"] = [
        (r.user_id, r.organisation, r.contributions, r.comments)
        for r in statistics.study_participant_rows(study=study)
    ]
    figures["headline"] = statistics.headline(statistics.study_statistics(study=study), "en")
    return figures


@pytest.fixture
def participant():
    user = UserFactory(email="kari@example.org", display_name="Kari Nordmann")
    organisation = OrganisationFactory(name="Digdir")
    Affiliation.objects.create(
        user=user, organisation=organisation, state=ClaimState.CONFIRMED, is_representative=True
    )
    return user


def test_deleting_removes_personal_data_and_keeps_items_as_deleted_participant(participant):
    contribution = ContributionFactory(author=participant)
    MembershipFactory(study=contribution.study, user=participant, consent_named=True)
    give_mfa(participant)
    notification_create(user=participant, kind="reply", title="A reply")
    account_delete(user=participant)
    participant.refresh_from_db()
    assert participant.email is None
    assert participant.display_name == ""
    assert participant.deleted_at is not None
    assert not participant.is_active
    assert not participant.has_usable_password()
    assert not EmailAddress.objects.filter(user=participant).exists()
    assert not Authenticator.objects.filter(user=participant).exists()
    # The claim stays, ended and no longer a representative's, so that the items
    # posted for the organisation count as they were decided.
    claim = Affiliation.objects.get(user=participant)
    assert claim.ended_at is not None and not claim.is_representative
    assert claim.state == ClaimState.CONFIRMED
    assert not Notification.objects.filter(user=participant).exists()
    assert Contribution.objects.get(pk=contribution.pk).author == participant
    assert contribution.author.public_name in ("Deleted participant", "Slettet deltaker")
    assert Membership.objects.get(user=participant).consent_named is False


def test_the_study_figures_are_the_same_before_and_after_a_participant_deletes_their_account(
    participant,
):
    study = StudyFactory()
    organisation = participant.affiliations.get().organisation
    MembershipFactory(study=study, user=participant, organisation=organisation)
    mine = ContributionFactory(
        study=study, author=participant, acted_for=organisation, acted_for_sector="public"
    )
    CommentFactory(contribution=mine, author=participant, acted_for=organisation)
    other = UserFactory()
    CommentFactory(contribution=mine, author=other)
    ContributionFactory(study=study, author=other)
    before = study_figures(study)
    assert before["participants"] == 2 and before["organisations"] == 1
    assert before["reports"]["totals"]["participants"] == 2
    assert before["reports"]["totals"]["organisations"] == 1
    account_delete(user=participant)
    assert study_figures(study) == before


def test_a_frozen_participation_report_is_untouched_by_a_deletion(participant):
    study = StudyFactory(status=StudyStatus.CLOSED)
    organisation = participant.affiliations.get().organisation
    MembershipFactory(study=study, user=participant, organisation=organisation)
    ContributionFactory(study=study, author=participant, acted_for=organisation)
    ContributionFactory(study=study)
    report = report_freeze(study=study, by=participant)
    frozen = (report.data, report.headline_nb, report.headline_en, report.definitions_version)
    assert report.data["statistics"]["totals"]["participants"] == 2
    account_delete(user=participant)
    report = ParticipationReport.objects.get(pk=report.pk)
    assert (report.data, report.headline_nb, report.headline_en, report.definitions_version) == (
        frozen
    )
    # Freezing again returns the stored report, not a recount.
    assert report_freeze(study=study).data == frozen[0]


def test_the_deleted_participants_items_show_as_deleted_participant_on_the_page(
    client, participant
):
    contribution = ContributionFactory(author=participant, title="An idea worth keeping")
    account_delete(user=participant)
    content = client.get(f"/studies/{contribution.study.slug}/").content.decode()
    assert "An idea worth keeping" in content
    assert "Kari Nordmann" not in content
    assert "kari@example.org" not in content
    assert "Slettet deltaker" in content


def test_the_last_coordinator_of_an_open_study_cannot_delete_their_account(participant):
    study = StudyFactory(title="Digital assistent", status=StudyStatus.OPEN)
    MembershipFactory(study=study, user=participant, role=Role.COORDINATOR)
    with pytest.raises(AccountDeletionRefused) as refused:
        account_delete(user=participant)
    [reason] = refused.value.reasons
    assert "Digital assistent" in reason
    participant.refresh_from_db()
    assert participant.email == "kari@example.org" and participant.is_active
    assert EmailAddress.objects.filter(user=participant).exists()


def test_a_coordinator_can_delete_their_account_once_another_coordinator_exists(participant):
    study = StudyFactory(status=StudyStatus.OPEN)
    MembershipFactory(study=study, user=participant, role=Role.COORDINATOR)
    MembershipFactory(study=study, role=Role.COORDINATOR)
    account_delete(user=participant)
    participant.refresh_from_db()
    assert participant.deleted_at is not None


def test_the_last_coordinator_of_a_closed_study_can_delete_their_account(participant):
    study = StudyFactory(status=StudyStatus.CLOSED)
    MembershipFactory(study=study, user=participant, role=Role.COORDINATOR)
    account_delete(user=participant)
    participant.refresh_from_db()
    assert participant.deleted_at is not None


def test_the_delete_page_explains_the_way_out_to_the_last_coordinator(client, participant):
    study = StudyFactory(title="Digital assistent", status=StudyStatus.OPEN)
    MembershipFactory(study=study, user=participant, role=Role.COORDINATOR)
    client.cookies["django_language"] = "en"
    sign_in(client, participant)
    reauthenticate(client)
    response = client.post(reverse("account_delete"), {"confirm": "on"})
    assert response.status_code == 400
    content = response.content.decode()
    assert "last coordinator of “Digital assistent”" in content
    assert "Make another member coordinator, or close the study" in content
    participant.refresh_from_db()
    assert participant.deleted_at is None


def test_deleting_through_the_page_signs_out_and_the_old_password_no_longer_works(
    client, participant
):
    sign_in(client, participant)
    response = client.get(reverse("account_delete"))
    assert response.status_code == 302  # asks for the password again first
    assert response.url.startswith(reverse("account_reauthenticate"))
    reauthenticate(client)
    response = client.post(reverse("account_delete"), {"confirm": "on"})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    participant.refresh_from_db()
    assert participant.deleted_at is not None
    response = client.post(
        reverse("account_login"), {"login": "kari@example.org", "password": PASSWORD}
    )
    assert "_auth_user_id" not in client.session


def test_deleting_needs_the_confirmation_box(client, participant):
    sign_in(client, participant)
    reauthenticate(client)
    response = client.post(reverse("account_delete"), {})
    assert response.status_code == 400
    participant.refresh_from_db()
    assert participant.deleted_at is None


def test_a_deleted_account_gets_no_notifications(participant):
    account_delete(user=participant)
    assert notification_create(user=participant, kind="reply", title="Hello") is None
    assert not Notification.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.post(reverse("account_delete"), {"confirm": "on"})
    assert response.status_code == 302
    assert reverse("account_login") in response.url
    assert not User.objects.filter(deleted_at__isnull=False).exists()
