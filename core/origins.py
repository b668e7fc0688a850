"""Websocket handshakes only from the site's own origin: scheme, host and port exactly.

A browser sends the page's cookies with any websocket it opens, whoever's page
opened it; the Origin header is the only thing that tells Dugnad's own pages
from another service's. Channels' ``AllowedHostsOriginValidator`` compares the
host alone, so a page on ``http://127.0.0.1:8001`` or ``http://localhost:1234``
could open a signed-in socket to Dugnad on port 8000. Here the origin must
equal one of:

- ``SITE_URL`` or an entry of ``CSRF_TRUSTED_ORIGINS`` (entries with a
  wildcard are not used: a socket is never trusted more widely than one
  origin);
- with ``WEBSOCKET_SAME_ORIGIN`` (on in the embedded default, where DEBUG is
  on): the origin the socket itself was opened on, the request's scheme and
  ``Host``, when that host is in ``ALLOWED_HOSTS``. ``make run`` on another
  port, or the browser tests' live server on a random one, then reaches its
  own socket, and nothing else does. Behind a proxy the Host and scheme a
  worker sees are the proxy's, so production relies on ``SITE_URL`` alone.

A handshake without an Origin header is refused: every browser sends one, so
only a non-browser client omits it, and Dugnad's sockets serve its own pages
(the open data API is plain HTTP). Settings are read on each handshake.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}
SOCKET_SCHEMES = {"ws": "http", "wss": "https"}


def normalise_origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, or None if it is not one (a path, user
    information, "null", another scheme)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def allowed_origins() -> set[tuple[str, str, int]]:
    configured = [settings.SITE_URL, *settings.CSRF_TRUSTED_ORIGINS]
    return {o for o in map(normalise_origin, configured) if o is not None and "*" not in o[1]}


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin1")
    return None


def _own_origin(scope: dict) -> tuple[str, str, int] | None:
    """The origin this socket was opened on, if its Host is one this site answers to."""
    host = _header(scope, b"host")
    scheme = SOCKET_SCHEMES.get(scope.get("scheme") or "ws")
    if not host or scheme is None:
        return None
    domain, _port = split_domain_port(host.lower())
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return normalise_origin(f"{scheme}://{host}")


def origin_allowed(scope: dict) -> bool:
    origin = _header(scope, b"origin")
    if origin is None:
        return False
    found = normalise_origin(origin)
    if found is None:
        return False
    if found in allowed_origins():
        return True
    return bool(getattr(settings, "WEBSOCKET_SAME_ORIGIN", False)) and found == _own_origin(scope)


class ExactOriginValidator:
    """ASGI middleware: a websocket from any other origin is refused before its handshake."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
