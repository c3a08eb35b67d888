"""The demo's processes, as `make demo` starts them (scripts/demo.sh), on a temp SQLite file, temp ports and temp logs:
migrate, seed, sync the schedules, then the web server, the django-q2 worker and one simulator per demo connection.
Each runs in its own process group, so stopping it also stops what it forked (the cluster's workers)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_ERROR = "database is locked"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post_json(url: str, body: dict, timeout: float = 30) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def get_json(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass
class DemoStack:
    database: Path
    logs: Path
    port: int
    seeded: dict
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connection(self, platform: str) -> dict:
        return next(c for c in self.seeded["connections"] if c["platform"] == platform)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def lock_errors(self) -> dict[str, int]:
        """How many times each process logged SQLite's lock error."""
        return {name: self.log(name).count(LOCK_ERROR) for name in self.processes}


def _wait_http(url: str, *, process: subprocess.Popen, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@contextlib.contextmanager
def demo_stack(tmp_path: Path, **extra_env: str) -> Iterator[DemoStack]:
    port, shopify, woocommerce, bigcommerce = free_port(), free_port(), free_port(), free_port()
    database, logs = tmp_path / "demo.sqlite3", tmp_path / "log"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DB_NAME", "DJANGO_PROFILE")}
    env |= {
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_PROFILE": "development",
        "PYTHONUNBUFFERED": "1",
        "DEMO_PORT": str(port),
        "DEMO_SHOPIFY_PORT": str(shopify),
        "DEMO_WOOCOMMERCE_PORT": str(woocommerce),
        "DEMO_BIGCOMMERCE_PORT": str(bigcommerce),
        **extra_env,
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout

    manage("migrate", "--noinput")
    seeded = json.loads(manage("seed_demo", "--json"))
    manage("sync_schedules")
    stack = DemoStack(database=database, logs=logs, port=port, seeded=seeded)

    def start(name: str, *args: str) -> subprocess.Popen:
        with (logs / f"{name}.log").open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        stack.processes[name] = process
        return process

    try:
        web = start("web", "runserver", f"127.0.0.1:{port}", "--noreload")
        start("worker", "qcluster")
        for connection in seeded["connections"]:
            sim_port = connection["simulator_url"].rsplit(":", 1)[1]
            platform = connection["platform"]
            start(
                f"simulator-{platform}", "run_simulator", platform, "--port", sim_port,
                "--connection", str(connection["id"]), "--hub-base", stack.base,
            )  # fmt: skip
        _wait_http(f"{stack.base}/admin/login/", process=web, within=60)
        for connection in seeded["connections"]:
            _wait_http(f"{connection['simulator_url']}/_sim/ledger", process=web, within=60)
        yield stack
    finally:
        for process in stack.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10  # the cluster's sentinel sometimes waits on its pusher for good
        for process in stack.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
