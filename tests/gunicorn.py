"""The production HTTP server around the test database: what Django's development server (live_server) cannot show,
e.g. `Transfer-Encoding: chunked` bodies, which it drops before any application code runs. Needs committed data
(`django_db(transaction=True)`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def gunicorn_url(django_db_setup, django_db_blocker):
    """One server per test module; the tests themselves run with `django_db(transaction=True)`."""
    settings_dict = connection.settings_dict
    user = quote(settings_dict["USER"]) + (f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else "")
    host = f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
    url = f"postgres://{user}@{host}/{settings_dict['NAME']}"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_PROFILE": "development", "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*command, "--workers", "1", "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/api/v1/", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGQUIT)  # quick shutdown (SIGTERM waits for the graceful timeout)
        server.wait(10)
