"""allauth's pages read as Dugnad's bokmål: no English and no stock phrasing left.

Each page (sign-in, sign-up, code, two-factor, e-mail, provider, reauthentication,
password reset and change) is rendered in bokmål; its title, its main content and
its labels must hold none of the phrases below. Dugnad's words for allauth's strings
are in locale/allauth/, and a few pages are overridden under templates/account/ and
templates/mfa/.
"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory, give_mfa, login_as

pytestmark = pytest.mark.django_db

# allauth's English, and its nb catalogue's stiff or wrong phrasing.
FORBIDDEN = [
    "Sign In", "Sign in", "Sign Up", "Sign Out", "Forgot your password", "Remember Me",
    "Password", "Email", "Recipient", "Request Code", "Confirm Access", "reauthenticate",
    "Alternative options", "Other sign-in options", "Send me a sign-in code", "Bad Token",
    "Two-Factor", "Authenticator", "Recovery", "third-party", "Third-Party", "Cancel",
    "Continue", "Confirm", "We've sent", "We have sent", "Enter ", "Code", "Use your",
    "Primary", "Verified", "Note", "Warning", "Account Connections", "Or use",
    "Eller bruk en tredjepart", "tredjepart", "Glemt ditt passord", "Endre Passord",
    "Notat", "token", "Token", "Du bestemt deg", "Vennligst", "kansellert",
]  # fmt: skip
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _visible(html: str) -> str:
    """The page's title, main content and labels, as a reader meets them."""
    title = TITLE.search(html).group(1)
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    labels = " ".join(re.findall(r'(?:placeholder|aria-label|title|alt)="([^"]*)"', main))
    text = re.sub(r"<[^>]+>", " ", main.split(">", 1)[1])
    return " ".join(f"{title} {text} {labels}".split())


def _bokmal(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
    return client


@pytest.fixture
def oidc(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "provider_class": "accounts.oidc.DugnadOpenIDConnectProvider",
            "APPS": [
                {
                    "provider_id": "oidc",
                    "name": "ID-porten",
                    "client_id": "dugnad",
                    "secret": "s3cret",
                    "settings": {"server_url": "https://idp.example", "oauth_pkce_enabled": True},
                }
            ],
        }
    }


def _person():
    person = UserFactory()
    EmailAddress.objects.update_or_create(
        user=person, email=person.email, defaults={"verified": True, "primary": True}
    )
    return person


def _pages_signed_out(client) -> dict[str, str]:
    pages = {}
    for name, kwargs in [
        ("account_login", {}),
        ("account_signup", {}),
        ("account_request_login_code", {}),
        ("account_reset_password", {}),
        ("account_reset_password_done", {}),
        ("account_reset_password_from_key", {"uidb36": "1", "key": "not-a-key"}),
        ("account_reset_password_from_key_done", {}),
        ("account_email_verification_sent", {}),
        ("account_confirm_email", {"key": "not-a-key"}),
        ("account_inactive", {}),
        ("socialaccount_login_cancelled", {}),
        ("socialaccount_login_error", {}),
        ("openid_connect_login", {"provider_id": "oidc"}),
    ]:
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code in (200, 401), name  # 401: the provider's error page
        pages[name] = response.content.decode()
    return pages


def test_signed_out_pages_are_all_bokmal(client, oidc):
    pages = _pages_signed_out(_bokmal(client))
    assert "ID-porten" in pages["account_login"]  # the provider is offered
    found = {name: [p for p in FORBIDDEN if p in _visible(html)] for name, html in pages.items()}
    assert {name: phrases for name, phrases in found.items() if phrases} == {}


def test_the_sign_in_code_and_two_factor_pages_are_bokmal(client):
    _bokmal(client)
    person = _person()
    response = client.post(reverse("account_request_login_code"), {"email": person.email})
    assert response.status_code == 302
    code_page = client.get(response["Location"])
    assert code_page.status_code == 200

    other = _bokmal(type(client)())
    staff = give_mfa(_person())
    response = other.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    mfa_page = other.get(reverse("mfa_authenticate"))
    assert mfa_page.status_code == 200

    found = {
        name: [p for p in FORBIDDEN if p in _visible(page.content.decode())]
        for name, page in {"confirm_login_code": code_page, "mfa_authenticate": mfa_page}.items()
    }
    assert {name: phrases for name, phrases in found.items() if phrases} == {}


@pytest.mark.parametrize(
    "name",
    [
        "account_email",
        "account_change_password",
        "account_logout",
        "account_reauthenticate",
        "account_request_reauthentication_code",
        "socialaccount_connections",
        "mfa_index",
        "mfa_reauthenticate",
        "mfa_generate_recovery_codes",
        "mfa_deactivate_totp",
    ],
)
def test_signed_in_pages_are_all_bokmal(client, name):
    person = give_mfa(_person())
    login_as(_bokmal(client), person)
    # Some pages ask for the password again first: give it, as a person would.
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert [p for p in FORBIDDEN if p in _visible(response.content.decode())] == []


def test_setting_up_an_authenticator_app_is_bokmal(client):
    login_as(_bokmal(client), _person())
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert [p for p in FORBIDDEN if p in _visible(response.content.decode())] == []


def test_the_check_would_see_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("account_login")).content.decode()
    assert "Sign In" in _visible(html)
