"""What the dashboard scripts (screenshots, benchmark) share: a landed simulator store and the app serving
it with the dashboard on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from rich.progress import Progress

from hltracker.api import Settings, create_app
from hltracker.ingest import Ingestor
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import open_store
from hltracker.web import mount_dashboard


def landed_store(path: Path, profile: str = "small", days: float = 3.0, step_hours: float = 1.0) -> Path:
    """A DuckDB store at `path` holding `days` of `profile` snapshots ending now (reused when present)."""
    if path.exists():
        return path
    steps = round(days * 24 / step_hours)
    step = timedelta(hours=step_hours)
    start = (datetime.now(UTC) - steps * step).replace(microsecond=0)
    src = SimulatorSource(profile=profile, seed=0, steps=steps, step=step, start=start)
    with open_store(str(path)) as store, Progress() as bar:
        task = bar.add_task(f"simulating {days:g} days of '{profile}'", total=steps + 1)
        ingestor = Ingestor(store)
        for snapshot in src.snapshots():
            ingestor.offer(snapshot)
            bar.advance(task)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_dashboard(store_path: Path, export_dir: Path) -> Iterator[str]:
    """The app over the store with an open dashboard, served by uvicorn in a thread; yields its base URL."""
    store = open_store(str(store_path))
    app = create_app(store, Settings(database=str(store_path), dashboard_auth="open", export_dir=export_dir,
                                     rate_limit_per_minute=0), dashboard=mount_dashboard)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
