"""Storage: landed snapshots in DuckDB or PostgreSQL, migrations and the named read queries.

    store = open_store("duckdb:///var/lib/hltracker.duckdb")   # or a path, or None for the default
    store = open_store("postgresql://hltracker@db.internal/hltracker", pool_size=10)
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
_POSTGRES_SCHEMES = ("postgres://", "postgresql://", "postgresql+psycopg://")


POSTGRES_INSTALL = "pip install 'hltracker[postgres]'"


def open_store(url: str | Path | None = None, *, read_only: bool = False, pool_size: int = 10) -> Store:
    """Open the store at `url`, applying pending migrations.

    None: `./hltracker.duckdb`. A plain path or ":memory:": that DuckDB file. `duckdb://<path>`: the
    same, so `duckdb:///abs/file.duckdb` is an absolute path and `duckdb://rel.duckdb` a relative one.
    `postgresql://...` or `postgres://...`: a PostgreSQL database (libpq URL) through a pool of up to
    `pool_size` connections; needs the `postgres` extra. Any other `scheme://`: StoreError.
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
        return _postgres(url.replace("postgresql+psycopg://", "postgresql://", 1), read_only, pool_size)
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise StoreError(f"unsupported database URL scheme {scheme!r}: use a DuckDB path, duckdb:// or postgresql://")
    return DuckDBStore(url, read_only)


def _postgres(url: str, read_only: bool, pool_size: int) -> Store:
    try:
        from hltracker.store.postgres_store import PostgresStore
    except ImportError as exc:
        if "psycopg" not in f"{exc.name} {exc}":  # missing, or installed without a libpq to load
            raise
        raise StoreError(
            f"a postgresql:// database needs the PostgreSQL driver (psycopg 3, {exc}): {POSTGRES_INSTALL}"
        ) from None
    return PostgresStore(url, read_only=read_only, pool_size=pool_size)


__all__ = [
    "DEFAULT_PATH", "POSTGRES_INSTALL", "QUERIES", "DuckDBStore", "SnapshotInfo", "Store", "StoreError", "open_store",
]
