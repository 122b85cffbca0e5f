"""Shared fixtures: stores on both backends, filled by ingesting the small simulator once per session.

Every test that uses `backend` (directly or through the fixtures below) runs twice: on a DuckDB file
and on a PostgreSQL database of a throwaway server (`postgres_server`: initdb + pg_ctl on a free
loopback port, started once per session and deleted after). Without PostgreSQL binaries the postgres
half skips, saying how to install them; with `HLTRACKER_REQUIRE_POSTGRES=1` (CI) it fails instead.

- `new_store_url()`: a fresh, empty store's URL (a file path, or a new database);
- `landed_store_url`: `HISTORY_STEPS + 1` hourly snapshots of the `small` profile from `HISTORY_START`:
  two days, so every "24 hours earlier" figure, 2-hour sample and age window has data (do not write);
- `store_copy`: a private writable copy of it (a file copy, or `CREATE DATABASE ... TEMPLATE`);
- `api`: the real app over real HTTP on a loopback port (uvicorn in a thread) with one API key.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from hltracker.api.edge import server_options
from hltracker.ingest import Ingestor
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import Store, open_store
from hltracker.testing.postgres_server import PostgresUnavailable, ThrowawayPostgres

HISTORY_START = datetime(2026, 11, 18, tzinfo=UTC)
HISTORY_STEP = timedelta(hours=1)
HISTORY_STEPS = 48


BACKENDS = ("duckdb", "postgres")
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    try:
        server = ThrowawayPostgres().start()
    except PostgresUnavailable as exc:
        if os.environ.get("HLTRACKER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"HLTRACKER_REQUIRE_POSTGRES=1 but {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def new_store_url(backend, request, tmp_path_factory):
    """A factory of fresh, empty store URLs on this test's backend."""
    server = request.getfixturevalue("postgres_server") if backend == "postgres" else None

    def make(name: str = "store") -> str:
        number = next(_database_numbers)
        if server is not None:
            return server.create_database(f"{name}_{number}")
        return str(tmp_path_factory.mktemp(f"{name}{number}") / f"{name}.duckdb")

    return make


def copy_store(url: str, name: str, request) -> str:
    """A copy of the store at `url` (which nobody may have open, for PostgreSQL)."""
    number = next(_database_numbers)
    if url.startswith("postgresql://"):
        server = request.getfixturevalue("postgres_server")
        return server.create_database(f"{name}_{number}", template=url.rsplit("/", 1)[1])
    path = Path(url).with_name(f"{name}{number}.duckdb")
    shutil.copyfile(url, path)
    return str(path)


_landed_templates: dict[str, str] = {}


def landed_template(backend: str, request) -> str:
    """Two days of hourly `small` snapshots on `backend`, landed once per session and never opened again
    (the template every copy is made from)."""
    if backend not in _landed_templates:
        if backend == "postgres":
            url = request.getfixturevalue("postgres_server").create_database("landed")
        else:
            url = str(request.getfixturevalue("tmp_path_factory").mktemp("landed") / "landed.duckdb")
        src = SimulatorSource(profile="small", seed=0, steps=HISTORY_STEPS, step=HISTORY_STEP, start=HISTORY_START)
        with open_store(url) as store:
            report = Ingestor(store).ingest(src.snapshots())
        assert report.landed == HISTORY_STEPS + 1 and not report.rejected
        _landed_templates[backend] = url
    return _landed_templates[backend]


@pytest.fixture(scope="session")
def landed_template_url(backend, request) -> str:
    return landed_template(backend, request)


@pytest.fixture(scope="session")
def landed_store_url(landed_template_url, request) -> str:
    """A shared copy of the landed store for tests that only read it (do not write to it)."""
    return copy_store(landed_template_url, "shared", request)


@pytest.fixture
def store_copy(landed_template_url, request) -> str:
    """A private copy of the landed store, free to write to."""
    return copy_store(landed_template_url, "copy", request)


@dataclass
class RunningApi:
    """The real app served by uvicorn on a loopback port, over a copy of the landed store."""

    base_url: str
    key: str
    store: Store
    app: object

    def client(self, **kwargs) -> httpx.Client:
        """An httpx client with the key set, like a HyperTracker user's code."""
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_process(*args: str, env: dict | None = None) -> subprocess.Popen:
    """`hltracker <args>` as a child process, stdout and stderr together as text (HLTRACKER_DATABASE_URL unset)."""
    full_env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1", **(env or {})}
    full_env.pop("HLTRACKER_DATABASE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "hltracker.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=full_env)


def stop_process(proc: subprocess.Popen) -> str:
    """Ctrl-C the child (a kill after 30 s); returns everything it printed."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


@contextmanager
def serve_app(app, port: int | None = None) -> Iterator[str]:
    """Run `app` with uvicorn in a thread on 127.0.0.1; yields the base URL, stops the server after."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **server_options()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def api(landed_template_url, request, tmp_path_factory) -> Iterator[RunningApi]:
    """The API over a copy of the landed store, with one key; shared by the API tests (read-only use)."""
    from hltracker.api import Settings, create_app
    from hltracker.api.auth import hash_key, new_key

    folder = tmp_path_factory.mktemp("api")
    url = copy_store(landed_template_url, "api", request)
    store = open_store(url)
    key = new_key()
    store.add_api_key(hash_key(key), "tests", datetime.now(UTC))
    settings = Settings(database=url, export_dir=folder / "exports", rate_limit_per_minute=0)
    app = create_app(store, settings)
    with serve_app(app) as base_url:
        yield RunningApi(base_url, key, store, app)
    store.close()
