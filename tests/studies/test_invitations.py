"""Invitation-only studies: inviting by list or CSV, e-mails after commit, single-use tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from studies.models import Invitation, Joining, Membership, Role, Visibility
from studies.services import invitation_token_hash
from tests.factories import MembershipFactory, StudyFactory, UserFactory
from tests.studies.factories import make_invitation


@pytest.fixture
def study(db, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    return StudyFactory(joining=Joining.INVITATION, visibility=Visibility.MEMBERS)


@pytest.fixture
def coordinator_client(client, study):
    client.force_login(MembershipFactory(study=study, role=Role.COORDINATOR).user)
    return client


def invite_list(client, study, text: str):
    return client.post(
        reverse("studies:invitations", args=[study.slug]), {"form": "list", "list-addresses": text}
    )


def invite_csv(client, study, content: bytes, name="people.csv", content_type="text/csv"):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(
        reverse("studies:invitations", args=[study.slug]), {"form": "csv", "csv-file": upload}
    )


def test_invitations_are_e_mailed_after_the_transaction_commits(
    coordinator_client, study, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = invite_list(
            coordinator_client, study, "a@example.org, b@example.org\nA@example.org"
        )
    assert response.status_code == 200
    assert "2 invitations are on their way" in response.content.decode()
    assert Invitation.objects.filter(study=study).count() == 2
    assert mailoutbox == []  # nothing is sent before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(m.to[0] for m in mailoutbox) == ["a@example.org", "b@example.org"]
    token = re.search(r"/studies/invitation/([\w-]+)/", mailoutbox[0].body).group(1)
    stored = Invitation.objects.get(email=mailoutbox[0].to[0]).token
    assert stored == invitation_token_hash(token)  # only the hash is kept
    assert token not in stored


def test_one_malformed_address_invites_nobody(coordinator_client, study, mailoutbox):
    response = invite_list(coordinator_client, study, "good@example.org, not-an-address, x@")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was sent" in html
    assert "not-an-address" in html and "x@" in html
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_members_and_people_already_invited_are_skipped_with_a_reason(coordinator_client, study):
    MembershipFactory(study=study, user=UserFactory(email="member@example.org"))
    make_invitation(study, "waiting@example.org")
    response = invite_list(
        coordinator_client, study, "member@example.org waiting@example.org new@example.org"
    )
    html = response.content.decode()
    assert "member@example.org: already a member" in html
    assert "waiting@example.org: already invited" in html
    assert Invitation.objects.filter(study=study).count() == 2


def test_csv_reports_each_bad_row_by_line_and_invites_the_good_ones(
    coordinator_client, study, mailoutbox, django_capture_on_commit_callbacks
):
    content = (
        b"email,name\n"
        b"kari@example.org,Kari\n"
        b"not an address,Ola\n"
        b",Nobody\n"
        b"per@example.org;x\n"
        b"kari@example.org,Kari again\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = invite_csv(coordinator_client, study, content)
    assert response.status_code == 200
    errors = [(e.line, e.reason) for e in response.context["row_errors"]]
    assert errors == [
        (3, "not a valid e-mail address"),
        (4, "no e-mail address in the first column"),
        (5, "not a valid e-mail address"),
        (6, "listed twice in the file"),
    ]
    assert "Line 3" in response.content.decode()
    assert list(Invitation.objects.values_list("email", flat=True)) == ["kari@example.org"]
    assert [m.to for m in mailoutbox] == [["kari@example.org"]]


def test_semicolon_separated_csv_from_a_spreadsheet_is_read(coordinator_client, study):
    content = "E-post;Navn\r\nanne@example.org;Anne\r\nbo@example.org;Bo\r\n".encode("cp1252")
    invite_csv(coordinator_client, study, content)
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "anne@example.org",
        "bo@example.org",
    ]


@pytest.mark.parametrize(
    "content, name, content_type, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "people.csv", "text/csv", "not a CSV file"),
        (b"a@example.org\n", "people.xlsx", "application/octet-stream", "not a CSV file"),
        (b"a@example.org\n", "people.csv", "image/png", "not a CSV file"),
        (b"a@example.org\n" * 8000, "people.csv", "text/csv", "too large"),
        (b"", "people.csv", "text/csv", "empty"),
    ],
)
def test_a_file_that_is_not_a_usable_csv_invites_nobody(
    coordinator_client, study, content, name, content_type, message
):
    response = invite_csv(coordinator_client, study, content, name, content_type)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Invitation.objects.exists()


def test_closed_study_invites_nobody(coordinator_client, study):
    study.status = "closed"
    study.save()
    invite_list(coordinator_client, study, "a@example.org")
    assert not Invitation.objects.exists()


# --- Opening an invitation ---------------------------------------------------


def test_the_invited_person_accepts_once_and_joins(client, study):
    person = UserFactory(email="invitee@example.org")
    invitation, token = make_invitation(study, "Invitee@example.org")
    url = reverse("studies:invitation", args=[token])
    client.force_login(person)
    page = client.get(url)
    assert page.status_code == 200
    assert study.title in page.content.decode()
    response = client.post(url, {"consent_named": "on"})
    assert response["Location"] == reverse("study_detail", args=[study.slug])
    membership = Membership.objects.get(study=study, user=person)
    assert membership.role == Role.CONTRIBUTOR and membership.consent_named
    invitation.refresh_from_db()
    assert invitation.accepted_by == person
    # The members-only study now exists for them.
    assert client.get(reverse("study_detail", args=[study.slug])).status_code == 200


def test_a_used_invitation_cannot_be_used_again(client, study):
    invitation, token = make_invitation(study, "a@example.org")
    first = UserFactory(email="a@example.org")
    client.force_login(first)
    client.post(reverse("studies:invitation", args=[token]), {})
    client.force_login(first)
    response = client.get(reverse("studies:invitation", args=[token]))
    assert response.status_code == 410
    assert "already been used" in response.content.decode()


def test_an_expired_invitation_is_refused(client, study):
    _, token = make_invitation(
        study, "late@example.org", expires_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(UserFactory(email="late@example.org"))
    response = client.post(reverse("studies:invitation", args=[token]), {})
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not Membership.objects.filter(study=study).exists()


def test_an_invitation_opened_by_someone_else_says_so_and_joins_nobody(client, study):
    _, token = make_invitation(study, "invited@example.org")
    intruder = UserFactory(email="other@example.org")
    client.force_login(intruder)
    response = client.post(reverse("studies:invitation", args=[token]), {})
    assert response.status_code == 403
    html = response.content.decode()
    assert "sent to another e-mail address" in html
    assert "other@example.org" in html
    assert "invited@example.org" not in html  # the invited address is not revealed
    assert not Membership.objects.filter(study=study).exists()


def test_an_unknown_token_is_not_found(client, study):
    client.force_login(UserFactory())
    response = client.get(reverse("studies:invitation", args=["made-up-token"]))
    assert response.status_code == 404


def test_a_signed_out_person_is_asked_to_sign_in_first(client, study):
    _, token = make_invitation(study, "someone@example.org")
    response = client.get(reverse("studies:invitation", args=[token]))
    assert response.status_code == 200
    assert reverse("account_login") in response.content.decode()
    assert not Membership.objects.exists()


def test_a_withdrawn_invitation_stops_working(coordinator_client, study):
    invitation, token = make_invitation(study, "a@example.org")
    coordinator_client.post(reverse("studies:invitation_revoke", args=[study.slug, invitation.pk]))
    coordinator_client.force_login(UserFactory(email="a@example.org"))
    assert coordinator_client.get(reverse("studies:invitation", args=[token])).status_code == 404
