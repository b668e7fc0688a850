"""What every benchmark needs: its own Redis, a fresh PostgreSQL database, uvicorn.

A ``Stack`` starts everything on 127.0.0.1 with the production settings
(DEBUG off, read from the environment as config/settings.py reads them),
and takes it all down again on exit, on Ctrl-C, on SIGTERM and when the
run's time limit passes: processes are killed and the database dropped.
Results go to bench/results/ (not committed).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform as _stdlib_platform  # the standard library module, not ../platform/
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results"
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
HOST = "127.0.0.1"


class TimeLimit(Exception):
    """The run's hard time limit passed."""


def log(*parts) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def percentile(values, p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of a list of numbers."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary_ms(seconds: list[float]) -> dict:
    """p50/p95/p99/max in milliseconds of a list of durations in seconds."""
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50": round(percentile(seconds, 50) * 1000, 1),
        "p95": round(percentile(seconds, 95) * 1000, 1),
        "p99": round(percentile(seconds, 99) * 1000, 1),
        "max": round(max(seconds) * 1000, 1),
        "mean": round(statistics.fmean(seconds) * 1000, 1),
    }


# --- processes -------------------------------------------------------------------


def _status_kb(pid: int, field: str) -> int | None:
    """A size in kB from /proc/<pid>/status; None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_kb(pid: int) -> int | None:
    return _status_kb(pid, "VmRSS")


def rss_anon_kb(pid: int) -> int | None:
    """Private resident memory (RssAnon): without the shared pages VmRSS also counts.

    A PostgreSQL backend's VmRSS grows with every shared buffer it touches;
    RssAnon is what the backend itself holds.
    """
    return _status_kb(pid, "RssAnon")


def redis_census(url: str) -> dict:
    """Keys in the run's Redis by kind (the part before the first ':' or '-'), and memory."""
    import redis

    r = redis.Redis.from_url(url)
    kinds: dict[str, int] = {}
    for key in r.scan_iter(count=1000):
        name = key.decode(errors="replace")
        kind = name.split(":", 1)[0].split("-", 2)[:2]
        kind = "-".join(kind) if name.startswith("celery-task-meta") else kind[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    info = r.info("memory")
    r.close()
    return {"keys": kinds, "used_memory_bytes": info.get("used_memory")}


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def child_pids(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return found


def _is_worker(pid: int) -> bool:
    """A uvicorn worker, not multiprocessing's resource tracker beside it."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"resource_tracker" not in f.read()
    except OSError:
        return False


def machine() -> dict:
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True
    ).stdout.split()
    pg = subprocess.run(
        ["psql", PG_SERVER + "/postgres", "-Atc", "show server_version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    versions = subprocess.run(
        [
            PYTHON,
            "-c",
            "import django, channels, channels_redis, redis, uvicorn, websockets, psycopg;"
            "print(django.__version__, channels.__version__, channels_redis.__version__,"
            " redis.__version__, uvicorn.__version__, websockets.__version__, psycopg.__version__)",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    names = ["django", "channels", "channels_redis", "redis-py", "uvicorn", "websockets", "psycopg"]
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": _stdlib_platform.python_version(),
        "postgresql": pg,
        "redis": next((p.split("=")[1] for p in redis_version if p.startswith("v=")), "?"),
        "kernel": _stdlib_platform.release(),
        "packages": dict(zip(names, versions, strict=False)),
    }


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def psql(sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        ["psql", f"{PG_SERVER}/{database}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout


class Stack:
    """Redis, a fresh database and uvicorn for one run; a context manager.

    ``workers`` uvicorn workers share one port (``--workers``) unless
    ``ports`` > 1: then the first port serves HTTP from ``server`` (uvicorn, or
    gunicorn's WSGI sync workers) and each other port the sockets from uvicorn,
    ``workers`` workers each (no proxy in front).
    """

    def __init__(
        self,
        name: str,
        *,
        workers: int = 2,
        ports: int = 1,
        env: dict | None = None,
        time_limit: float = 900,
        redis_port: int | None = None,
        celery: bool = False,
        ws: str = "auto",
        ws_deflate: bool = False,
        server: str = "uvicorn",
        split: bool = False,
        app: str = "config.asgi:application",
        uvicorn_options: tuple[str, ...] = (),
    ) -> None:
        if server not in ("uvicorn", "gunicorn"):
            raise ValueError(f"unknown server {server!r}")
        self.name = name
        # uvicorn (ASGI: HTTP and websockets) or gunicorn (WSGI sync workers: HTTP only).
        self.server = server
        self.ws = ws  # uvicorn's websocket implementation; "auto" as platform/Procfile
        # permessage-deflate on the server: off as in platform/Procfile.
        self.ws_deflate = ws_deflate
        self.workers = workers
        # split: HTTP and sockets on two ports, as platform/Procfile runs them.
        self.split = split
        # What uvicorn serves: the project's application, or a bench wrapper of it.
        self.app = app
        self.uvicorn_options = uvicorn_options  # added to uvicorn's command line
        self.ports = 2 if split else ports
        self.time_limit = time_limit
        self.celery = celery
        self.db = f"dugnad_bench_{name}_{os.getpid()}"
        self.redis_port = redis_port or free_port()
        self.web_ports = [free_port() for _ in range(self.ports)]
        self.processes: dict[str, subprocess.Popen] = {}
        self.workdir = RESULTS / "run" / f"{name}-{os.getpid()}"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_created = False
        self.extra_env = env or {}
        self.secret_key = "bench-" + secrets.token_hex(24)
        self._old_handlers: dict = {}

    # --- environment ---------------------------------------------------------------

    @property
    def redis_url(self) -> str:
        # The server is this run's own; db 3 as in the team's allocation.
        return f"redis://{HOST}:{self.redis_port}/3"

    @property
    def database_url(self) -> str:
        return f"{PG_SERVER}/{self.db}"

    @property
    def base_urls(self) -> list[str]:
        return [f"http://{HOST}:{port}" for port in self.web_ports]

    def env(self) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMAIL_HOST", "SQLITE_PATH")
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "BENCH_STATIC_ROOT": str(RESULTS / "staticfiles"),
                "DEBUG": "0",
                "SECRET_KEY": self.secret_key,
                "ALLOWED_HOSTS": HOST,
                # Each client's socket sends its own server's origin (core/origins.py).
                "SITE_URL": self.base_urls[0],
                "CSRF_TRUSTED_ORIGINS": ",".join(self.base_urls),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "SECURE_SSL_REDIRECT": "0",
                "SECURE_HSTS_SECONDS": "0",
                "LOG_LEVEL": "WARNING",
                "DB_POOL_MAX_SIZE": "10",
                "EMAIL_FILE_PATH": str(self.workdir / "mail"),
                "MEDIA_ROOT": str(self.workdir / "media"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    # --- start and stop --------------------------------------------------------------

    def __enter__(self) -> Stack:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        signal.alarm(int(self.time_limit))
        try:
            self.start_redis()
            self.create_database()
            self.manage("migrate", "--noinput", "-v0")
            self.manage("collectstatic", "--noinput", "-v0")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        signal.alarm(0)
        self.stop()
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum, frame):
        if signum == signal.SIGALRM:
            raise TimeLimit(f"run exceeded its limit of {self.time_limit:.0f} s")
        raise KeyboardInterrupt(f"signal {signum}")

    def spawn(self, label: str, command: list[str], **kwargs) -> subprocess.Popen:
        log_path = self.workdir / f"{label}.log"
        with log_path.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603
                command,
                cwd=ROOT,
                env=kwargs.pop("env", None) or self.env(),
                stdout=kwargs.pop("stdout", out),
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )
        self.processes[label] = process
        return process

    def start_redis(self) -> None:
        self.spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxclients",
                "10000",
                "--dir",
                str(self.workdir),
            ],  # fmt: skip
        )
        self.wait_redis()

    def wait_redis(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.redis_port), 1):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def restart_redis(self, down_for: float = 1.0) -> dict:
        """Kill this run's Redis outright and start it again (data is lost, as in a crash)."""
        process = self.processes["redis"]
        t0 = time.time()
        process.kill()
        process.wait(10)
        time.sleep(down_for)
        self.start_redis()
        return {"killed_at": t0, "up_at": time.time()}

    def create_database(self) -> None:
        psql(f'CREATE DATABASE "{self.db}"')
        self.db_created = True

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True, text=True
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def run_module(self, module: str, *args: str) -> dict:
        """Run a bench module under Django (seeding, checks) and parse its JSON output."""
        result = subprocess.run(
            [PYTHON, "-m", module, *args], cwd=ROOT, env=self.env(), capture_output=True, text=True
        )
        if result.returncode:
            raise RuntimeError(f"{module} failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def start_web(self) -> None:
        if self.ports == 1:
            self._uvicorn("web", self.web_ports[0], self.workers)
        else:
            # Split as platform/nginx.conf routes it: the first port takes HTTP (from
            # ``server``), the others the sockets (uvicorn); ``workers`` workers each.
            for i, port in enumerate(self.web_ports):
                server = None if i == 0 else "uvicorn"
                self._uvicorn(f"web{i}", port, self.workers, server=server)
        for url in self.base_urls:
            self.wait_http(url)
        if self.celery:
            self.spawn(
                "celery",
                [PYTHON, "-m", "celery", "-A", "config", "worker", "--concurrency", "1",
                 "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip",
                 "--without-mingle"],
            )  # fmt: skip

    def _uvicorn(self, label: str, port: int, workers: int, server: str | None = None) -> None:
        if (server or self.server) == "gunicorn":
            self.spawn(
                label,
                [
                    PYTHON, "-m", "gunicorn", "config.wsgi:application",
                    "--bind", f"{HOST}:{port}", "--workers", str(workers),
                    "--worker-class", "sync", "--log-level", "warning",
                ],
            )  # fmt: skip
            return
        self.spawn(
            label,
            [
                PYTHON, "-m", "uvicorn", self.app,
                "--host", HOST, "--port", str(port), "--workers", str(workers),
                "--lifespan", "off", "--log-level", "warning", "--no-access-log",
                "--ws", self.ws,
                "--ws-per-message-deflate", "true" if self.ws_deflate else "false",
                *self.uvicorn_options,
            ],
        )  # fmt: skip

    def wait_http(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for label, process in self.processes.items():
                if process.poll() is not None:
                    tail = (self.workdir / f"{label}.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{label} exited with {process.returncode}:\n{tail}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(url + "/health/", timeout=2) as response,  # noqa: S310
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{url} did not answer within {timeout}s")

    def web_workers(self) -> list[int]:
        """PIDs of the processes that serve requests (uvicorn's workers)."""
        pids = []
        for label, process in self.processes.items():
            if label.startswith("web"):
                children = [c for c in child_pids(process.pid) if _is_worker(c)]
                pids += children if children else [process.pid]
        return pids

    def database_backends(self) -> list[int]:
        out = psql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.db}'")
        return [int(x) for x in out.split()]

    def process_table(self) -> dict[str, int]:
        """label -> pid of every process of the run, uvicorn workers and PG backends included."""
        table = {}
        for label, process in self.processes.items():
            if process.poll() is None:
                table[label] = process.pid
                children = [c for c in child_pids(process.pid) if _is_worker(c)]
                for i, child in enumerate(children):
                    table[f"{label}.worker{i}"] = child
        return table

    def cpu_pids(self, extra: dict[str, int] | None = None) -> dict[str, int]:
        """Processes whose CPU time a step reports: the run's, its PG backends, the clients."""
        table = {k: v for k, v in self.process_table().items() if not k.startswith("clients")}
        try:
            for i, pid in enumerate(self.database_backends()):
                table[f"postgres.backend{i}"] = pid
        except RuntimeError:
            pass
        return table | (extra or {})

    def stop(self) -> None:
        signal.alarm(0)
        for _label, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if self.db_created:
            try:
                psql(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
                self.db_created = False
            except RuntimeError as exc:
                log("could not drop", self.db, exc)


def seeded_ids(connection) -> tuple[list[int], int, int]:
    """After a bulk seed in SQL: the studies' ids in order, and the first user's and
    organisation's, for the rows that refer to them (``connection``: Django's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM studies_study ORDER BY id")
        study_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT min(id) FROM accounts_user")
        first_user = cursor.fetchone()[0]
        cursor.execute("SELECT min(id) FROM accounts_organisation")
        first_org = cursor.fetchone()[0]
    return study_ids, first_user, first_org


def bench_database_checked(parser, database: str, timeout: int) -> None:
    """Refuse a database the run may not drop, and give up the run after ``timeout`` s."""
    if not database.startswith("dugnad_bench_"):
        parser.error("the database name must start with dugnad_bench_ (it is dropped)")

    def give_up(signum, frame):
        raise TimeoutError(f"gave up after {timeout} s")

    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(timeout)


def add_split_arguments(parser) -> None:
    """--split and --server: the posts and the sockets served apart, as in production."""
    parser.add_argument(
        "--split",
        action="store_true",
        help="HTTP and sockets apart, as platform/Procfile runs them: the posts go to one "
        "process (--server), the sockets to uvicorn, --workers workers each",
    )
    parser.add_argument(
        "--server",
        choices=["uvicorn", "gunicorn"],
        default="uvicorn",
        help="with --split: what serves HTTP (gunicorn: WSGI sync workers)",
    )


def split_arguments_checked(parser, args) -> None:
    """gunicorn serves no WebSockets, so it needs the sockets' own process (--split)."""
    if args.server == "gunicorn" and not args.split:
        parser.error("--server gunicorn serves no sockets: add --split")


def split_stack(name: str, args, **options) -> Stack:
    """The run's Stack from the options add_split_arguments added, with --workers and
    --time-limit."""
    return Stack(
        name,
        workers=args.workers,
        split=args.split,
        server=args.server,
        time_limit=args.time_limit,
        **options,
    )


def result_header(name: str, args) -> dict:
    """How every benchmark's result starts: which, called how, on what and when."""
    options = " ".join(f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items())
    return {
        "benchmark": name,
        "command": f"python -m bench.{name} {options}",
        "machine": machine(),
        "load_before": loadavg(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    return path
