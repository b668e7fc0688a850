"""Every staff power needs a second factor used in this session, not merely set up."""

from __future__ import annotations

import time

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from django.urls import reverse

from accounts.second_factor import second_factor_in_session
from studies.models import Invitation, Membership, Role
from tests.accounts.conftest import totp_code_for
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
    use_second_factor,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(db):
    return StudyFactory(slug="digital-assistent")


@pytest.fixture
def coordinator(study):
    user = UserFactory()
    MembershipFactory(study=study, user=user, role=Role.COORDINATOR)
    return user


def moderation_url(study) -> str:
    return reverse("moderation:queue", args=[study.slug])


def reauthenticate_url(target: str) -> str:
    return f"{reverse('mfa_reauthenticate')}?next={target.replace('/', '%2F')}"


# --- the guided page ----------------------------------------------------------------


def test_a_coordinator_with_totp_not_used_in_this_session_is_sent_to_confirm_with_it(
    client, study, coordinator
):
    give_mfa(coordinator)
    client.force_login(coordinator)  # TOTP exists, but this session never used it
    client.cookies["django_language"] = "en"
    target = moderation_url(study)
    response = client.get(target)
    assert response.status_code == 302
    assert response.url == reauthenticate_url(target)
    page = client.get(response.url)
    assert page.status_code == 200
    messages = [str(m) for m in page.context["messages"]]
    assert any("second factor in this session" in m for m in messages), messages
    assert "mfa_next" not in client.session  # nothing to set up


def test_a_coordinator_without_totp_is_sent_to_set_it_up(client, study, coordinator):
    client.force_login(coordinator)
    response = client.get(moderation_url(study))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    assert client.session["mfa_next"] == moderation_url(study)


def test_after_confirming_with_a_code_the_coordinator_continues_where_they_were(
    client, study, coordinator
):
    give_mfa(coordinator)
    client.force_login(coordinator)
    target = moderation_url(study)
    response = client.get(target)
    response = client.post(response.url, {"code": totp_code_for(coordinator)})
    assert response.status_code == 302
    assert response.url == target
    assert client.get(target).status_code == 200


def test_a_wrong_code_does_not_open_the_staff_pages(client, study, coordinator):
    give_mfa(coordinator)
    client.force_login(coordinator)
    target = moderation_url(study)
    response = client.post(reauthenticate_url(target), {"code": "000000"})
    assert response.status_code == 200  # the form again, with an error
    assert client.get(target).status_code == 302


def test_signing_in_with_password_and_totp_counts_as_the_second_factor(client, study, coordinator):
    give_mfa(coordinator)
    response = client.post(
        reverse("account_login"), {"login": coordinator.email, "password": PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")
    assert client.get(moderation_url(study)).status_code == 302  # not signed in yet
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code_for(coordinator)})
    assert response.status_code == 302
    assert client.get(moderation_url(study)).status_code == 200


def test_removing_totp_ends_the_proof_of_this_session(client, study, coordinator):
    give_mfa(coordinator)
    use_second_factor(client, coordinator)
    client.force_login(coordinator)
    use_second_factor(client, coordinator)
    assert client.get(moderation_url(study)).status_code == 200
    Authenticator.objects.filter(user=coordinator).delete()
    response = client.get(moderation_url(study))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_another_persons_record_in_the_session_does_not_count(rf, coordinator):
    """allauth keys its records to one account; a record for someone else is ignored."""
    other = give_mfa(UserFactory())
    give_mfa(coordinator)
    request = rf.get("/")
    request.user = coordinator
    request.session = {
        AUTHENTICATION_METHODS_SESSION_KEY: [
            {"method": "mfa", "at": time.time(), "id": other.pk, "type": "totp"}
        ],
        "account_authentication_methods_user": str(other.pk),
    }
    assert not second_factor_in_session(request)


def test_a_password_record_is_not_a_second_factor(rf, coordinator):
    give_mfa(coordinator)
    request = rf.get("/")
    request.user = coordinator
    request.session = {
        AUTHENTICATION_METHODS_SESSION_KEY: [{"method": "password", "at": time.time()}],
        "account_authentication_methods_user": str(coordinator.pk),
    }
    assert not second_factor_in_session(request)


def test_an_htmx_request_is_told_where_to_confirm(client, study, coordinator):
    give_mfa(coordinator)
    client.force_login(coordinator)
    response = client.get(moderation_url(study), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response["HX-Redirect"].startswith(reverse("mfa_reauthenticate"))


def test_development_without_mfa_still_works(client, study, coordinator, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    client.force_login(coordinator)
    assert client.get(moderation_url(study)).status_code == 200


# --- role changes and invitations by a coordinator -----------------------------------


def test_a_coordinator_without_the_second_factor_cannot_promote_an_account(
    client, study, coordinator
):
    """Today's attack: promote an account of one's own, then export named data through it."""
    give_mfa(coordinator)
    accomplice = MembershipFactory(study=study, role=Role.CONTRIBUTOR)
    client.force_login(coordinator)
    url = reverse("studies:member_role", args=[study.slug, accomplice.pk])
    response = client.post(url, {"role": Role.COORDINATOR})
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_reauthenticate"))
    accomplice.refresh_from_db()
    assert accomplice.role == Role.CONTRIBUTOR


def test_a_coordinator_without_totp_cannot_invite(client, study, coordinator):
    client.force_login(coordinator)
    response = client.post(
        reverse("studies:invitations", args=[study.slug]),
        {"form": "list", "list-addresses": "new@example.org"},
    )
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    assert not Invitation.objects.exists()


def test_with_the_second_factor_the_coordinator_changes_a_role(client, study, coordinator):
    accomplice = MembershipFactory(study=study, role=Role.CONTRIBUTOR)
    client.force_login(coordinator)
    use_second_factor(client, coordinator)
    url = reverse("studies:member_role", args=[study.slug, accomplice.pk])
    client.post(url, {"role": Role.FACILITATOR})
    assert Membership.objects.get(pk=accomplice.pk).role == Role.FACILITATOR


# --- platform administrators ---------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["reports:platform", "reports:organisations", "studies:create", "administration"]
)
def test_administrator_pages_ask_administrators_for_the_second_factor(client, name):
    staff = give_mfa(UserFactory(is_administrator=True))
    client.force_login(staff)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_reauthenticate"))
    use_second_factor(client, staff)
    assert client.get(reverse(name)).status_code == 200


# --- the Django admin ----------------------------------------------------------------


def test_the_admin_login_does_not_sign_in_with_a_password_alone(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_admin_sends_a_password_only_staff_session_to_confirm_with_totp(client):
    staff = give_mfa(UserFactory(is_staff=True, is_superuser=True))
    client.force_login(staff)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("mfa_reauthenticate"))
    use_second_factor(client, staff)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_sends_staff_without_totp_to_set_it_up(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get(reverse("admin:index"), follow=True)
    # allauth asks for the password again before a second factor is set up.
    assert (reverse("mfa_activate_totp"), 302) in response.redirect_chain


def test_signing_in_to_the_admin_goes_through_allauth_with_totp(client):
    staff = give_mfa(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:index"), follow=True)
    login_url = response.redirect_chain[-1][0]
    assert login_url.startswith(reverse("account_login"))
    response = client.post(login_url, {"login": staff.email, "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code_for(staff)}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("admin:index")


def test_the_admin_refuses_signed_in_people_who_are_not_staff(client):
    person = give_mfa(UserFactory())
    client.force_login(person)
    use_second_factor(client, person)
    assert client.get(reverse("admin:login")).status_code == 403
