"""`hltracker demo`: a simulated market with history, ingested, served, and ticking live in one process.

DuckDB allows one writing process, so the demo ingests inside the server process: `LiveIngest` lands
one simulator step per `interval` in a thread, paced so that simulated time follows the wall clock,
and tells the API's snapshot watcher at once so cached responses are dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from hltracker.api.live import SnapshotWatcher
from hltracker.ingest import Ingestor
from hltracker.model import Snapshot
from hltracker.sources.simulator import SimulatorSource

log = logging.getLogger("hltracker.demo")


def demo_source(profile: str, seed: int, days: float, history_step: timedelta, live_step: timedelta,
                now: datetime) -> tuple[SimulatorSource, int]:
    """A simulator whose history of `days` ends at `now`, then steps `live_step` at a time; and the number
    of history snapshots (genesis included)."""
    steps = max(1, round(days * 86400 / history_step.total_seconds()))
    start = (now - steps * history_step).replace(microsecond=0)
    src = SimulatorSource(profile=profile, seed=seed, steps=steps, step=history_step, start=start,
                          live_step=live_step)
    return src, steps + 1


class LiveIngest(threading.Thread):
    """Lands the rest of `snapshots`, each once the wall clock reaches its `taken_at`."""

    def __init__(self, ingestor: Ingestor, snapshots: Iterator[Snapshot], watcher: SnapshotWatcher,
                 on_landed: Callable[[Snapshot], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(name="live-ingest", daemon=True)
        self.ingestor, self.snapshots, self.watcher = ingestor, snapshots, watcher
        self.on_landed = on_landed
        self.clock = clock
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            for snap in self.snapshots:
                wait = (snap.taken_at - self.clock()).total_seconds()
                if wait > 0 and self.stopping.wait(wait):
                    return
                if self.stopping.is_set():
                    return
                if self.ingestor.offer(snap):
                    self.watcher.refresh()
                    if self.on_landed is not None:
                        self.on_landed(snap)
        except Exception:
            log.exception("live ingest stopped")

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


def wait_for(predicate: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()
