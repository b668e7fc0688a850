"""The WSGI web process (config/wsgi.py, platform/Procfile's ``web``): the client's
address behind trusted proxies (core/proxy.py) and the queue-time 503
(core/shedding.py), in front of Django."""

from __future__ import annotations

import io

import pytest

from core.proxy import TrustedProxies
from core.shedding import BUSY_BODY, QueueTimeShedding


class Recorder:
    """A WSGI app that remembers the environ it was called with."""

    def __init__(self) -> None:
        self.environ = None

    def __call__(self, environ, start_response):
        self.environ = environ
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def call(app, **environ):
    status = []
    body = b"".join(app(environ, lambda s, headers: status.append((s, dict(headers)))))
    return status[0][0], status[0][1], body


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        # nginx on this host appends the address it saw: that one is the client.
        (["127.0.0.1"], "127.0.0.1", "203.0.113.7", "203.0.113.7"),
        # Whatever the client claimed to the left of it is not believed.
        (["127.0.0.1"], "127.0.0.1", "10.0.0.1, 203.0.113.7", "203.0.113.7"),
        # Two trusted proxies in a row: the first untrusted address from the right.
        (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", "198.51.100.2, 10.1.2.3", "198.51.100.2"),
        # A peer that is not a trusted proxy cannot name another address.
        (["127.0.0.1"], "198.51.100.9", "203.0.113.7", "198.51.100.9"),
        # No header: the peer.
        (["127.0.0.1"], "127.0.0.1", "", "127.0.0.1"),
        # Every hop trusted ("*"): the leftmost, as uvicorn does.
        (["*"], "172.18.0.5", "203.0.113.7, 172.18.0.9", "203.0.113.7"),
        # Garbage in the header is never taken as a trusted hop; IPv6 works.
        (["::1"], "::1", "not-an-address", "not-an-address"),
        (["::1"], "::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_remote_addr_comes_from_x_forwarded_for_only_through_a_trusted_proxy(
    trusted, peer, forwarded, client
):
    app = Recorder()
    status, _, _ = call(
        TrustedProxies(app, trusted=trusted), REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded
    )
    assert status == "200 OK"
    assert app.environ["REMOTE_ADDR"] == client


def test_a_bad_trusted_proxy_entry_is_refused_with_its_name():
    with pytest.raises(ValueError, match="FORWARDED_ALLOW_IPS: 'proxy.example' is not"):
        TrustedProxies(Recorder(), trusted=["127.0.0.1", "proxy.example"])


@pytest.mark.parametrize(
    ("stamp", "answered"),
    [
        ("t=1000.0", "200 OK"),  # waited 4 s of 5
        ("t=994.5", "503 Service Unavailable"),  # waited 9.5 s
        ("994.5", "503 Service Unavailable"),  # the stamp without "t="
        ("", "200 OK"),  # no proxy stamp: nothing to judge
        ("t=soon", "200 OK"),  # a stamp that is not a time is ignored, not an error
        ("t=nan", "200 OK"),
        ("t=inf", "200 OK"),
        ("t=-5", "200 OK"),
    ],
)
def test_a_request_that_waited_too_long_behind_the_proxy_gets_503_before_django(stamp, answered):
    app = Recorder()
    shedding = QueueTimeShedding(app, wait=5, clock=lambda: 1004.0)
    status, headers, body = call(shedding, HTTP_X_REQUEST_START=stamp)
    assert status == answered
    if answered.startswith("503"):
        assert app.environ is None  # Django never saw it
        assert headers["Retry-After"] == "1"
        assert body == BUSY_BODY
        assert shedding.shed == 1
    else:
        assert body == b"ok"
        assert shedding.shed == 0


def test_zero_seconds_turns_queue_time_shedding_off():
    app = Recorder()
    status, _, _ = call(
        QueueTimeShedding(app, wait=0, clock=lambda: 10_000.0), HTTP_X_REQUEST_START="t=1"
    )
    assert status == "200 OK"


# Transactional: the WSGI handler closes the database connection at a request's
# start (request_started), which the default per-test transaction would forbid.
@pytest.mark.django_db(transaction=True)
def test_the_wsgi_application_serves_django_with_both_in_front():
    from config import wsgi

    assert isinstance(wsgi.application, TrustedProxies)
    assert isinstance(wsgi.application.app, QueueTimeShedding)
    status, _, body = call(
        wsgi.application,
        REQUEST_METHOD="GET",
        PATH_INFO="/health/",
        SERVER_NAME="testserver",
        SERVER_PORT="80",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
        **{"wsgi.url_scheme": "http", "wsgi.input": io.BytesIO()},
    )
    assert status == "200 OK", body
