"""Single sign-on through allauth's OpenID Connect provider, against a simulated provider.

The provider's HTTP endpoints (discovery, token, userinfo, JWKS) answer from
inside the test: every request allauth makes through `requests` is routed to
FakeProvider, and nothing leaves the machine. The browser test
(tests/browser/test_single_sign_on.py) does the same against a real provider.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts import oidc
from accounts.models import User
from tests.accounts.conftest import totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ISSUER = "https://idp.example.test"
CLIENT_ID = "dugnad-client"
PROVIDER_ID = "idporten"


class FakeProvider:
    """An OpenID Connect provider's endpoints, answering allauth's requests.

    ``fail`` maps a path ("discovery", "token", ...) to how that endpoint fails:
    "down" (connection refused), "slow" (timeout), "garbage" (HTML instead of
    JSON) or "error" (503).
    """

    def __init__(self, *, email: str | None, email_verified: bool = True, sub: str = "person-1"):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.claims: dict = {"sub": sub}
        if email is not None:
            self.claims.update({"email": email, "email_verified": email_verified})
        self.id_token_claims: dict = {}
        self.calls: list[str] = []
        self.fail: dict[str, str] = {}
        self.nonce: str | None = None

    def id_token(self) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 300, **self.claims}
        if self.nonce is not None:
            payload["nonce"] = self.nonce
        payload.update(self.id_token_claims)
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": "k1"})

    def answer(self, request: requests.PreparedRequest) -> requests.Response:
        url = request.url.split("?")[0]
        self.calls.append(url)
        name = {
            f"{ISSUER}/.well-known/openid-configuration": "discovery",
            f"{ISSUER}/token": "token",
            f"{ISSUER}/userinfo": "userinfo",
            f"{ISSUER}/jwks": "jwks",
        }.get(url)
        failure = self.fail.get(name)
        if failure == "down":
            raise requests.ConnectionError("connection refused")
        if failure == "slow":
            raise requests.ReadTimeout("read timed out")
        if failure == "garbage":
            return self._response(request, "<html>Bad gateway</html>", 200, "text/html")
        if failure == "error":
            return self._response(request, '{"error": "unavailable"}', 503)
        if failure == "empty":
            return self._response(request, '{"unexpected": true}', 200)
        if failure == "list":
            return self._response(request, "[1, 2]", 200)
        if name == "discovery":
            body = {
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "userinfo_endpoint": f"{ISSUER}/userinfo",
                "jwks_uri": f"{ISSUER}/jwks",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        elif name == "token":
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
            if self.fail.get("id_token") == "missing":
                del body["id_token"]
        elif name == "userinfo":
            assert request.headers["Authorization"] == "Bearer access-1"
            body = self.claims
        elif name == "jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            body = {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}
        else:
            return self._response(request, '{"error": "not_found"}', 404)
        return self._response(request, json.dumps(body), 200)

    @staticmethod
    def _response(request, text: str, status: int, content_type="application/json"):
        response = requests.Response()
        response.status_code = status
        response._content = text.encode()
        response.headers["Content-Type"] = content_type
        response.url = request.url
        response.request = request
        return response


def _app(**settings) -> dict:
    return {
        "provider_id": PROVIDER_ID,
        "name": "ID-porten",
        "client_id": CLIENT_ID,
        "secret": "s3cret",
        "settings": {"server_url": ISSUER, "oauth_pkce_enabled": True, **settings},
    }


@pytest.fixture(autouse=True)
def _no_cached_discovery():
    key = oidc._cache_key(f"{ISSUER}/.well-known/openid-configuration")
    cache.delete(key)
    yield
    cache.delete(key)


@pytest.fixture
def oidc_settings(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "provider_class": "accounts.oidc.DugnadOpenIDConnectProvider",
            "APPS": [_app()],
        }
    }
    settings.SSO_TRUSTED_PROVIDERS = []
    return settings


def _provider(monkeypatch, **claims) -> FakeProvider:
    provider = FakeProvider(**claims)
    monkeypatch.setattr(
        requests.adapters.HTTPAdapter,
        "send",
        lambda adapter, request, *args, **kwargs: provider.answer(request),
    )
    return provider


def _authorize(client, provider: FakeProvider, process: str = "login") -> dict:
    """Start the sign-in as the "Continue" button does; returns the authorization request."""
    login_url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    response = client.post(f"{login_url}?process={process}")
    assert response.status_code == 302, response.content
    authorize = urlsplit(response.url)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{ISSUER}/authorize"
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    provider.nonce = query.get("nonce")
    return query


def _callback(client, state: str):
    callback = reverse("openid_connect_callback", kwargs={"provider_id": PROVIDER_ID})
    return client.get(callback, {"code": "the-code", "state": state})


def _sign_in_with_provider(client, provider: FakeProvider):
    return _callback(client, _authorize(client, provider)["state"])


def _signed_in(client) -> str | None:
    return client.session.get("_auth_user_id")


def _give_totp(user) -> str:
    """Set up TOTP for a person (a facilitator or coordinator); returns its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


# --- The content security policy --------------------------------------------------


def _form_action(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(part for part in policy.split(";") if part.strip().startswith("form-action"))


def test_the_sign_in_page_offers_the_configured_provider(client, oidc_settings, monkeypatch):
    _provider(monkeypatch, email="kari@example.org")
    content = client.get(reverse("account_login")).content.decode()
    assert "ID-porten" in content


def test_the_sign_in_page_may_post_to_exactly_the_providers_authorization_origin(
    client, oidc_settings, monkeypatch
):
    _provider(monkeypatch, email="kari@example.org")
    assert _form_action(client.get(reverse("account_login"))).split() == [
        "form-action",
        "'self'",
        ISSUER,
    ]
    continue_page = client.get(reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID}))
    assert ISSUER in _form_action(continue_page)


def test_pages_without_a_provider_button_keep_form_action_self(client, oidc_settings, monkeypatch):
    provider = _provider(monkeypatch, email="kari@example.org")
    assert _form_action(client.get(reverse("home"))).split() == ["form-action", "'self'"]
    assert provider.calls == []  # no discovery for a page that does not need it


def test_the_sign_in_page_works_while_the_provider_is_down(client, oidc_settings, monkeypatch):
    provider = _provider(monkeypatch, email="kari@example.org")
    provider.fail["discovery"] = "down"
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert _form_action(response).split() == ["form-action", "'self'"]


# --- No silent account takeover ---------------------------------------------------


def test_an_existing_account_with_the_same_address_is_not_signed_in_or_connected(
    client, oidc_settings, monkeypatch
):
    UserFactory(email="kari@example.org")
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    response = _sign_in_with_provider(client, provider)
    assert response.status_code == 302
    assert response.url == reverse("sso_connect")
    assert _signed_in(client) is None
    assert not SocialAccount.objects.exists()
    page = client.get(reverse("sso_connect")).content.decode()
    assert "kari@example.org" in page
    assert "Sign in to connect" in page or "Logg inn for å koble til" in page


def test_the_owner_connects_the_identity_after_signing_in_and_is_told_by_email(
    client, oidc_settings, monkeypatch
):
    person = UserFactory(email="kari@example.org")
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    _sign_in_with_provider(client, provider)
    response = client.post(
        reverse("account_login"),
        {"login": "kari@example.org", "password": PASSWORD, "next": reverse("sso_connect")},
    )
    assert response.url == reverse("sso_connect")
    assert not SocialAccount.objects.exists()  # not before the person confirms
    mail.outbox.clear()
    response = client.post(reverse("sso_connect"), {"action": "connect"})
    assert response.url == reverse("socialaccount_connections")
    account = SocialAccount.objects.get()
    assert (account.user, account.provider, account.uid) == (person, PROVIDER_ID, "person-1")
    [message] = mail.outbox
    assert message.to == ["kari@example.org"]
    assert "ID-porten" in message.subject
    assert "http://testserver" + reverse("socialaccount_connections") in message.body
    # From now on the identity signs in to the account directly.
    client.post(reverse("account_logout"))
    _sign_in_with_provider(client, provider)
    assert _signed_in(client) == str(person.pk)


def test_signed_in_as_another_account_nothing_is_connected(client, oidc_settings, monkeypatch):
    UserFactory(email="kari@example.org")
    other = UserFactory(email="ola@example.org")
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    _sign_in_with_provider(client, provider)
    client.force_login(other)
    response = client.post(reverse("sso_connect"), {"action": "connect"})
    assert response.status_code == 200
    assert not SocialAccount.objects.exists()
    assert client.post(reverse("sso_connect"), {"action": "connect"}).status_code == 302
    assert not SocialAccount.objects.exists()


def test_without_signing_in_posting_the_connection_connects_nothing(
    client, oidc_settings, monkeypatch
):
    UserFactory(email="kari@example.org")
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    _sign_in_with_provider(client, provider)
    response = client.post(reverse("sso_connect"), {"action": "connect"})
    assert response.status_code == 200
    assert not SocialAccount.objects.exists()
    assert _signed_in(client) is None


def test_a_pending_connection_can_be_cancelled(client, oidc_settings, monkeypatch):
    UserFactory(email="kari@example.org")
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    _sign_in_with_provider(client, provider)
    client.post(reverse("sso_connect"), {"action": "cancel"})
    client.post(reverse("account_login"), {"login": "kari@example.org", "password": PASSWORD})
    client.post(reverse("sso_connect"), {"action": "connect"})
    assert not SocialAccount.objects.exists()


def test_connecting_from_the_connections_page_tells_the_owner_by_email(
    client, oidc_settings, monkeypatch
):
    person = UserFactory(email="kari@example.org")
    client.post(reverse("account_login"), {"login": "kari@example.org", "password": PASSWORD})
    mail.outbox.clear()
    provider = _provider(monkeypatch, email="k.nordmann@example.net", sub="person-9")
    query = _authorize(client, provider, process="connect")
    response = _callback(client, query["state"])
    assert response.url == reverse("socialaccount_connections")
    assert SocialAccount.objects.get().user == person
    [message] = mail.outbox
    assert message.to == ["kari@example.org"]
    assert "http://testserver" + reverse("socialaccount_connections") in message.body


def test_an_unverified_provider_email_is_not_linked_to_an_existing_account(
    client, oidc_settings, monkeypatch
):
    person = UserFactory(email="kari@example.org")
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=False)
    _sign_in_with_provider(client, provider)
    assert _signed_in(client) != str(person.pk)
    assert not SocialAccount.objects.filter(user=person).exists()
    assert client.session.get("sso_pending_connection") is None


def test_connecting_to_an_account_whose_address_was_never_verified_removes_its_password(
    client, oidc_settings, monkeypatch
):
    """Someone who signed up with another person's address cannot wait for them to arrive.

    The provider vouches for the address; the local account never proved it. Once
    the address's owner signs in (by a code sent there) and connects, the password
    set by whoever registered the address stops working.
    """
    squatter = UserFactory(email="kari@example.org", verified=False)
    squatter.save()  # the factory saves the password only with a verified address
    EmailAddress.objects.create(
        user=squatter, email="kari@example.org", verified=False, primary=True
    )
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    _sign_in_with_provider(client, provider)
    assert squatter.has_usable_password()  # nothing happens before the owner proves it
    client.force_login(squatter)  # as after a sign-in code sent to kari@example.org
    client.post(reverse("sso_connect"), {"action": "connect"})
    squatter.refresh_from_db()
    assert not squatter.has_usable_password()
    assert SocialAccount.objects.get().user == squatter


def test_a_trusted_provider_signs_in_to_the_account_and_its_owner_is_told(
    client, oidc_settings, monkeypatch
):
    oidc_settings.SSO_TRUSTED_PROVIDERS = [PROVIDER_ID]
    person = UserFactory(email="kari@example.org")
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    _sign_in_with_provider(client, provider)
    assert _signed_in(client) == str(person.pk)
    assert SocialAccount.objects.get().user == person
    assert [m.to for m in mail.outbox] == [["kari@example.org"]]


def test_a_trusted_provider_does_not_sign_in_to_an_account_whose_address_is_unverified(
    client, oidc_settings, monkeypatch
):
    oidc_settings.SSO_TRUSTED_PROVIDERS = [PROVIDER_ID]
    squatter = UserFactory(email="kari@example.org", verified=False)
    squatter.save()
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    response = _sign_in_with_provider(client, provider)
    assert response.url == reverse("sso_connect")
    assert _signed_in(client) is None
    assert not SocialAccount.objects.exists()
    squatter.refresh_from_db()
    assert squatter.has_usable_password()


# --- The second factor after single sign-on ----------------------------------------


def test_a_trusted_provider_connects_a_staff_account_only_after_its_second_factor(
    client, oidc_settings, monkeypatch
):
    oidc_settings.SSO_TRUSTED_PROVIDERS = [PROVIDER_ID]
    person = UserFactory(email="kari@example.org")
    secret = _give_totp(person)
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    response = _sign_in_with_provider(client, provider)
    assert response.url == reverse("mfa_authenticate")
    assert _signed_in(client) is None
    assert not SocialAccount.objects.exists()
    assert mail.outbox == []
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert _signed_in(client) == str(person.pk)
    assert SocialAccount.objects.get().user == person
    assert [m.to for m in mail.outbox] == [["kari@example.org"]]


def test_a_connected_staff_identity_saves_nothing_before_the_second_factor(
    client, oidc_settings, monkeypatch
):
    person = UserFactory(email="kari@example.org")
    secret = _give_totp(person)
    account = SocialAccount.objects.create(
        user=person, provider=PROVIDER_ID, uid="person-1", extra_data={"old": True}
    )
    provider = _provider(monkeypatch, email="kari@example.org", email_verified=True)
    response = _sign_in_with_provider(client, provider)
    assert response.url == reverse("mfa_authenticate")
    assert _signed_in(client) is None
    account.refresh_from_db()
    assert account.extra_data == {"old": True}
    client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert _signed_in(client) is None
    account.refresh_from_db()
    assert account.extra_data == {"old": True}
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert _signed_in(client) == str(person.pk)
    account.refresh_from_db()
    assert account.extra_data["userinfo"]["email"] == "kari@example.org"


# --- New people and their names -------------------------------------------------------


def test_a_new_person_gets_an_account_with_the_verified_provider_email(
    client, oidc_settings, monkeypatch
):
    provider = _provider(monkeypatch, email="ola@example.org", email_verified=True, sub="p-2")
    response = _sign_in_with_provider(client, provider)
    assert response.status_code == 302
    user = User.objects.get(email="ola@example.org")
    assert _signed_in(client) == str(user.pk)
    assert EmailAddress.objects.get(user=user).verified


def test_a_new_persons_public_name_is_the_name_from_the_provider(
    client, oidc_settings, monkeypatch
):
    provider = _provider(monkeypatch, email="ola@example.org", sub="p-2")
    provider.claims["name"] = "Ola  Nordmann"
    _sign_in_with_provider(client, provider)
    assert User.objects.get(email="ola@example.org").display_name == "Ola Nordmann"


def test_without_a_name_the_given_and_family_names_from_the_id_token_are_used(
    client, oidc_settings, monkeypatch
):
    provider = _provider(monkeypatch, email="ola@example.org", sub="p-2")
    provider.id_token_claims.update({"given_name": "Ola", "family_name": "Nordmann"})
    _sign_in_with_provider(client, provider)
    assert User.objects.get(email="ola@example.org").display_name == "Ola Nordmann"


def test_without_any_name_the_account_is_left_without_one(client, oidc_settings, monkeypatch):
    provider = _provider(monkeypatch, email="ola.nordmann@example.org", sub="p-2")
    _sign_in_with_provider(client, provider)
    user = User.objects.get(email="ola.nordmann@example.org")
    assert user.display_name == ""  # never "ola.nordmann"


# --- ID-porten ------------------------------------------------------------------------


def test_the_authorization_request_carries_a_nonce_that_the_id_token_must_repeat(
    client, oidc_settings, monkeypatch
):
    provider = _provider(monkeypatch, email="ola@example.org", sub="p-2")
    query = _authorize(client, provider)
    assert len(query["nonce"]) >= 32
    provider.nonce = "a-nonce-from-another-request"
    response = _callback(client, query["state"])
    assert response.status_code == 401
    assert _signed_in(client) is None
    assert not User.objects.filter(email="ola@example.org").exists()


def test_an_id_token_without_a_nonce_is_refused(client, oidc_settings, monkeypatch):
    provider = _provider(monkeypatch, email="ola@example.org", sub="p-2")
    query = _authorize(client, provider)
    provider.nonce = None
    assert _callback(client, query["state"]).status_code == 401
    assert _signed_in(client) is None


def test_a_token_response_without_an_id_token_is_refused(client, oidc_settings, monkeypatch):
    provider = _provider(monkeypatch, email="ola@example.org", sub="p-2")
    provider.fail["id_token"] = "missing"
    assert _sign_in_with_provider(client, provider).status_code == 401
    assert _signed_in(client) is None
    assert not User.objects.filter(email="ola@example.org").exists()


@pytest.fixture
def acr_settings(oidc_settings):
    oidc_settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "provider_class": "accounts.oidc.DugnadOpenIDConnectProvider",
            "APPS": [_app(acr_values=["idporten-loa-substantial", "idporten-loa-high"])],
        }
    }
    return oidc_settings


def test_a_required_level_is_asked_for_and_a_lower_one_is_refused_clearly(
    client, acr_settings, monkeypatch
):
    provider = _provider(monkeypatch, email=None, sub="p-2")
    query = _authorize(client, provider)
    assert query["acr_values"] == "idporten-loa-substantial idporten-loa-high"
    provider.id_token_claims["acr"] = "idporten-loa-low"
    response = _callback(client, query["state"])
    assert response.status_code == 401
    text = response.content.decode()
    assert "lavere sikkerhetsnivå" in text or "lower security level" in text
    assert _signed_in(client) is None
    assert not SocialAccount.objects.exists()


def test_the_required_level_lets_the_person_on(client, acr_settings, monkeypatch):
    provider = _provider(monkeypatch, email=None, sub="p-2")
    query = _authorize(client, provider)
    provider.id_token_claims["acr"] = "idporten-loa-high"
    response = _callback(client, query["state"])
    # ID-porten gives no e-mail: the person is asked for one.
    assert response.url == reverse("socialaccount_signup")


def test_idporten_without_email_asks_for_one_and_stores_no_pid(client, oidc_settings, monkeypatch):
    provider = _provider(monkeypatch, email=None, sub="p-2")
    provider.claims.update({"pid": "24079409630", "name": "Kari Nordmann"})
    provider.id_token_claims.update({"pid": "24079409630", "acr": "idporten-loa-substantial"})
    response = _sign_in_with_provider(client, provider)
    assert response.url == reverse("socialaccount_signup")
    response = client.post(reverse("socialaccount_signup"), {"email": "kari@example.org"})
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(email="kari@example.org")
    assert user.display_name == "Kari Nordmann"
    assert not EmailAddress.objects.get(user=user).verified  # verified from the mailbox
    account = SocialAccount.objects.get(user=user)
    assert "24079409630" not in json.dumps(account.extra_data)
    assert account.extra_data["id_token"]["acr"] == "idporten-loa-substantial"
    assert "24079409630" not in json.dumps(dict(client.session))


# --- The provider unavailable -----------------------------------------------------------


@pytest.mark.parametrize("failure", ["down", "slow", "garbage", "error", "empty", "list"])
def test_discovery_failing_gives_a_clear_page_and_a_log_line(
    client, oidc_settings, monkeypatch, caplog, failure
):
    provider = _provider(monkeypatch, email="ola@example.org")
    provider.fail["discovery"] = failure
    login_url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    with caplog.at_level(logging.WARNING):
        response = client.post(login_url)
    assert response.status_code == 503
    text = response.content.decode()
    assert "ID-porten svarer ikke" in text or "ID-porten is not answering" in text
    assert reverse("account_login") in text
    assert any(
        "discovery failed" in r.getMessage() or "lacks" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize("endpoint", ["token", "userinfo"])
@pytest.mark.parametrize("failure", ["down", "slow", "garbage", "error", "empty", "list"])
def test_an_endpoint_failing_after_the_provider_gives_a_clear_page(
    client, oidc_settings, monkeypatch, caplog, endpoint, failure
):
    provider = _provider(monkeypatch, email="ola@example.org", sub="p-2")
    query = _authorize(client, provider)
    provider.fail[endpoint] = failure
    with caplog.at_level(logging.WARNING):
        response = _callback(client, query["state"])
    assert response.status_code in (401, 503)
    assert _signed_in(client) is None
    assert not User.objects.filter(email="ola@example.org").exists()
    assert any("single sign-on" in r.getMessage() for r in caplog.records)


def test_the_token_endpoint_down_says_the_provider_is_not_answering(
    client, oidc_settings, monkeypatch
):
    provider = _provider(monkeypatch, email="ola@example.org", sub="p-2")
    query = _authorize(client, provider)
    provider.fail["token"] = "down"
    response = _callback(client, query["state"])
    assert response.status_code == 503
    assert "ID-porten" in response.content.decode()


def test_discovery_is_cached(client, oidc_settings, monkeypatch):
    provider = _provider(monkeypatch, email="ola@example.org", sub="p-2")
    _sign_in_with_provider(client, provider)
    client.post(reverse("account_logout"))
    _sign_in_with_provider(client, provider)
    discovery = f"{ISSUER}/.well-known/openid-configuration"
    assert provider.calls.count(discovery) == 1


def test_a_failed_discovery_is_not_cached(client, oidc_settings, monkeypatch):
    provider = _provider(monkeypatch, email="ola@example.org", sub="p-2")
    provider.fail["discovery"] = "down"
    login_url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    assert client.post(login_url).status_code == 503
    provider.fail.clear()
    assert client.post(login_url).status_code == 302


# --- The rest -------------------------------------------------------------------------


def test_a_forged_state_is_refused(client, oidc_settings, monkeypatch):
    UserFactory(email="kari@example.org")
    _provider(monkeypatch, email="kari@example.org")
    response = _callback(client, "forged")
    assert _signed_in(client) is None
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
        "OIDC_ACR_VALUES": "idporten-loa-substantial idporten-loa-high",
        "OIDC_TRUSTED": "1",
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.SOCIALACCOUNT_PROVIDERS, settings.SSO_TRUSTED_PROVIDERS]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    providers, trusted = json_module.loads(result.stdout.strip().splitlines()[-1])
    [app] = providers["openid_connect"]["APPS"]
    assert app["provider_id"] == "idporten" and app["client_id"] == "from-env"
    assert app["settings"]["server_url"] == "https://idp.example.test"
    assert app["settings"]["oauth_pkce_enabled"] is True
    assert app["settings"]["acr_values"] == ["idporten-loa-substantial", "idporten-loa-high"]
    assert trusted == ["idporten"]


def test_the_sign_up_after_single_sign_on_proposes_the_providers_name(
    client, oidc_settings, monkeypatch
):
    provider = _provider(monkeypatch, email=None, sub="p-3")
    provider.claims.update({"name": "Kari Nordmann"})
    response = _sign_in_with_provider(client, provider)
    assert response.url == reverse("socialaccount_signup")
    page = client.get(reverse("socialaccount_signup")).content.decode()
    assert 'value="Kari Nordmann"' in page
    response = client.post(
        reverse("socialaccount_signup"), {"email": "kari@example.org", "display_name": "Kari N."}
    )
    assert response.url == reverse("account_email_verification_sent")
    assert User.objects.get(email="kari@example.org").display_name == "Kari N."
