"""Every way of starting the web process runs uvicorn the same way where it matters."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _web_commands() -> dict[str, str]:
    procfile = next(
        line
        for line in (ROOT / "platform" / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    dockerfile = next(
        line
        for line in (ROOT / "platform" / "Dockerfile").read_text().splitlines()
        if line.startswith("CMD")
    )
    compose = (ROOT / "platform" / "compose.yaml").read_text()
    services = re.findall(r"\n  (web\d):\n(.*?)(?=\n  \w|\Z)", compose, flags=re.S)
    makefile = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if "uvicorn" in line
    )
    commands = {"Procfile": procfile, "Dockerfile": dockerfile, "Makefile": makefile}
    commands.update({f"compose {name}": body for name, body in services})
    return commands


def test_the_web_services_are_all_found():
    assert {"Procfile", "Dockerfile", "Makefile", "compose web1", "compose web2"} <= set(
        _web_commands()
    )


def test_every_web_command_turns_permessage_deflate_off():
    for where, command in _web_commands().items():
        words = re.findall(r"[\w$:{}.-]+", command.replace('"', " "))
        assert "--ws-per-message-deflate" in words, where
        value = words[words.index("--ws-per-message-deflate") + 1]
        assert value in ("false", "${WS_PER_MESSAGE_DEFLATE:-false}"), (where, value)
