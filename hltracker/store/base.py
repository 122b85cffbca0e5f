"""What every store backend offers: the `Store` protocol, `SnapshotInfo` and `StoreError`.

The ingest loop writes through `land`, resumes through `load_state`, and the API reads through
`query(name, **params)` with the named queries of `queries.py`; nothing outside `store/` writes SQL.

Exceptions:

    Exception
     └── StoreError   a refused write (bad frame, out-of-order snapshot), an unknown query or parameter,
                      an unsupported database URL, a database newer than this code
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Self

import polars as pl

from hltracker.model.outputs import EngineResult, EngineState


class StoreError(Exception):
    """The store refused an operation; the message says what and why."""


@dataclass(frozen=True)
class SnapshotInfo:
    """One landed snapshot, as the `snapshots` table records it."""

    snapshot_id: int  # 1, 2, 3, ... in taken_at order
    taken_at: datetime  # UTC
    source: str
    height: int | None
    landed_at: datetime  # UTC
    position_count: int  # open positions at the snapshot
    wallet_count: int  # wallets at the snapshot


class Store(Protocol):
    """A database holding landed snapshots. Timestamps in and out are timezone-aware UTC datetimes."""

    backend: str  # "duckdb" or "postgres": the migrations folder
    read_only: bool

    def migrate(self) -> None:
        """Apply the migrations not applied yet (the constructor calls it)."""

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def last_snapshot(self) -> SnapshotInfo | None:
        """The snapshot landed last (the latest taken_at), or None when the store is empty."""

    def first_snapshot(self, source: str | None = None) -> SnapshotInfo | None:
        """The earliest landed snapshot, of `source` when given."""

    def has_snapshot(self, taken_at: datetime) -> bool: ...

    def wait_for_landing(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True as soon as another process lands a snapshot. Backends that
        cannot hear that (DuckDB: one process writes) sleep out the timeout and return False."""

    def snapshot_count(self) -> int: ...

    def land(
        self, result: EngineResult, *, source: str, height: int | None, extra: dict[str, Any], landed_at: datetime
    ) -> SnapshotInfo | None:
        """Write one snapshot's frames atomically.

        Returns the new snapshot's info, or None when a snapshot with that taken_at is already landed
        (nothing changes: re-ingesting is harmless). Raises StoreError, writing nothing, when a frame
        does not match its schema or when taken_at is older than the last landed snapshot.
        """

    def load_state(self) -> EngineState | None:
        """The last landed snapshot's taken_at and open positions: where the next engine run starts."""

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the named read query of `queries.QUERIES`; every parameter it names must be given."""

    def add_api_key(self, key_hash: str, name: str, created_at: datetime) -> None: ...

    def api_keys(self) -> pl.DataFrame: ...

    def revoke_api_key(self, key_hash: str, at: datetime) -> bool:
        """Mark the key revoked; False when there is no such key or it was revoked already."""
