"""Shared fixtures: a store filled by ingesting the small simulator (built once per test session).

`landed_store_path` is a DuckDB file holding `HISTORY_STEPS + 1` hourly snapshots of the `small`
profile from `HISTORY_START`: two days, so every "24 hours earlier" figure, 2-hour sample and age
window has data. Tests that need their own writable store copy the file (`store_copy`). `api` serves
the real app over real HTTP on a loopback port (uvicorn in a thread) with one API key.
"""

from __future__ import annotations

import shutil
import socket
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

from hltracker.ingest import Ingestor
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import Store, open_store

HISTORY_START = datetime(2026, 11, 18, tzinfo=UTC)
HISTORY_STEP = timedelta(hours=1)
HISTORY_STEPS = 48


@pytest.fixture(scope="session")
def landed_store_path(tmp_path_factory) -> Path:
    """A DuckDB file with two days of hourly `small` simulator snapshots (do not write to it)."""
    path = tmp_path_factory.mktemp("landed") / "history.duckdb"
    src = SimulatorSource(profile="small", seed=0, steps=HISTORY_STEPS, step=HISTORY_STEP, start=HISTORY_START)
    with open_store(path) as store:
        report = Ingestor(store).ingest(src.snapshots())
    assert report.landed == HISTORY_STEPS + 1 and not report.rejected
    return path


@pytest.fixture
def store_copy(landed_store_path, tmp_path) -> Path:
    """A private copy of the landed store file, free to write to."""
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(landed_store_path, path)
    return path


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


@contextmanager
def serve_app(app, port: int | None = None) -> Iterator[str]:
    """Run `app` with uvicorn in a thread on 127.0.0.1; yields the base URL, stops the server after."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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
def api(landed_store_path, tmp_path_factory) -> Iterator[RunningApi]:
    """The API over a copy of the landed store, with one key; shared by the API tests (read-only use)."""
    from hltracker.api import Settings, create_app
    from hltracker.api.auth import hash_key, new_key

    folder = tmp_path_factory.mktemp("api")
    path = folder / "api.duckdb"
    shutil.copyfile(landed_store_path, path)
    store = open_store(path)
    key = new_key()
    store.add_api_key(hash_key(key), "tests", datetime.now(UTC))
    settings = Settings(database=str(path), export_dir=folder / "exports", rate_limit_per_minute=0)
    app = create_app(store, settings)
    with serve_app(app) as base_url:
        yield RunningApi(base_url, key, store, app)
    store.close()
