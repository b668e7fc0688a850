"""Every staff page asks the one check there is for its kind of staff.

The platform administrators' pages go through ``accounts.administrators.
require_administrator`` (the role, and a second factor in this session); the
developers' Django admin through ``config.urls.admin_has_permission`` (Django's
``is_staff``, and a second factor). Each page is tried with everyone who may
knock: nobody signed in, an ordinary person, the staff member without and with
the second factor, and a deleted or deactivated staff account.

The lists are checked against the URLconf, so a new administrator page that is
not listed here (and so not tried) fails ``test_every_administrator_page_is_tried``.
"""

from __future__ import annotations

import inspect

import pytest
from django.contrib import admin
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Affiliation, OrganisationDomain
from tests.factories import (
    AffiliationFactory,
    OrganisationFactory,
    StudyFactory,
    UserFactory,
    give_mfa,
    use_second_factor,
)

pytestmark = pytest.mark.django_db

# URL name -> whether the page answers GET (the others take only POST).
ADMINISTRATOR_PAGES = {
    "administration": True,
    "administration_studies": True,
    "administration_coordinator": True,
    "administrators": True,
    "administrator_remove": False,
    "studies:create": True,
    "reports:platform": True,
    "reports:organisations": True,
    "reports:organisation_duplicates": True,
    "reports:organisation": True,
    "reports:organisation_merge": False,
    "reports:organisation_verify": False,
    "reports:organisation_domain_add": False,
    "reports:organisation_domain_remove": False,
    "reports:organisation_representative": False,
}

# Every page under these paths is for administrators only.
ADMINISTRATOR_PREFIXES = ("administration/", "reports/platform/", "reports/organisations/")


def _routes(resolver=None, prefix: str = "", namespace: str = ""):
    """(path, name, view) for every route of the URLconf."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern, prefix + str(pattern.pattern), inner)
        elif pattern.name:
            yield prefix + str(pattern.pattern), namespace + pattern.name, pattern.callback


def _calls_require_administrator(view) -> bool:
    try:
        source = inspect.getsource(inspect.unwrap(view))
    except (OSError, TypeError):
        return False
    return "require_administrator(request)" in source


def test_every_administrator_page_is_tried():
    routes = [(path, name, view) for path, name, view in _routes() if name.split(":")[0] != "admin"]
    by_path = {name for path, name, _view in routes if path.startswith(ADMINISTRATOR_PREFIXES)}
    by_check = {name for _path, name, view in routes if _calls_require_administrator(view)}
    assert by_path <= set(ADMINISTRATOR_PAGES), by_path - set(ADMINISTRATOR_PAGES)
    assert by_check <= set(ADMINISTRATOR_PAGES), by_check - set(ADMINISTRATOR_PAGES)
    assert set(ADMINISTRATOR_PAGES) <= {name for _path, name, _view in routes}


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.DUGNAD_REQUIRE_MFA = True


@pytest.fixture
def page_url(request, db) -> str:
    """The URL of the page named by the test's ``name``, with real objects behind it."""
    name = request.node.callspec.params["name"]
    study = StudyFactory()
    organisation = OrganisationFactory()
    domain = OrganisationDomain.objects.create(organisation=organisation, domain="example.org")
    claim: Affiliation = AffiliationFactory(organisation=organisation)
    other_administrator = UserFactory(is_administrator=True)
    args = {
        "administration_coordinator": [study.slug],
        "administrator_remove": [other_administrator.pk],
        "reports:organisation": [organisation.pk],
        "reports:organisation_merge": [organisation.pk],
        "reports:organisation_verify": [organisation.pk],
        "reports:organisation_domain_add": [organisation.pk],
        "reports:organisation_domain_remove": [organisation.pk, domain.pk],
        "reports:organisation_representative": [organisation.pk, claim.pk],
    }.get(name, [])
    return reverse(name, args=args)


def _open(client, name: str, url: str):
    return client.get(url) if ADMINISTRATOR_PAGES[name] else client.post(url)


def _sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("account_login"))


def _sent_to_second_factor(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("mfa_reauthenticate"))


PAGES = pytest.mark.parametrize("name", sorted(ADMINISTRATOR_PAGES))


@PAGES
def test_nobody_signed_in_is_sent_to_sign_in(client, name, page_url):
    assert _sent_to_sign_in(_open(client, name, page_url))


@PAGES
def test_an_ordinary_person_is_refused(client, name, page_url):
    person = give_mfa(UserFactory())
    client.force_login(person)
    use_second_factor(client, person)
    assert _open(client, name, page_url).status_code == 403


@PAGES
def test_the_developers_staff_flag_is_no_administrator(client, name, page_url):
    developer = give_mfa(UserFactory(is_staff=True, is_superuser=True))
    client.force_login(developer)
    use_second_factor(client, developer)
    assert _open(client, name, page_url).status_code == 403


@PAGES
def test_an_administrator_without_the_second_factor_is_sent_to_it(client, name, page_url):
    administrator = give_mfa(UserFactory(is_administrator=True))
    client.force_login(administrator)
    assert _sent_to_second_factor(_open(client, name, page_url))


@PAGES
def test_an_administrator_with_the_second_factor_is_let_in(client, name, page_url):
    administrator = give_mfa(UserFactory(is_administrator=True))
    client.force_login(administrator)
    use_second_factor(client, administrator)
    response = _open(client, name, page_url)
    if ADMINISTRATOR_PAGES[name]:
        assert response.status_code == 200
    else:
        # A form sent with nothing in it: refused as a form (400) or done (302), never
        # as a person.
        assert response.status_code in (200, 302, 400)
        assert not _sent_to_sign_in(response) and not _sent_to_second_factor(response)


@PAGES
@pytest.mark.parametrize(
    "account",
    [{"is_active": False}, {"deleted_at": timezone.now}],
    ids=["deactivated", "deleted"],
)
def test_a_deleted_or_deactivated_administrator_is_refused(client, name, page_url, account):
    values = {key: value() if callable(value) else value for key, value in account.items()}
    administrator = give_mfa(UserFactory(is_administrator=True, **values))
    client.force_login(administrator)
    use_second_factor(client, administrator)
    response = _open(client, name, page_url)
    # A deactivated account is signed out by Django (sign-in); a deleted one is refused.
    assert _sent_to_sign_in(response) or response.status_code == 403


# --- the developers' Django admin -----------------------------------------------------


def _admin_pages() -> list[str]:
    names = ["admin:index"]
    for model in admin.site._registry:
        names.append(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return sorted(names)


ADMIN_PAGES = pytest.mark.parametrize("name", _admin_pages())


def _ends_at(response, url_name: str) -> bool:
    return bool(response.redirect_chain) and response.redirect_chain[-1][0].startswith(
        reverse(url_name)
    )


def test_the_admin_pages_are_those_of_every_registered_model():
    assert len(_admin_pages()) == len(admin.site._registry) + 1 > 1


@ADMIN_PAGES
def test_nobody_signed_in_is_sent_to_sign_in_for_the_admin(client, name):
    response = client.get(reverse(name), follow=True)
    assert _ends_at(response, "account_login")


@ADMIN_PAGES
@pytest.mark.parametrize("flags", [{}, {"is_administrator": True}, {"is_superuser": True}], ids=str)
def test_anyone_but_django_staff_is_refused_the_admin(client, name, flags):
    person = give_mfa(UserFactory(**flags))
    client.force_login(person)
    use_second_factor(client, person)
    assert client.get(reverse(name), follow=True).status_code == 403


@ADMIN_PAGES
def test_staff_without_the_second_factor_are_sent_to_it_for_the_admin(client, name):
    staff = give_mfa(UserFactory(is_staff=True, is_superuser=True))
    client.force_login(staff)
    assert _ends_at(client.get(reverse(name), follow=True), "mfa_reauthenticate")


@ADMIN_PAGES
def test_staff_with_the_second_factor_are_let_into_the_admin(client, name):
    staff = give_mfa(UserFactory(is_staff=True, is_superuser=True))
    client.force_login(staff)
    use_second_factor(client, staff)
    assert client.get(reverse(name)).status_code == 200


@ADMIN_PAGES
def test_deactivated_staff_are_refused_the_admin(client, name):
    staff = give_mfa(UserFactory(is_staff=True, is_superuser=True, is_active=False))
    client.force_login(staff)
    use_second_factor(client, staff)
    response = client.get(reverse(name), follow=True)
    assert _ends_at(response, "account_login")
