"""The foundation's sign-up, verification and sign-in flows (allauth, e-mail only)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.accounts.conftest import last_link, sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another long passphrase 42"


def _sign_up(client, email="new@example.org"):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "display_name": "Ny Person"},
    )


def test_sign_up_sends_a_verification_email_and_does_not_sign_in(client):
    response = _sign_up(client)
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.org"]
    assert "/accounts/confirm-email/" in mail.outbox[0].body
    assert "_auth_user_id" not in client.session
    assert User.objects.get(email="new@example.org").emailaddress_set.get().verified is False


def test_following_the_verification_link_verifies_and_signs_in(client):
    _sign_up(client)
    link = last_link(r"http://testserver/accounts/confirm-email/[^\s]+/")
    assert client.get(link).status_code == 200  # a page to confirm on; GET changes nothing
    response = client.post(link)
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert user.emailaddress_set.get().verified is True
    assert client.session["_auth_user_id"] == str(user.pk)


def test_an_unverified_person_cannot_sign_in(client):
    user = UserFactory(verified=False)
    user.save()  # keeps the factory's password
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert mail.outbox and mail.outbox[-1].to == [user.email]


def test_a_verified_person_signs_in_by_email_and_password(client):
    user = UserFactory()
    sign_in(client, user)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_password_does_not_sign_in(client):
    user = UserFactory()
    response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_person_signs_in_with_a_code_sent_by_email(client):
    user = UserFactory()
    response = client.post(reverse("account_request_login_code"), {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[0].body, re.MULTILINE).group(
        1
    )
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_sign_in_code_does_not_sign_in(client):
    user = UserFactory()
    client.post(reverse("account_request_login_code"), {"email": user.email})
    response = client.post(reverse("account_confirm_login_code"), {"code": "WRONG1"})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    user = UserFactory()
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = last_link(r"http://testserver/accounts/password/reset/key/[^\s]+/")
    response = client.get(link)
    assert response.status_code == 302  # the key moves into the session
    set_url = response.url
    response = client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_reset_for_an_unknown_address_sends_nothing_revealing(client):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    # allauth tells the address owner that nobody has an account, never the asker.
    assert all("nobody@example.org" in m.to for m in mail.outbox)
