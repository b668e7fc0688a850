"""Every way of starting Dugnad's processes agrees where it matters.

Pages and posts come from gunicorn (config.wsgi), live sockets from uvicorn
(config.asgi) with permessage-deflate off; nginx routes between them.
`make run` stays one uvicorn process for both.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = ROOT / "platform"


def _procfile(kind: str) -> str:
    return next(
        line
        for line in (PLATFORM / "Procfile").read_text().splitlines()
        if line.startswith(f"{kind}:")
    )


def _compose_services(prefix: str) -> dict[str, str]:
    compose = (PLATFORM / "compose.yaml").read_text()
    services = re.findall(rf"\n  ({prefix}\d):\n(.*?)(?=\n  \w|\Z)", compose, flags=re.S)
    return {f"compose {name}": body for name, body in services}


def _web_commands() -> dict[str, str]:
    """What serves HTTP in production."""
    lines = (PLATFORM / "Dockerfile").read_text().splitlines()
    dockerfile = next(line for line in lines if line.startswith("CMD"))
    return {"Procfile web": _procfile("web"), "Dockerfile": dockerfile} | _compose_services("web")


def _socket_commands() -> dict[str, str]:
    """What serves live sockets: production's ws processes and `make run`."""
    makefile = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if "uvicorn" in line
    )
    return {"Procfile ws": _procfile("ws"), "Makefile": makefile} | _compose_services("ws")


def _words(command: str) -> list[str]:
    return re.findall(r"[\w$:{}.-]+", command.replace('"', " "))


def test_the_services_are_all_found():
    assert set(_web_commands()) == {"Procfile web", "Dockerfile", "compose web1", "compose web2"}
    assert set(_socket_commands()) == {"Procfile ws", "Makefile", "compose ws1", "compose ws2"}


def test_every_web_command_is_gunicorn_serving_the_wsgi_application():
    for where, command in _web_commands().items():
        words = _words(command)
        assert "gunicorn" in words, where
        assert "config.wsgi:application" in words, where
        assert "uvicorn" not in words, where


def test_every_socket_command_is_uvicorn_with_permessage_deflate_off():
    for where, command in _socket_commands().items():
        words = _words(command)
        assert "uvicorn" in words, where
        assert "config.asgi:application" in words, where
        assert "--ws-per-message-deflate" in words, where
        value = words[words.index("--ws-per-message-deflate") + 1]
        assert value in ("false", "${WS_PER_MESSAGE_DEFLATE:-false}"), (where, value)


def test_nginx_sends_sockets_to_ws_and_the_rest_stamped_to_web():
    conf = (PLATFORM / "nginx.conf").read_text()
    upstreams = dict(re.findall(r"upstream (\w+) \{(.*?)\}", conf, flags=re.S))
    locations = dict(re.findall(r"location (\S+) \{(.*?)\n    \}", conf, flags=re.S))
    assert "proxy_pass http://dugnad_ws;" in locations["/ws/"]
    assert "proxy_pass http://dugnad_web;" in locations["/"]
    # The stamp core/shedding.py's QueueTimeShedding reads.
    assert 'proxy_set_header X-Request-Start "t=${msec}";' in locations["/"]
    assert "proxy_set_header X-Forwarded-For" in locations["/"]
    web_hosts = re.findall(r"server (\w+):(\d+)", upstreams["dugnad_web"])
    ws_hosts = re.findall(r"server (\w+):(\d+)", upstreams["dugnad_ws"])
    assert web_hosts == [("web1", "8000"), ("web2", "8000")]
    assert ws_hosts == [("ws1", "8001"), ("ws2", "8001")]
    for name, command in _compose_services("ws").items():
        assert '"--port", "8001"' in command, name
