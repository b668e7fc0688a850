"""People are shown by the name they chose, never by their e-mail address or a part of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from contributions.models import Contribution
from studies.models import Membership, Role
from tests.factories import PASSWORD, MembershipFactory, StudyFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_by_default")]


def test_sign_up_asks_for_the_name_to_show(client):
    page = client.get(reverse("account_signup")).content.decode()
    assert 'name="display_name"' in page
    response = client.post(
        reverse("account_signup"),
        {
            "email": "kari.nordmann@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "display_name": "  Kari   Nordmann ",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="kari.nordmann@example.org").display_name == "Kari Nordmann"


@pytest.mark.parametrize("name", ["", "   "])
def test_sign_up_without_a_name_is_refused_clearly(client, name):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "kari.nordmann@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "display_name": name,
        },
    )
    assert response.status_code == 200
    assert "Please give the name to show beside what you post." in response.content.decode()
    assert not User.objects.exists()


def test_a_person_without_a_name_is_never_shown_by_their_address():
    person = UserFactory(email="kari.nordmann@example.org", display_name="")
    assert "kari" not in person.public_name.lower()
    assert "@" not in str(person)


def test_joining_without_a_name_asks_for_one_first_and_then_goes_on(client):
    study = StudyFactory()
    person = UserFactory(email="sso.person@example.org", display_name="")
    client.force_login(person)
    join = reverse("studies:join", args=[study.slug])
    response = client.get(join)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("public_name"))
    page = client.get(response["Location"])
    assert "never shown" in page.content.decode()
    saved = client.post(reverse("public_name"), {"display_name": "Sso Person", "next": join})
    assert saved["Location"] == join
    person.refresh_from_db()
    assert person.display_name == "Sso Person"
    assert client.get(join).status_code == 200


def test_the_name_page_refuses_an_empty_name_and_a_foreign_next(client):
    person = UserFactory(display_name="")
    client.force_login(person)
    response = client.post(reverse("public_name"), {"display_name": " ", "next": "/"})
    assert response.status_code == 400
    person.refresh_from_db()
    assert person.display_name == ""
    response = client.post(
        reverse("public_name"), {"display_name": "Named", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("profile")


def test_posting_without_a_name_is_refused_with_the_way_to_choose_one(client):
    study = StudyFactory()
    membership = MembershipFactory(study=study, role=Role.CONTRIBUTOR)
    User.objects.filter(pk=membership.user_id).update(display_name="")
    client.force_login(User.objects.get(pk=membership.user_id))
    response = client.post(
        reverse("contribution_list", args=[study.slug]),
        {"title": "An idea", "body": "Text", "kind": "idea", "idempotency_key": "k" * 32},
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "choose the name to show" in html and reverse("public_name") in html
    assert not Contribution.objects.exists()
    assert Membership.objects.filter(study=study).count() == 1


@pytest.mark.parametrize("target", ["²", "profile", "https://evil.example/", "//evil.example/"])
def test_the_name_page_goes_only_to_a_path_on_this_site(client, target):
    from django.urls import reverse

    user = UserFactory(display_name="")
    client.force_login(user)
    response = client.post(
        reverse("public_name"), {"display_name": "Kari Nordmann", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("profile")
