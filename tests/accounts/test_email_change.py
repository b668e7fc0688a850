"""Changing the e-mail address: only after verifying the new one; never to one in use."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from tests.accounts.conftest import last_link, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(client):
    user = UserFactory(email="old@example.org")
    sign_in(client, user)
    return user


def test_a_new_address_takes_effect_only_after_it_is_verified(client, person):
    response = client.post(reverse("account_email"), {"action_add": "", "email": "new@example.org"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.email == "old@example.org"  # not yet
    assert mail.outbox[-1].to == ["new@example.org"]
    assert EmailAddress.objects.get(user=person, email="new@example.org").verified is False

    link = last_link(r"http://testserver/accounts/confirm-email/[^\s]+/")
    assert client.post(link).status_code == 302
    person.refresh_from_db()
    assert person.email == "new@example.org"
    assert list(EmailAddress.objects.filter(user=person).values_list("email", flat=True)) == [
        "new@example.org"
    ]


def test_an_unverified_new_address_cannot_be_used_to_sign_in(client, person):
    client.post(reverse("account_email"), {"action_add": "", "email": "new@example.org"})
    client.post(reverse("account_logout"))
    response = client.post(
        reverse("account_login"), {"login": "new@example.org", "password": "x" * 12}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_changing_to_an_address_in_use_is_refused_with_a_clear_error(client, person):
    UserFactory(email="taken@example.org")
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "Taken@Example.org"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.has_error("email", "email_taken")
    assert "Another account already uses this e-mail address" in response.content.decode()
    assert not EmailAddress.objects.filter(user=person, email__iexact="taken@example.org").exists()
    assert not mail.outbox
    person.refresh_from_db()
    assert person.email == "old@example.org"


def test_the_error_is_in_bokmal_by_default(client, person):
    UserFactory(email="taken@example.org")
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "taken@example.org"}
    )
    assert "En annen konto bruker allerede denne e-postadressen" in response.content.decode()


def test_changing_to_my_own_address_is_refused(client, person):
    response = client.post(reverse("account_email"), {"action_add": "", "email": "old@example.org"})
    assert response.status_code == 200
    assert response.context["form"].errors
