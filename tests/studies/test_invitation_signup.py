"""Invited before having an account: sign up, verify the address, land on the invitation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studies.models import Joining, Membership, MembershipStatus, Role, StudyStatus, Visibility
from tests.factories import MembershipFactory, StudyFactory, UserFactory
from tests.studies.factories import make_invitation

PASSWORD = "a-Long-pass-9876"


@pytest.fixture
def study(db, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    return StudyFactory(joining=Joining.INVITATION, visibility=Visibility.MEMBERS)


def _sign_up_from_invitation(client, token: str, email: str) -> str:
    """Open the invitation signed out, follow its sign-up link; returns the confirmation path."""
    page = client.get(reverse("studies:invitation", args=[token]))
    signup = re.search(r'href="([^"]*/signup/\?next=[^"]*)"', page.content.decode()).group(1)
    response = client.post(
        signup.replace("&amp;", "&"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "display_name": "New"},
    )
    assert response.status_code == 302
    return response


def _confirmation_path(mailoutbox) -> str:
    return re.search(r"https?://[^/\s]+(/\S*confirm-email/\S+/)", mailoutbox[-1].body).group(1)


def test_sign_up_and_verification_in_the_same_browser_return_to_the_invitation(
    client, study, mailoutbox
):
    _, token = make_invitation(study, "new@example.org")
    invitation_url = reverse("studies:invitation", args=[token])
    _sign_up_from_invitation(client, token, "new@example.org")
    assert not Membership.objects.filter(study=study).exists()  # not before verification
    confirmed = client.post(_confirmation_path(mailoutbox))
    assert confirmed.status_code == 302
    assert confirmed["Location"] == invitation_url
    page = client.get(invitation_url)
    assert page.status_code == 200
    assert "Accept and join" in page.content.decode()
    response = client.post(invitation_url, {"consent_named": "on"})
    assert response["Location"] == reverse("study_detail", args=[study.slug])
    membership = Membership.objects.get(study=study, user__email="new@example.org")
    assert membership.role == Role.CONTRIBUTOR and membership.consent_named


def test_verification_in_another_browser_leaves_the_invitation_waiting_on_the_home_page(
    client, study, mailoutbox
):
    _, token = make_invitation(study, "new@example.org")
    _sign_up_from_invitation(client, token, "new@example.org")
    other = Client()
    other.post(_confirmation_path(mailoutbox))
    assert EmailAddress.objects.get(email="new@example.org").verified
    assert (
        other.post(
            reverse("account_login"), {"login": "new@example.org", "password": PASSWORD}
        ).status_code
        == 302
    )
    home = other.get(reverse("home")).content.decode()
    assert "Invitations waiting for you" in home
    link = re.search(r'href="(/studies/invitation/waiting/\d+/)"', home).group(1)
    assert other.get(link).status_code == 200
    response = other.post(link, {})
    assert response["Location"] == reverse("study_detail", args=[study.slug])
    assert Membership.objects.filter(study=study, user__email="new@example.org").exists()
    # Used: it no longer waits, and its address stops working.
    assert "Invitations waiting for you" not in other.get(reverse("home")).content.decode()
    assert other.get(link).status_code == 404


@pytest.mark.parametrize(
    "case", ["other_person", "unverified", "expired", "used", "closed", "member", "anonymous"]
)
def test_a_waiting_invitation_is_found_only_by_its_verified_addressee(client, study, case):
    invitation, _ = make_invitation(
        study,
        "inv@example.org",
        **({"expires_at": timezone.now() - timedelta(minutes=1)} if case == "expired" else {}),
    )
    person = UserFactory(email="other@example.org" if case == "other_person" else "inv@example.org")
    if case == "unverified":
        EmailAddress.objects.filter(user=person).update(verified=False)
    if case == "used":
        invitation.accepted_at = timezone.now()
        invitation.save()
    if case == "closed":
        study.status = StudyStatus.CLOSED
        study.save()
    if case == "member":
        MembershipFactory(study=study, user=person, status=MembershipStatus.ACTIVE)
    if case != "anonymous":
        client.force_login(person)
    url = reverse("studies:invitation_waiting", args=[invitation.pk])
    response = client.post(url, {})
    if case == "anonymous":
        assert response.status_code == 302 and reverse("account_login") in response["Location"]
    else:
        assert response.status_code == 404
    assert "Invitations waiting for you" not in client.get(reverse("home")).content.decode()
    assert Membership.objects.filter(study=study).count() == (1 if case == "member" else 0)
    invitation.refresh_from_db()
    assert (invitation.accepted_at is not None) == (case == "used")
