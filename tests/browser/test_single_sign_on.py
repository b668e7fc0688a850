"""Single sign-on in Chromium against a real OpenID Connect provider, CSP enforced.

The provider is panva's oidc-provider (npm, pinned in tests/browser/oidc/),
run with Node on 127.0.0.1 with a fixed client and fixed people
(tests/browser/oidc/provider.mjs). The live server reads the provider from a
SocialApp row in the shared database, so no other browser test sees it. Nothing
is bypassed: the person clicks the provider's button, signs in on the
provider's own page, and comes back through the real callback.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.browser.conftest import free_port, message_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "dugnad-test"
CLIENT_SECRET = "dugnad-test-secret"  # noqa: S105 - the test provider's fixed client
PROVIDER_ID = "testidp"
PROVIDER_NAME = "ID-porten"
# The same provider, but its token endpoint (from discovery) is where nothing listens.
TOKEN_DOWN_ID = "tokendown"


def _node() -> str:
    from tests.conftest import _missing

    node = shutil.which("node")
    if not node:
        _missing("needs Node.js for the OpenID Connect provider: apt-get install nodejs npm")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        _missing("needs the test provider installed: cd tests/browser/oidc && npm ci")
    return node


@pytest.fixture(scope="module")
def oidc_provider(_live_server_process):
    """panva's oidc-provider on a free 127.0.0.1 port, for the live server's callback."""
    node = _node()
    port = free_port()
    callbacks = " ".join(
        f"{_live_server_process.url}/accounts/oidc/{provider_id}/login/callback/"
        for provider_id in (PROVIDER_ID, TOKEN_DOWN_ID)
    )
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_REDIRECT_URI": callbacks}
    process = subprocess.Popen(  # noqa: S603
        [node, "provider.mjs"],
        cwd=OIDC_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        for line in process.stdout:  # "ready <issuer>" once it listens
            output.append(line)
            if line.startswith("ready "):
                break
        else:
            raise RuntimeError("the OpenID Connect provider did not start:\n" + "".join(output))
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()


def _social_app(*, provider_id: str, server_url: str, **app_settings):
    from allauth.socialaccount.models import SocialApp
    from django.conf import settings
    from django.contrib.sites.models import Site

    site, _ = Site.objects.get_or_create(
        pk=settings.SITE_ID, defaults={"domain": "127.0.0.1", "name": "Dugnad"}
    )
    app = SocialApp.objects.create(
        provider="openid_connect",
        provider_id=provider_id,
        name=PROVIDER_NAME,
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        settings={"server_url": server_url, "oauth_pkce_enabled": True, **app_settings},
    )
    app.sites.add(site)
    return app


@pytest.fixture
def idp(oidc_provider, asgi_server):
    _social_app(provider_id=PROVIDER_ID, server_url=oidc_provider)
    return oidc_provider


def _start_single_sign_on(page) -> None:
    """From Dugnad's sign-in page to the provider's, as a person clicks."""
    page.goto("/accounts/login/")
    page.get_by_role("link", name=PROVIDER_NAME).click()
    # allauth's "Continue" posts a form; Dugnad answers with a redirect to the
    # provider, which the page's CSP form-action must allow.
    page.locator("main form[method=post] [type=submit]").first.click()


def _sign_in_at_provider(page, issuer: str, login: str) -> None:
    page.wait_for_url(re.compile(re.escape(issuer) + "/interaction/"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()


def _csp_violations(page) -> list[str]:
    return [e for e in page.console_errors if "Content Security Policy" in e]


def _signed_in_again(new_page, asgi_server, idp, person: str):
    """A fresh browser in which ``person`` signs in at the provider; it ends on /me/."""
    page = new_page(locale="en-GB", language="en")
    _start_single_sign_on(page)
    _sign_in_at_provider(page, idp, person)
    page.wait_for_url(asgi_server.url + "/")
    page.goto("/me/")
    return page


def test_a_new_person_signs_in_with_the_provider_and_comes_back_with_their_name(
    new_page, idp, asgi_server
):
    from playwright.sync_api import expect

    from accounts.models import User

    page = new_page(locale="en-GB", language="en")
    login_page = page.goto("/accounts/login/")
    assert f"form-action 'self' {idp}" in login_page.headers["content-security-policy"]
    _start_single_sign_on(page)
    _sign_in_at_provider(page, idp, "nora")
    page.wait_for_url(asgi_server.url + "/")
    assert _csp_violations(page) == []
    person = User.objects.get(email="nora@example.org")
    assert person.display_name == "Nora Brekke"
    page.goto("/me/")
    expect(page.locator("input[name=display_name]")).to_have_value("Nora Brekke")

    # The second time, in another browser, the same identity finds the same account.
    again = _signed_in_again(new_page, asgi_server, idp, "nora")
    expect(again.locator("input[name=display_name]")).to_have_value("Nora Brekke")
    assert User.objects.filter(email="nora@example.org").count() == 1
    assert User.objects.count() == 1


def test_a_person_without_a_name_from_the_provider_gets_none_from_the_address(
    new_page, idp, asgi_server
):
    from accounts.models import User

    page = new_page()
    _start_single_sign_on(page)
    _sign_in_at_provider(page, idp, "noname")
    page.wait_for_url(asgi_server.url + "/**")
    assert User.objects.get(email="noname.person@example.org").display_name == ""


def test_the_provider_identity_cannot_take_over_an_existing_account_until_its_owner_proves_it(
    new_page, idp, asgi_server
):
    from allauth.socialaccount.models import SocialAccount
    from playwright.sync_api import expect

    from tests.factories import UserFactory

    owner = UserFactory(email="kari@example.org", display_name="Kari from before")
    page = new_page(locale="en-GB", language="en")
    _start_single_sign_on(page)
    _sign_in_at_provider(page, idp, "kari")
    page.wait_for_url(asgi_server.url + "/me/single-sign-on/connect/")
    expect(page.locator("main")).to_contain_text("kari@example.org already exists")
    # Whoever holds the provider identity is not signed in to the account.
    assert not SocialAccount.objects.exists()
    page.goto("/me/")
    assert "/accounts/login/" in page.url

    # The owner proves the account is theirs with a code sent to its address.
    page.goto("/me/single-sign-on/connect/")
    page.get_by_role("link", name="Sign in to connect").click()
    page.locator("a[href*='/accounts/login/code/']").first.click()
    page.locator("input[name=email]").fill("kari@example.org")
    page.locator("main form [type=submit]").first.click()
    code_mail = asgi_server.wait_for_message("kari@example.org")
    code = re.search(r"^\s*([A-Z0-9-]{6,})\s*$", message_text(code_mail), re.MULTILINE)
    assert code, message_text(code_mail)
    code = code.group(1)
    page.locator("input[name=code]").fill(code)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(asgi_server.url + "/me/single-sign-on/connect/")
    assert not SocialAccount.objects.exists()  # not before the owner says so
    page.get_by_role("button", name=f"Connect {PROVIDER_NAME}").click()
    page.wait_for_url(asgi_server.url + "/accounts/3rdparty/")
    account = SocialAccount.objects.get()
    assert account.user == owner
    notice = [m for m in asgi_server.messages() if PROVIDER_NAME in (m.get("Subject") or "")]
    assert len(notice) == 1 and notice[0]["To"] == "kari@example.org"
    assert asgi_server.url + "/accounts/3rdparty/" in message_text(notice[0])

    # From now on the provider signs the owner in, with the account's own name.
    again = _signed_in_again(new_page, asgi_server, idp, "kari")
    expect(again.locator("input[name=display_name]")).to_have_value("Kari from before")


def test_a_staff_account_passes_its_second_factor_before_anything_is_saved(
    new_page, idp, asgi_server
):
    from allauth.mfa.totp.internal.auth import (
        TOTP,
        format_hotp_value,
        generate_totp_secret,
        hotp_value,
        yield_hotp_counters_from_time,
    )
    from allauth.socialaccount.models import SocialAccount

    from tests.factories import UserFactory

    coordinator = UserFactory(email="kari@example.org")
    secret = generate_totp_secret()
    TOTP.activate(coordinator, secret)
    account = SocialAccount.objects.create(
        user=coordinator, provider=PROVIDER_ID, uid="kari-1", extra_data={"before": True}
    )
    page = new_page(language="en")
    _start_single_sign_on(page)
    _sign_in_at_provider(page, idp, "kari")
    page.wait_for_url(asgi_server.url + "/accounts/2fa/authenticate/")
    account.refresh_from_db()
    assert account.extra_data == {"before": True}
    page.goto("/me/")
    assert "/me/" not in page.url  # not signed in yet
    page.goto("/accounts/2fa/authenticate/")
    # A code is good for its 30-second window only: not one about to end, on a slow machine.
    while 30 - time.time() % 30 < 4:
        time.sleep(0.25)
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    page.locator("input[name=code]").fill(code)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(asgi_server.url + "/")
    account.refresh_from_db()
    assert account.extra_data["userinfo"]["name"] == "Kari Nordmann"


def test_an_idporten_person_without_email_types_and_verifies_one_and_no_pid_is_stored(
    new_page, idp, asgi_server
):
    import json

    from allauth.socialaccount.models import SocialAccount
    from django.contrib.sessions.models import Session
    from playwright.sync_api import expect

    page = new_page(language="en")
    _start_single_sign_on(page)
    _sign_in_at_provider(page, idp, "ola")  # sub, pid and name; no e-mail
    page.wait_for_url(asgi_server.url + "/accounts/3rdparty/signup/")
    page.locator("input[name=email]").fill("ola@example.org")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(asgi_server.url + "/accounts/confirm-email/")
    link = re.search(
        r"http://\S+/accounts/confirm-email/\S+",
        message_text(asgi_server.wait_for_message("ola@example.org")),
    ).group(0)
    page.goto(link)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(asgi_server.url + "/")
    page.goto("/me/")
    expect(page.locator("input[name=display_name]")).to_have_value("Ola Nordmann")
    account = SocialAccount.objects.get(uid="ola-1")
    assert account.user.email == "ola@example.org"
    assert "24079409630" not in json.dumps(account.extra_data)
    assert not any("24079409630" in str(s.get_decoded()) for s in Session.objects.all())


def test_a_token_endpoint_that_is_not_answering_gives_a_clear_page(
    new_page, oidc_provider, asgi_server
):
    from playwright.sync_api import expect

    from accounts.models import User

    token_endpoint = f"http://127.0.0.1:{free_port()}/token"  # nothing listens there
    _social_app(
        provider_id=TOKEN_DOWN_ID,
        server_url=oidc_provider,
        openid_configuration_overrides={"token_endpoint": token_endpoint},
    )
    page = new_page(language="en")
    _start_single_sign_on(page)
    _sign_in_at_provider(page, oidc_provider, "nora")
    page.wait_for_url(re.compile(re.escape(asgi_server.url) + "/accounts/oidc/"))
    expect(page.locator("h1")).to_contain_text("ID-porten is not answering")
    assert not User.objects.filter(email="nora@example.org").exists()
    assert "token endpoint of tokendown failed" in asgi_server.log_tail(200)


def test_a_provider_that_is_not_answering_gives_a_clear_page(new_page, asgi_server):
    from playwright.sync_api import expect

    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    _social_app(provider_id="downidp", server_url=down)
    for language, text in (
        ("nb", "ID-porten svarer ikke"),
        ("en", "ID-porten is not answering"),
    ):
        page = new_page(language=language)
        _start_single_sign_on(page)
        expect(page.locator("h1")).to_contain_text(text)
        expect(page.locator("main a[href='/accounts/login/']")).to_be_visible()
    assert "single sign-on" in asgi_server.log_tail(200)


def test_the_provider_sign_up_and_the_confirmation_pages_are_bokmal(new_page, idp, asgi_server):
    """allauth's single sign-on pages, as a person from ID-porten meets them in bokmål."""
    from tests.accounts.test_allauth_bokmal import FORBIDDEN, _visible

    page = new_page(language="nb")
    page.goto("/accounts/login/")
    assert [p for p in FORBIDDEN if p in _visible(page.content())] == []  # the provider list
    _start_single_sign_on(page)
    _sign_in_at_provider(page, idp, "ola")  # no e-mail: Dugnad asks for one
    page.wait_for_url(asgi_server.url + "/accounts/3rdparty/signup/")
    assert page.locator("html").get_attribute("lang") == "nb"
    assert [p for p in FORBIDDEN if p in _visible(page.content())] == []
    page.locator("input[name=email]").fill("ola@example.org")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(asgi_server.url + "/accounts/confirm-email/")
    assert [p for p in FORBIDDEN if p in _visible(page.content())] == []
