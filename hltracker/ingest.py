"""Ingest: source -> engine -> store, one snapshot at a time, resumable after a crash.

The loop owns what the pure engine must not: the clock (`landed_at`), skipping what already landed,
rejecting malformed snapshots, and resuming. Resume works because every landing is one transaction
that also replaces the open-position state: after a kill at any point the store holds the last landed
snapshot and its state, and the next run starts from there (`Store.load_state`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hltracker.engine import next_state, run
from hltracker.model import Snapshot, SnapshotError, validate_snapshot
from hltracker.store import Store

log = logging.getLogger("hltracker.ingest")


@dataclass(frozen=True)
class Rejected:
    """A snapshot that could not be used: where it came from and every reason."""

    where: str
    problems: list[str]


@dataclass
class IngestReport:
    landed: int = 0
    skipped: int = 0  # already landed (re-ingest changes nothing)
    rejected: list[Rejected] = field(default_factory=list)
    last_taken_at: datetime | None = None
    engine_seconds: float = 0.0
    store_seconds: float = 0.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Ingestor:
    """Feeds snapshots through the engine into `store`, starting from the store's own state."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = _utcnow):
        self.store = store
        self.clock = clock
        self.state = store.load_state()
        self.report = IngestReport()
        if self.state is not None:
            self.report.last_taken_at = self.state.taken_at

    def offer(self, item: Snapshot | Rejected) -> bool:
        """Take one snapshot (or a source's rejection); True when it landed."""
        if isinstance(item, Rejected):
            self._reject(item)
            return False
        snap = item
        last = self.state.taken_at if self.state else None
        if last is not None and snap.taken_at <= last:
            self.report.skipped += 1
            return False
        try:
            validate_snapshot(snap)
        except SnapshotError as exc:
            self._reject(Rejected(f"{snap.source} snapshot at {snap.taken_at.isoformat()}", exc.problems))
            return False
        t0 = time.perf_counter()
        result = run(snap, self.state)
        t1 = time.perf_counter()
        info = self.store.land(result, source=snap.source, height=snap.height, extra=dict(snap.extra),
                               landed_at=self.clock())
        self.report.engine_seconds += t1 - t0
        self.report.store_seconds += time.perf_counter() - t1
        self.state = next_state(result)
        self.report.last_taken_at = snap.taken_at
        if info is None:  # landed by someone else in the meantime: nothing changed
            self.report.skipped += 1
            return False
        self.report.landed += 1
        return True

    def ingest(self, items: Iterable[Snapshot | Rejected], on_item: Callable[[], None] | None = None) -> IngestReport:
        """Offer every item in order; `on_item` is called after each (progress bars)."""
        for item in items:
            self.offer(item)
            if on_item is not None:
                on_item()
        return self.report

    def _reject(self, rejected: Rejected) -> None:
        self.report.rejected.append(rejected)
        log.warning("rejected %s: %s", rejected.where, "; ".join(rejected.problems))


def paced(items: Iterable[Snapshot | Rejected], after: int, interval: float,
          sleep: Callable[[float], None] = time.sleep,
          monotonic: Callable[[], float] = time.monotonic) -> Iterator[Snapshot | Rejected]:
    """Yield the first `after` items at once, then one per `interval` wall-clock seconds (live ticking)."""
    next_at = None
    for i, item in enumerate(items):
        if i >= after:
            now = monotonic()
            if next_at is not None and now < next_at:
                sleep(next_at - now)
            next_at = max(now, next_at or now) + interval
        yield item


def simulator_start(store: Store, requested: datetime | None, days: float, step: timedelta,
                    now: datetime) -> datetime:
    """Where a simulator backfill begins.

    The simulator is deterministic from its start, so a store that already holds a simulator run must be
    resumed from that run's first snapshot (any other start would replay a different market). Without
    one: `requested`, else `days` before `now`, floored to the step so the backfill ends by now.
    """
    first = store.first_snapshot("simulator")
    if first is not None:
        if requested is not None and requested != first.taken_at:
            raise ValueError(f"the store holds a simulator run that began at {first.taken_at.isoformat()}; "
                             "resume it without --start (or with that start), or use another database")
        return first.taken_at
    if requested is not None:
        return requested
    step_ms = int(step.total_seconds() * 1000)
    begin_ms = int((now - timedelta(days=days)).timestamp() * 1000)
    return datetime.fromtimestamp(begin_ms // step_ms * step_ms / 1000, tz=UTC)
