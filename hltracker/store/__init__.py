"""Storage: landed snapshots in DuckDB (PostgreSQL to come), migrations and the named read queries.

    store = open_store("duckdb:///var/lib/hltracker.duckdb")   # or a path, or None for the default
    store.land(result, source="simulator", height=None, extra={}, landed_at=now)
    store.query("coin_series", coin="BTC", start=..., end=..., before=None, limit=1000)

The caller reads `HLTRACKER_DATABASE_URL` and passes it in; this package reads no environment.
"""

from __future__ import annotations

from pathlib import Path

from hltracker.store.base import SnapshotInfo, Store, StoreError
from hltracker.store.duckdb_store import DuckDBStore
from hltracker.store.queries import QUERIES

DEFAULT_PATH = "./hltracker.duckdb"
_POSTGRES_SCHEMES = ("postgres://", "postgresql://", "postgresql+")


def open_store(url: str | Path | None = None, *, read_only: bool = False) -> DuckDBStore:
    """Open the store at `url`, applying pending migrations.

    None: `./hltracker.duckdb`. A plain path or ":memory:": that DuckDB file. `duckdb://<path>`: the
    same, so `duckdb:///abs/file.duckdb` is an absolute path and `duckdb://rel.duckdb` a relative one.
    `postgresql://...`: not available yet (StoreError). Any other `scheme://`: StoreError.
    `read_only`: open without writing or migrating (DuckDB: several processes may then share the file).
    """
    if url is None:
        return DuckDBStore(DEFAULT_PATH, read_only)
    if isinstance(url, Path):
        return DuckDBStore(url, read_only)
    if url.startswith("duckdb://"):
        path = url.removeprefix("duckdb://")
        if not path:
            raise StoreError("duckdb:// URL without a path; use duckdb:///abs/path, duckdb://rel/path or :memory:")
        return DuckDBStore(path, read_only)
    if url.startswith(_POSTGRES_SCHEMES):
        raise StoreError("PostgreSQL backend not available yet")
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise StoreError(f"unsupported database URL scheme {scheme!r}: use a DuckDB path, duckdb:// or postgresql://")
    return DuckDBStore(url, read_only)


__all__ = ["DEFAULT_PATH", "QUERIES", "DuckDBStore", "SnapshotInfo", "Store", "StoreError", "open_store"]
