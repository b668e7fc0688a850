"""The client's address behind trusted proxies, for the WSGI web process.

uvicorn's ``--proxy-headers`` does this for the websocket process; gunicorn
only takes the scheme from the proxy. Without it every request served by
gunicorn behind nginx would carry the proxy's address in ``REMOTE_ADDR``, and
the rate limits that tell clients apart by address (sign-in, search, the open
data API) would put everyone in one bucket.

Only a request whose direct peer is a trusted proxy (``FORWARDED_ALLOW_IPS``:
addresses or networks, comma-separated, ``*`` for any) has ``REMOTE_ADDR``
replaced: by the rightmost address in ``X-Forwarded-For`` that is not itself
a trusted proxy (nginx appends the peer it saw, so entries to the left of it
are whatever the client claimed). The same rule as uvicorn's.
"""

from __future__ import annotations

import ipaddress


class TrustedProxies:
    def __init__(self, app, *, trusted: list[str]) -> None:
        self.app = app
        self.any = "*" in trusted
        self.networks = []
        for entry in trusted:
            if entry and entry != "*":
                try:
                    self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
                except ValueError:
                    raise ValueError(
                        f"FORWARDED_ALLOW_IPS: {entry!r} is not an address, a network or *"
                    ) from None

    def is_trusted(self, address: str) -> bool:
        if self.any:
            return True
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The address to use for a request from ``peer`` with this X-Forwarded-For."""
        if not forwarded_for or not self.is_trusted(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                return hop
        return hops[0] if hops else peer

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR", "")
        environ["REMOTE_ADDR"] = self.client(peer, environ.get("HTTP_X_FORWARDED_FOR", ""))
        return self.app(environ, start_response)
