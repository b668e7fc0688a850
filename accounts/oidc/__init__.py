"""Dugnad's OpenID Connect provider for allauth: what ID-porten and a strict CSP need.

allauth's generic provider is kept (same URLs, same ``openid_connect`` id);
this subclass adds what it leaves out:

- the discovery document is cached (``OIDC_DISCOVERY_CACHE_SECONDS``) and a
  provider that is down, slow or answers garbage raises ``ProviderUnavailable``,
  which the sign-in pages show as "<provider> is not answering", never a 500;
- a nonce on every authorization request, checked on the ID token;
- an optional required ``acr`` level (``OIDC_ACR_VALUES``), checked on the ID token;
- only the claims Dugnad uses are kept in ``SocialAccount.extra_data``: never
  ID-porten's ``pid`` (the national identity number), nor the raw token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import urlsplit

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

# The claims kept in SocialAccount.extra_data. Everything else a provider sends
# (ID-porten's pid above all) is dropped before anything is saved.
KEPT_CLAIMS = (
    "sub",
    "iss",
    "name",
    "given_name",
    "family_name",
    "email",
    "email_verified",
    "acr",
    "locale",
)
REQUIRED_DISCOVERY_FIELDS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class ProviderUnavailable(ProviderException):
    """The provider did not answer, answered too slowly, or answered something unusable."""


class IdentityRefused(ProviderException):
    """The provider answered, but with an identity Dugnad must not accept."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _cache_key(server_url: str) -> str:
    return "oidc-discovery:" + hashlib.sha256(server_url.encode()).hexdigest()[:32]


def _is_web_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("https", "http") and bool(parts.netloc)


def discovery(provider: OpenIDConnectProvider) -> dict:
    """The provider's discovery document, from the cache or fetched once (with a timeout).

    Raises ProviderUnavailable when it cannot be fetched or lacks what a sign-in needs;
    nothing is cached then, so the next attempt asks again.
    """
    server_url = provider.server_url
    key = _cache_key(server_url)
    try:
        config = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache that is down only costs a fetch
        logger.warning("single sign-on: cache unavailable for discovery", exc_info=True)
        config = None
    if config is None:
        try:
            with get_adapter().get_requests_session() as session:
                response = session.get(server_url)
                response.raise_for_status()
                config = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.warning(
                "single sign-on: discovery failed for %s (%s): %s",
                provider.sub_id,
                server_url,
                exc.__class__.__name__,
            )
            raise ProviderUnavailable(f"discovery failed: {exc.__class__.__name__}") from exc
        if not isinstance(config, dict) or not all(
            _is_web_url(config.get(field)) for field in REQUIRED_DISCOVERY_FIELDS
        ):
            logger.warning(
                "single sign-on: discovery document of %s (%s) lacks %s",
                provider.sub_id,
                server_url,
                ", ".join(REQUIRED_DISCOVERY_FIELDS),
            )
            raise ProviderUnavailable("discovery document unusable")
        try:
            cache.set(key, config, settings.OIDC_DISCOVERY_CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("single sign-on: cache unavailable for discovery", exc_info=True)
    overrides = provider.app.settings.get("openid_configuration_overrides", {})
    return {**config, **overrides}


def authorization_origin(provider: OpenIDConnectProvider) -> str | None:
    """The scheme, host and port of the provider's authorization endpoint, or None if unknown."""
    try:
        endpoint = discovery(provider)["authorization_endpoint"]
    except ProviderUnavailable:
        return None
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def nonce_for_state(state_id: str) -> str:
    """The nonce sent with the authorization request whose state is ``state_id``.

    Derived from the state (which lives in the person's session) with the secret
    key, so it needs no storage of its own and cannot be guessed from outside.
    """
    return hmac.new(
        settings.SECRET_KEY.encode(), b"dugnad.oidc.nonce:" + state_id.encode(), hashlib.sha256
    ).hexdigest()


def required_acr_values(app) -> list[str]:
    values = app.settings.get("acr_values") or []
    if isinstance(values, str):
        values = values.split()
    return list(values)


class DeferredSocialLogin(SocialLogin):
    """A social login that saves nothing while it finds the account an identity belongs to.

    allauth saves the identity's new claims the moment it finds the connected
    account, before the account's second factor is asked for;
    ``accounts.single_sign_on.finish_login`` saves them once every login stage
    is passed.
    """

    def _lookup_by_socialaccount(self) -> bool:
        try:
            account = SocialAccount.objects.select_related("user").get(
                provider=self.account.provider, uid=self.account.uid
            )
        except SocialAccount.DoesNotExist:
            return False
        account.extra_data = self.account.extra_data
        self.account = account
        self.user = account.user
        return True


class DugnadOpenIDConnectAdapter(OpenIDConnectOAuth2Adapter):
    @property
    def openid_config(self) -> dict:
        if not hasattr(self, "_openid_config"):
            self._openid_config = discovery(self.get_provider())
        return self._openid_config

    def get_access_token_data(self, request: HttpRequest, app, client, pkce_code_verifier=None):
        try:
            return super().get_access_token_data(
                request, app, client, pkce_code_verifier=pkce_code_verifier
            )
        except (requests.RequestException, ValueError) as exc:
            logger.warning(
                "single sign-on: token endpoint of %s failed: %s",
                self.provider_id,
                exc.__class__.__name__,
            )
            raise ProviderUnavailable(f"token endpoint: {exc.__class__.__name__}") from exc

    def complete_login(self, request: HttpRequest, app, token, **kwargs):
        if not (kwargs.get("response") or {}).get("id_token"):
            # Without an ID token there is no nonce or acr to check.
            logger.warning("single sign-on: %s sent no ID token", self.provider_id)
            raise IdentityRefused("id_token", "the provider sent no ID token")
        try:
            login = super().complete_login(request, app, token, **kwargs)
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            # Down, slow, or an answer without what a sign-in needs (JSON that is
            # not an object, userinfo without "sub", ...).
            logger.warning(
                "single sign-on: userinfo or keys of %s failed: %s",
                self.provider_id,
                exc.__class__.__name__,
            )
            raise ProviderUnavailable(f"userinfo or keys: {exc.__class__.__name__}") from exc
        return login

    def _decode_id_token(self, app, id_token: str) -> dict:
        claims = super()._decode_id_token(app, id_token)
        state_id = self.request.GET.get("state", "")
        expected = nonce_for_state(state_id)
        if not hmac.compare_digest(str(claims.get("nonce", "")), expected):
            logger.warning("single sign-on: ID token of %s has a wrong nonce", self.provider_id)
            raise IdentityRefused("nonce", "the ID token's nonce does not match the request")
        accepted = required_acr_values(app)
        if accepted and claims.get("acr") not in accepted:
            logger.warning(
                "single sign-on: ID token of %s has acr %r, required one of %s",
                self.provider_id,
                claims.get("acr"),
                accepted,
            )
            raise IdentityRefused("acr", "the sign-in's level of assurance is too low")
        return claims


class DugnadOpenIDConnectProvider(OpenIDConnectProvider):
    oauth2_adapter_class = DugnadOpenIDConnectAdapter
    # allauth's URL names and paths, with views that use DugnadOpenIDConnectAdapter.
    package = "accounts.oidc"

    def get_auth_params(self) -> dict:
        params = super().get_auth_params()
        accepted = required_acr_values(self.app)
        if accepted:
            params.setdefault("acr_values", " ".join(accepted))
        return params

    def redirect(
        self, request: HttpRequest, process, next_url=None, data=None, **kwargs
    ) -> HttpResponse:
        state_id = get_adapter().generate_state_param({})
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params["nonce"] = nonce_for_state(state_id)
        try:
            return super().redirect(
                request,
                process,
                next_url,
                data,
                auth_params=auth_params,
                state_id=state_id,
                **kwargs,
            )
        except ProviderUnavailable as exc:
            return render_authentication_error(request, self, exception=exc)

    def sociallogin_from_response(self, request: HttpRequest, response) -> SocialLogin:
        login = super().sociallogin_from_response(request, response)
        return DeferredSocialLogin(
            user=login.user,
            account=login.account,
            token=login.token,
            email_addresses=login.email_addresses,
            provider=login.provider,
            phone=login.phone,
            phone_verified=login.phone_verified,
        )

    def extract_extra_data(self, data) -> dict:
        """Only the claims Dugnad uses, from userinfo and the ID token; never ``pid``."""
        kept = {}
        for part in ("userinfo", "id_token"):
            claims = data.get(part) if isinstance(data, dict) else None
            if isinstance(claims, dict):
                kept[part] = {k: claims[k] for k in KEPT_CLAIMS if k in claims}
        return kept

    def extract_common_fields(self, data) -> dict:
        fields = super().extract_common_fields(data)
        # The ID token may carry the name when userinfo does not (or the other way round).
        for part in ("userinfo", "id_token"):
            claims = data.get(part) or {}
            for field, claim in (
                ("name", "name"),
                ("first_name", "given_name"),
                ("last_name", "family_name"),
            ):
                if not fields.get(field) and claims.get(claim):
                    fields[field] = claims[claim]
        return fields
