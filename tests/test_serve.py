"""`make serve` (issue 11, item 5): what it runs (scripts/serve.sh) on a fresh PostgreSQL database of its own, in the
production profile with generated keys, serves the styled console on gunicorn with the worker running; `/readyz`
answers 200 once the worker's heartbeat lands; with the database down every page answers 503 (the webhook inbox with
`Retry-After`), never 500, while `/healthz` stays 200.

The database is a throw-away PostgreSQL cluster (initdb/pg_ctl in a temp dir, on a free port), so stopping it never
touches the shared server. About two minutes, most of it migrating."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from tests.demo_stack import ROOT, free_port

PG_BIN = Path(shutil.which("pg_ctl") or "/usr/lib/postgresql/bin/pg_ctl").resolve().parent


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the cluster as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Cluster:
    data: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
            check=False, capture_output=True, timeout=60,
        )  # fmt: skip


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    home = Path(tempfile.mkdtemp(prefix="wh-serve-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    cluster = Cluster(data=home / "data", port=free_port())
    try:
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E",
                          "UTF8", "--no-sync"]),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -c port={cluster.port} -c unix_socket_directories={home} -c fsync=off"
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-o", options, "-l", str(home / "pg.log"),
                          "-w", "start"]),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "warehouse"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


class Client:
    """A browser behind the proxy: the proxy's X-Forwarded-Proto sent, cookies kept (the production profile marks
    them Secure; the proxy would speak HTTPS to the browser), redirects not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                return None

        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, path: str, *, data: bytes | None = None, headers: dict | None = None, proxied: bool = True):
        merged = {"X-Forwarded-Proto": "https"} if proxied else {}
        if self.cookies:
            merged["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(self.base + path, data=data, headers=merged | (headers or {}))
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, dict(response.headers), response.read()


def _wait_for(client: Client, path: str, status: int, *, within: float, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-4000:]
        with contextlib.suppress(OSError):
            last = client.request(path)
            if last[0] == status:
                return last
        time.sleep(1)
    raise AssertionError(f"{path} never answered {status}: {last}\n{log.read_text()[-4000:]}")


def test_make_serve_serves_the_styled_console_is_ready_and_answers_503_with_the_database_down(tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    with throwaway_cluster() as cluster:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "DATABASE_URL": cluster.url("warehouse"),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "Q_WORKERS": "1",
            "CONN_MAX_AGE": "60",
        }
        with log.open("w") as out:
            serve = subprocess.Popen(
                ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        client = Client(f"http://127.0.0.1:{port}")
        try:
            _wait_for(client, "/healthz", 200, within=240, process=serve, log=log)

            # Without the proxy's X-Forwarded-Proto the production profile redirects every request to https.
            status, headers, _ = client.request("/admin/login/", proxied=False)
            assert status == 301 and headers["Location"].startswith("https://"), (status, headers)
            # Probes are exempt: a load balancer checks over plain HTTP.
            assert client.request("/healthz", proxied=False)[0] == 200

            status, headers, body = client.request("/admin/login/")
            assert status == 200, body[:2000]
            stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', body.decode())
            assert stylesheets, body.decode()[:2000]
            for href in stylesheets:
                css_status, css_headers, css = client.request(href)
                assert css_status == 200 and css_headers["Content-Type"].startswith("text/css"), (href, css_status)
                assert css.strip(), href
            assert any(re.search(r"\.[0-9a-f]{12}\.css$", href) for href in stylesheets), "hashed, cacheable names"

            status, _, body = _wait_for(client, "/readyz", 200, within=150, process=serve, log=log)
            ready = json.loads(body)
            assert ready["status"] == "ready" and set(ready["checks"]) == {"database", "broker", "worker", "vault"}
            assert ready["checks"]["vault"] == {"ok": True, "keys": 1, "development_key": False}
            assert env["CREDENTIAL_KEYS"] not in body.decode() and env["SECRET_KEY"] not in body.decode()

            login_status, _, login_page = client.request("/accounts/login/")
            assert login_status == 200
            csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)
            assert csrf, login_page[:2000]

            cluster.stop()  # the database goes down under the running server

            status, headers, body = client.request("/readyz")
            assert status == 503, body
            assert json.loads(body)["checks"]["database"]["ok"] is False
            assert client.request("/healthz")[0] == 200, "liveness never depends on the database"

            status, headers, body = client.request(
                "/webhooks/shopify/1/", data=b"{}", headers={"Content-Type": "application/json"}
            )
            assert status == 503 and headers.get("Retry-After"), (status, headers, body)
            assert json.loads(body)["error"] == "database_unavailable"

            status, headers, body = client.request("/api/v1/orders/", headers={"Authorization": "Token " + "x" * 64})
            assert status == 503 and json.loads(body)["error"] == "database_unavailable", (status, body)

            form = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": csrf.group(1).decode(), "username": "someone", "password": "secret"}
            ).encode()
            status, headers, body = client.request(
                "/accounts/login/", data=form,
                headers={"Referer": f"https://127.0.0.1:{port}/accounts/login/",
                         "Content-Type": "application/x-www-form-urlencoded"},
            )  # fmt: skip
            assert status == 503 and headers["Content-Type"].startswith("text/html"), (status, body[:2000])
            assert b"Temporarily unavailable" in body
            assert "Internal Server Error" not in log.read_text(), "no 500 while the database was down"
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(serve.pid, signal.SIGTERM)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait(timeout=10)
