"""Organisation numbers, names and sectors: through the profile form and the service."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Affiliation, Organisation
from accounts.services import organisation_create
from tests.factories import OrganisationFactory, UserFactory, login_as, sign_in_with_second_factor

pytestmark = pytest.mark.django_db

VALID = "974760673"  # the Brønnøysund Register Centre's own number


def _propose(client, **data):
    payload = {"name": "Testetaten", "org_number": "", "sector": "public", "website": ""}
    payload.update(data)
    return client.post(reverse("organisation_propose"), payload)


@pytest.fixture
def person(client):
    user = UserFactory()
    login_as(client, user)
    return user


def test_a_valid_number_with_spaces_is_stored_as_nine_digits_and_affiliated(client, person):
    response = _propose(client, org_number="974 760 673")
    assert response.status_code == 302
    organisation = Organisation.objects.get()
    assert organisation.org_number == VALID
    assert organisation.created_by == person
    assert Affiliation.objects.filter(user=person, organisation=organisation).exists()


@pytest.mark.parametrize(
    "number,code",
    [
        ("974760674", "check_digit"),
        ("97476067", "length"),
        ("9747606731", "length"),
        ("97476067A", "not_digits"),
    ],
)
def test_a_bad_number_is_refused_by_the_form_and_nothing_is_saved(client, person, number, code):
    response = _propose(client, org_number=number)
    assert response.status_code == 400
    form = response.context["organisation_form"]
    assert form.has_error("org_number", code)
    assert not Organisation.objects.exists()
    assert not Affiliation.objects.exists()


@pytest.mark.parametrize(
    "number,code",
    [("974760674", "check_digit"), ("1234", "length"), ("abcdefghi", "not_digits")],
)
def test_a_bad_number_is_refused_by_the_service(number, code):
    with pytest.raises(ValidationError) as refused:
        organisation_create(name="Testetaten", sector="public", org_number=number)
    assert code in {e.code for e in refused.value.error_dict["org_number"]}
    assert not Organisation.objects.exists()


def test_a_duplicate_number_is_refused_with_a_clear_error(client, person):
    OrganisationFactory(org_number=VALID, name="Brønnøysundregistrene")
    response = _propose(client, org_number=VALID, name="Copy")
    assert response.status_code == 400
    assert response.context["organisation_form"].has_error("org_number", "unique")
    assert Organisation.objects.count() == 1
    with pytest.raises(ValidationError):
        organisation_create(name="Copy", sector="public", org_number=VALID)
    assert Organisation.objects.count() == 1


def test_an_over_long_name_is_refused(client, person):
    response = _propose(client, name="x" * 201)
    assert response.status_code == 400
    assert response.context["organisation_form"].has_error("name", "max_length")
    with pytest.raises(ValidationError):
        organisation_create(name="x" * 201, sector="public")
    assert not Organisation.objects.exists()


def test_a_blank_name_is_refused(client, person):
    response = _propose(client, name="   ")
    assert response.status_code == 400
    assert response.context["organisation_form"].has_error("name")
    assert not Organisation.objects.exists()


def test_an_unknown_sector_is_refused(client, person):
    response = _propose(client, sector="government")
    assert response.status_code == 400
    assert response.context["organisation_form"].has_error("sector", "invalid_choice")
    with pytest.raises(ValidationError):
        organisation_create(name="Testetaten", sector="government")
    assert not Organisation.objects.exists()


def test_an_organisation_without_a_number_is_accepted(client, person):
    assert _propose(client).status_code == 302
    assert Organisation.objects.get().org_number is None


def test_proposing_needs_a_signed_in_person(client):
    response = _propose(client)
    assert response.status_code == 302
    assert reverse("account_login") in response.url
    assert not Organisation.objects.exists()


def test_the_profile_page_shows_my_organisations_and_the_picker(client, person):
    mine = OrganisationFactory(name="Digdir")
    Affiliation.objects.create(user=person, organisation=mine)
    response = client.get(reverse("profile"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Digdir" in content
    assert f'hx-get="{reverse("organisation_lookup")}"' in content
    assert 'action="/me/organisations/propose/"' in content


def test_the_lookup_finds_organisations_by_name_and_number(client, person):
    OrganisationFactory(name="Digitaliseringsdirektoratet", org_number=VALID)
    OrganisationFactory(name="Skatteetaten")
    by_name = client.get(reverse("organisation_lookup"), {"q": "digital"}).content.decode()
    assert "Digitaliseringsdirektoratet" in by_name and "Skatteetaten" not in by_name
    by_number = client.get(reverse("organisation_lookup"), {"q": "974 76"}).content.decode()
    assert "Digitaliseringsdirektoratet" in by_number


def test_the_lookup_leaves_out_merged_organisations(client, person):
    canonical = OrganisationFactory(name="Nav")
    OrganisationFactory(name="Nav old", merged_into=canonical)
    content = client.get(reverse("organisation_lookup"), {"q": "nav"}).content.decode()
    assert "Nav old" not in content


def test_joining_an_organisation_from_the_picker_affiliates_me(client, person):
    organisation = OrganisationFactory()
    response = client.post(reverse("organisation_join"), {"organisation": organisation.pk})
    assert response.status_code == 302
    assert Affiliation.objects.filter(user=person, organisation=organisation).exists()


def test_leaving_someone_elses_affiliation_is_not_found(client, person):
    organisation = OrganisationFactory()
    Affiliation.objects.create(user=UserFactory(), organisation=organisation)
    response = client.post(reverse("organisation_leave", args=[organisation.pk]))
    assert response.status_code == 404
    assert Affiliation.objects.count() == 1


def test_the_display_name_is_saved_and_a_blank_one_refused(client, person):
    response = client.post(
        reverse("profile"),
        {"display_name": "  Kari Nordmann ", "language": "en", "digest_frequency": "weekly"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.display_name, person.language, person.digest_frequency) == (
        "Kari Nordmann",
        "en",
        "weekly",
    )
    response = client.post(
        reverse("profile"), {"display_name": " ", "language": "en", "digest_frequency": "weekly"}
    )
    assert response.status_code == 400
    person.refresh_from_db()
    assert person.display_name == "Kari Nordmann"


def test_an_over_long_display_name_is_refused(client, person):
    response = client.post(
        reverse("profile"),
        {"display_name": "x" * 81, "language": "nb", "digest_frequency": "daily"},
    )
    assert response.status_code == 400
    assert response.context["form"].has_error("display_name", "max_length")


def test_the_lookup_needs_a_signed_in_person(client):
    OrganisationFactory(name="Digdir")
    response = client.get(reverse("organisation_lookup"), {"q": "dig"})
    assert response.status_code == 302
    assert "Digdir" not in response.content.decode()


def test_the_admin_lists_account_models(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in_with_second_factor(client, staff)
    for path in (
        "/admin/accounts/user/",
        "/admin/accounts/notification/",
        "/admin/accounts/digestrun/",
        "/admin/accounts/dataexport/",
        f"/admin/accounts/user/{staff.pk}/change/",
    ):
        assert client.get(path).status_code == 200, path


def test_the_admin_cannot_merge_organisations_around_the_registry(client):
    """merged_into is read-only in the admin: merges go through the registry's checks."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in_with_second_factor(client, staff)
    first = OrganisationFactory(name="Alpha")
    second = OrganisationFactory(name="Beta")
    url = f"/admin/accounts/organisation/{first.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="merged_into"' not in page.content.decode()
    response = client.post(
        url,
        {
            "name": "Alpha",
            "org_number": first.org_number or "",
            "sector": first.sector,
            "website": first.website,
            "merged_into": second.pk,
        },
    )
    assert response.status_code in (200, 302)
    first.refresh_from_db()
    assert first.merged_into_id is None


def test_the_admin_takes_a_website_without_a_scheme_as_https(client, recwarn):
    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in_with_second_factor(client, staff)
    body = OrganisationFactory(name="Alpha")
    response = client.post(
        f"/admin/accounts/organisation/{body.pk}/change/",
        {
            "name": "Alpha",
            "org_number": body.org_number or "",
            "sector": body.sector,
            "website": "alpha.example.org",
            "created_at_0": body.created_at.strftime("%Y-%m-%d"),
            "created_at_1": body.created_at.strftime("%H:%M:%S"),
            # The e-mail domains inline: none.
            "domains-TOTAL_FORMS": "0",
            "domains-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    body.refresh_from_db()
    assert body.website == "https://alpha.example.org"
    assert not [w for w in recwarn if "assume_scheme" in str(w.message)]
