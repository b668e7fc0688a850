"""Single sign-on through allauth's OpenID Connect provider, against a simulated provider.

The provider's HTTP endpoints (discovery, token, userinfo, JWKS) answer from
inside the test: every request allauth makes through `requests` is routed to
FakeProvider, and nothing leaves the machine.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ISSUER = "https://idp.example.test"
CLIENT_ID = "dugnad-client"
PROVIDER_ID = "idporten"


class FakeProvider:
    """An OpenID Connect provider's endpoints, answering allauth's requests."""

    def __init__(self, *, email: str, email_verified: bool = True, sub: str = "person-1") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.claims = {"sub": sub, "email": email, "email_verified": email_verified}
        self.calls: list[str] = []

    def id_token(self) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            **self.claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": "k1"})

    def answer(self, request: requests.PreparedRequest) -> requests.Response:
        url = request.url.split("?")[0]
        self.calls.append(url)
        if url == f"{ISSUER}/.well-known/openid-configuration":
            body = {
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "userinfo_endpoint": f"{ISSUER}/userinfo",
                "jwks_uri": f"{ISSUER}/jwks",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        elif url == f"{ISSUER}/token":
            form = parse_qs(
                request.body if isinstance(request.body, str) else request.body.decode()
            )
            assert form["code"] == ["the-code"]
            assert form["client_id"] == [CLIENT_ID]
            assert form["code_verifier"]  # PKCE
            body = {
                "access_token": "access-1",
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(),
            }
        elif url == f"{ISSUER}/userinfo":
            assert request.headers["Authorization"] == "Bearer access-1"
            body = self.claims
        elif url == f"{ISSUER}/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            body = {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}
        else:
            body, status = {"error": "not_found"}, 404
            return self._response(request, body, status)
        return self._response(request, body, 200)

    @staticmethod
    def _response(request, body: dict, status: int) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response


@pytest.fixture
def oidc_settings(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": PROVIDER_ID,
                    "name": "ID-porten",
                    "client_id": CLIENT_ID,
                    "secret": "s3cret",
                    "settings": {"server_url": ISSUER, "oauth_pkce_enabled": True},
                }
            ]
        }
    }
    return settings


def _provider(monkeypatch, **claims) -> FakeProvider:
    provider = FakeProvider(**claims)
    monkeypatch.setattr(
        requests.adapters.HTTPAdapter,
        "send",
        lambda adapter, request, *args, **kwargs: provider.answer(request),
    )
    return provider


def _sign_in_with_provider(client) -> requests.Response:
    login_url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    response = client.post(login_url)
    assert response.status_code == 302
    authorize = urlsplit(response.url)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{ISSUER}/authorize"
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"]
    state = query["state"][0]
    callback = reverse("openid_connect_callback", kwargs={"provider_id": PROVIDER_ID})
    return client.get(callback, {"code": "the-code", "state": state})


def test_the_sign_in_page_offers_the_configured_provider(client, oidc_settings):
    content = client.get(reverse("account_login")).content.decode()
    assert "ID-porten" in content


def test_signing_in_through_the_provider_links_the_existing_account_by_verified_email(
    client, oidc_settings, monkeypatch
):
    person = UserFactory(email="kari@example.org")
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    response = _sign_in_with_provider(client)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)
    account = SocialAccount.objects.get()
    assert (account.user, account.provider, account.uid) == (person, PROVIDER_ID, "person-1")
    assert User.objects.count() == 1
    assert f"{ISSUER}/token" in provider.calls
    assert f"{ISSUER}/.well-known/openid-configuration" in provider.calls


def test_an_unverified_provider_email_is_not_linked_to_an_existing_account(
    client, oidc_settings, monkeypatch
):
    person = UserFactory(email="kari@example.org")
    _provider(monkeypatch, email="kari@example.org", email_verified=False)
    _sign_in_with_provider(client)
    assert client.session.get("_auth_user_id") != str(person.pk)
    assert not SocialAccount.objects.filter(user=person).exists()


def test_an_account_whose_own_address_was_never_verified_loses_its_password_when_linked(
    client, oidc_settings, monkeypatch
):
    """Someone who signed up with another person's address cannot wait for them to arrive.

    The provider vouches for the address; the local account never proved it. The
    password set by whoever registered the address stops working, and the account
    opens only once the address is confirmed from its own mailbox.
    """
    squatter = UserFactory(email="kari@example.org", verified=False)
    EmailAddress.objects.create(
        user=squatter, email="kari@example.org", verified=False, primary=True
    )
    assert squatter.has_usable_password()
    _provider(monkeypatch, email="kari@example.org", email_verified=True)
    response = _sign_in_with_provider(client)
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert mail.outbox[-1].to == ["kari@example.org"]
    squatter.refresh_from_db()
    assert not squatter.has_usable_password()
    client.post(reverse("account_logout"))
    client.post(reverse("account_login"), {"login": "kari@example.org", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_a_new_person_gets_an_account_with_the_verified_provider_email(
    client, oidc_settings, monkeypatch
):
    _provider(monkeypatch, email="ola@example.org", email_verified=True, sub="person-2")
    response = _sign_in_with_provider(client)
    assert response.status_code == 302
    user = User.objects.get(email="ola@example.org")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert EmailAddress.objects.get(user=user).verified


def test_a_forged_state_is_refused(client, oidc_settings, monkeypatch):
    UserFactory(email="kari@example.org")
    _provider(monkeypatch, email="kari@example.org")
    callback = reverse("openid_connect_callback", kwargs={"provider_id": PROVIDER_ID})
    response = client.get(callback, {"code": "the-code", "state": "forged"})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 401
    assert not SocialAccount.objects.exists()


def test_without_configuration_there_is_no_provider(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    login_url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    assert client.post(login_url).status_code == 404


def test_the_provider_is_configured_from_the_environment():
    import json as json_module
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {
        **os.environ,
        "OIDC_CLIENT_ID": "from-env",
        "OIDC_CLIENT_SECRET": "env-secret",
        "OIDC_SERVER_URL": "https://idp.example.test",
        "OIDC_PROVIDER_ID": "idporten",
        "OIDC_PROVIDER_NAME": "ID-porten",
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.SOCIALACCOUNT_PROVIDERS))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    [app] = json_module.loads(result.stdout.strip().splitlines()[-1])["openid_connect"]["APPS"]
    assert app["provider_id"] == "idporten" and app["client_id"] == "from-env"
    assert app["settings"]["server_url"] == "https://idp.example.test"
    assert app["settings"]["oauth_pkce_enabled"] is True
