"""Pages of pytest-django's live server in Chromium, signed in without the login form.

For browser tests outside tests/browser (which has an ASGI server of its own):
the `live_chromium` fixture (tests/conftest.py) gives the browser, `live_page`
a page in a fresh context, and `session_cookie` a signed-in session for a
person the factories made (their passwords are hashed with a test-only hasher,
so the form cannot sign them in).
"""

from __future__ import annotations


def session_cookie(user, url: str) -> dict:
    """A cookie for ``url`` holding a session in which ``user`` is signed in, as allauth
    leaves it (with TOTP used, where the person has it set up)."""
    from django.conf import settings
    from django.test import Client

    from tests.factories import login_as

    client = Client()
    login_as(client, user)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": url}


def live_page(browser, url: str, user=None, *, language: str | None = None, bypass_csp=False):
    """A page in a context of its own; ``page.problems`` collects script errors and
    content security policy refusals. A WSGI live server has no websockets, so a
    signed-in page's failing notification socket is not counted."""
    context = browser.new_context(locale="en-GB", bypass_csp=bypass_csp)
    cookies = [session_cookie(user, url)] if user is not None else []
    if language:
        cookies.append({"name": "django_language", "value": language, "url": url})
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            page.problems.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    return page


def cookie_header(user) -> bytes:
    """The same session as a ``Cookie`` header, for a socket opened without a browser."""
    cookie = session_cookie(user, url="")
    return f"{cookie['name']}={cookie['value']}".encode()
