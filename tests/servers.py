"""Starting the application in a process of its own, for tests that need a real server.

The browser tests (tests/browser/conftest.py) run one uvicorn process; the
scale-out test (tests/test_scale_out.py) runs the Procfile's web and ws
commands and a Celery worker. All share the test database pytest-django
created, found here by name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# A cold start imports all of Django and the apps; a busy CI machine is slow at it.
START_TIMEOUT = 40.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url_for(name: str) -> str:
    """DATABASE_URL pointing at the database `name` (the test database) on the same server."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


def spawn(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    # A process starting has no event to await: poll its health page until a deadline.
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/health/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer within {START_TIMEOUT}s:\n{log.read_text()}")


def stop(*processes: subprocess.Popen) -> None:
    """Ask every process to end, then wait for each; kill one that has not ended in 10 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
