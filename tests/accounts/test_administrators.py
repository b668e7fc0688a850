"""Platform administrators: the administrators page, createadmin, and the one check."""

from __future__ import annotations

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts import administrators as admins
from accounts.models import User
from tests.factories import UserFactory, give_mfa, login_as

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_by_default")]


@pytest.fixture
def administrator(db):
    return give_mfa(UserFactory(is_administrator=True, display_name="Ada Admin"))


@pytest.fixture
def admin_client(client, administrator):
    login_as(client, administrator)
    return client


def flags() -> list:
    return sorted(User.objects.values_list("pk", "is_administrator"))


def test_is_administrator_is_the_role_not_djangos_staff_flag():
    assert admins.is_administrator(UserFactory(is_administrator=True))
    assert not admins.is_administrator(UserFactory(is_staff=True, is_superuser=True))
    assert not admins.is_administrator(UserFactory(is_administrator=True, is_active=False))
    assert not admins.is_administrator(None)


def test_the_page_lists_the_administrators(admin_client, administrator):
    other = UserFactory(is_administrator=True, display_name="Bo Admin")
    UserFactory(display_name="Not An Admin")
    html = admin_client.get(reverse("administrators")).content.decode()
    assert "Ada Admin" in html and "Bo Admin" in html and "Not An Admin" not in html
    # One cannot remove oneself from the page; others have a button.
    assert reverse("administrator_remove", args=[other.pk]) in html
    assert reverse("administrator_remove", args=[administrator.pk]) not in html


def test_an_administrator_adds_a_person_by_the_address_of_their_account(admin_client):
    person = UserFactory(email="new.admin@example.org", display_name="New Admin")
    response = admin_client.post(reverse("administrators"), {"email": "New.Admin@example.org"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.is_administrator
    assert (
        "New Admin is now an administrator."
        in admin_client.get(reverse("administrators")).content.decode()
    )


@pytest.mark.parametrize(
    "email, message",
    [
        ("nobody@example.org", "No one has an account with the address nobody@example.org"),
        ("", "Give the e-mail address of the person to add."),
        ("not an address", "This is not an e-mail address."),
    ],
)
def test_adding_someone_who_does_not_exist_is_refused_clearly(admin_client, email, message):
    before = flags()
    response = admin_client.post(reverse("administrators"), {"email": email})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert flags() == before


def test_adding_an_administrator_twice_says_so(admin_client):
    UserFactory(email="twice@example.org", display_name="Twice", is_administrator=True)
    response = admin_client.post(reverse("administrators"), {"email": "twice@example.org"})
    assert response.status_code == 400
    assert "Twice is already an administrator." in response.content.decode()


def test_an_administrator_removes_another(admin_client):
    other = UserFactory(is_administrator=True, display_name="Bo Admin")
    response = admin_client.post(reverse("administrator_remove", args=[other.pk]), follow=True)
    other.refresh_from_db()
    assert not other.is_administrator
    assert "Bo Admin is no longer an administrator." in response.content.decode()


def test_an_administrator_cannot_demote_themselves(admin_client, administrator):
    UserFactory(is_administrator=True)
    before = flags()
    response = admin_client.post(
        reverse("administrator_remove", args=[administrator.pk]), follow=True
    )
    assert "You cannot remove yourself as administrator." in response.content.decode()
    assert flags() == before


def test_the_last_administrator_is_never_removed(administrator):
    # The one who asks was removed a moment ago by someone else (a stale object):
    # the administrator they would remove is the last one, and stays.
    stale = UserFactory(is_administrator=True)
    User.objects.filter(pk=stale.pk).update(is_administrator=False)
    with pytest.raises(ValidationError, match="is the last administrator"):
        admins.administrator_remove(person=administrator, by=stale)
    administrator.refresh_from_db()
    assert administrator.is_administrator


def test_the_page_needs_two_factor(client, settings):
    settings.DUGNAD_REQUIRE_MFA = True
    client.force_login(UserFactory(is_administrator=True))
    response = client.get(reverse("administrators"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("page", ["administration", "administration_studies", "administrators"])
def test_administrator_pages_refuse_everyone_else(client, page, settings):
    settings.DUGNAD_REQUIRE_MFA = False
    client.force_login(give_mfa(UserFactory(is_staff=True, is_superuser=True)))
    assert client.get(reverse(page)).status_code == 403


def test_administrators_see_administration_in_the_navigation(admin_client, client):
    html = admin_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("administration")}"' in html
    page = admin_client.get(reverse("administration")).content.decode()
    for name in ("reports:platform", "reports:organisations", "administrators", "studies:create"):
        assert f'href="{reverse(name)}"' in page
    client.force_login(UserFactory())
    assert f'href="{reverse("administration")}"' not in client.get(reverse("home")).content.decode()


# --- manage.py createadmin ---------------------------------------------------------------


def test_createadmin_creates_the_first_administrator_and_says_what_to_do_next():
    out = StringIO()
    call_command("createadmin", "first@example.org", "--name", "First", "--no-input", stdout=out)
    person = User.objects.get(email="first@example.org")
    assert person.is_administrator and not person.is_staff
    assert person.display_name == "First"
    assert EmailAddress.objects.get(user=person).verified
    text = out.getvalue()
    assert "Created first@example.org as platform administrator." in text
    assert reverse("mfa_activate_totp") in text and reverse("administration") in text
    assert reverse("account_reset_password") in text  # no password yet


def test_createadmin_promotes_an_existing_account_and_keeps_its_password():
    person = UserFactory(email="known@example.org")
    password = person.password
    out = StringIO()
    call_command("createadmin", "KNOWN@example.org", "--no-input", stdout=out)
    person.refresh_from_db()
    assert person.is_administrator and person.password == password
    assert "Promoted known@example.org" in out.getvalue()
    assert reverse("account_login") in out.getvalue()


def test_createadmin_refuses_what_is_not_an_address():
    with pytest.raises(CommandError, match="not an e-mail address"):
        call_command("createadmin", "nobody", "--no-input", stdout=StringIO())
    assert not User.objects.filter(is_administrator=True).exists()
