"""The DuckDB backend: an embedded file (or ":memory:") holding every landed snapshot.

Writes go through one connection, serialized by a lock; each landing is one transaction that moves
whole frames through Arrow (`INSERT INTO t (...) SELECT ... FROM <registered Arrow table>`), never row
by row. Reads use one cursor per thread (DuckDB connections are not safe to share between threads),
so API workers can read while a landing is under way and see the previous snapshot until it commits.
The session time zone is UTC, and every timestamp read comes back as Polars Datetime("ms", "UTC").
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import duckdb
import polars as pl

from hltracker.model.outputs import OPEN_POSITIONS_SCHEMA, OPEN_TRADES_SCHEMA, EngineResult, EngineState
from hltracker.model.schemas import UTC_MS
from hltracker.store.base import SnapshotInfo, StoreError
from hltracker.store.checks import check_frames, next_snapshot, query_sql, to_ms, utc, utc_ms
from hltracker.store.layout import (
    APPENDED_TABLES,
    FRAME_TABLES,
    REGISTER_COINS,
    REPLACED_TABLES,
    ROW_ID_BASE,
    WALLET_HISTORY_APPEND,
    WALLET_HISTORY_DONE,
    WALLET_HISTORY_KEEP_PREVIOUS,
    key_columns,
    table_columns,
)
from hltracker.store.migrations import check_current, pending

_SNAPSHOT_INFO = "snapshot_id, taken_at, source, height, landed_at, position_count, wallet_count"
_LANDING_VIEW = "_hltracker_landing"


class DuckDBStore:
    """The `Store` protocol (store/base.py) on DuckDB."""

    backend = "duckdb"

    def __init__(self, path: str | Path, read_only: bool = False):
        """Open (creating and migrating) the database; `read_only`: no writes and no migrations, so several
        processes (API workers) can share the file while no process holds it for writing."""
        self.path = str(path)
        self.read_only = read_only
        if read_only and (self.path == ":memory:" or not Path(self.path).is_file()):
            raise StoreError(f"DuckDB database {self.path!r} does not exist; ingest into it first")
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            hint = ("; DuckDB allows one process to write a file: stop the other hltracker process using it, "
                    "or use PostgreSQL") if "lock" in str(exc).lower() else ""
            raise StoreError(f"cannot open DuckDB database {self.path!r}: {exc}{hint}") from exc
        _useutc(self._con)
        self._write_lock = threading.Lock()
        self._readers = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        if read_only:
            self._check_schema()
        else:
            self.migrate()

    # --- lifecycle ---

    def migrate(self) -> None:
        """Apply the migrations not recorded in `schema_migrations`, in order, each in its own transaction."""
        with self._write_lock:
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
            )
            applied = {v for (v,) in self._con.execute("SELECT version FROM schema_migrations").fetchall()}
            for migration in pending(self.backend, applied, self.path):
                with self._transaction():
                    self._con.execute(migration.sql)
                    self._con.execute(
                        "INSERT INTO schema_migrations VALUES ($version, $name, $at)",
                        {"version": migration.version, "name": migration.name, "at": datetime.now(UTC)},
                    )

    def _check_schema(self) -> None:
        """A read-only open cannot migrate: the file must already be at this code's schema version."""
        try:
            applied = {v for (v,) in self._con.execute("SELECT version FROM schema_migrations").fetchall()}
        except duckdb.Error:
            raise StoreError(f"{self.path} is not an hltracker database (no schema_migrations table)") from None
        check_current(self.backend, applied, self.path)

    def close(self) -> None:
        with self._cursors_lock:
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
        self._con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- snapshots ---

    def last_snapshot(self) -> SnapshotInfo | None:
        return self._snapshot_info(f"SELECT {_SNAPSHOT_INFO} FROM snapshots ORDER BY snapshot_id DESC LIMIT 1")

    def first_snapshot(self, source: str | None = None) -> SnapshotInfo | None:
        return self._snapshot_info(
            f"SELECT {_SNAPSHOT_INFO} FROM snapshots WHERE $source IS NULL OR source = $source "
            "ORDER BY snapshot_id LIMIT 1",
            source=source,
        )

    def has_snapshot(self, taken_at: datetime) -> bool:
        at = to_ms(utc(taken_at, "taken_at"))
        return bool(_first(self._reader(), "SELECT COUNT(*) FROM snapshots WHERE taken_at = $at", at=at)[0])

    def snapshot_count(self) -> int:
        return _first(self._reader(), "SELECT COUNT(*) FROM snapshots")[0]

    def wait_for_landing(self, timeout: float) -> bool:
        """DuckDB has no notifications (and only this process can write the file): sleep, return False."""
        time.sleep(timeout)
        return False

    # --- writes ---

    def land(
        self, result: EngineResult, *, source: str, height: int | None, extra: dict[str, Any], landed_at: datetime
    ) -> SnapshotInfo | None:
        """Write one snapshot's frames in one transaction; see `Store.land` for the contract."""
        taken_at = to_ms(utc(result.taken_at, "result.taken_at"))
        frames = result.frames()
        check_frames(frames)
        with self._write_lock, self._transaction():
            if _first(self._con, "SELECT 1 FROM snapshots WHERE taken_at = $at", at=taken_at):
                return None
            last_id, last_at = _first(self._con, "SELECT MAX(snapshot_id), MAX(taken_at) FROM snapshots")
            info = next_snapshot(last_id, last_at, taken_at, source=source, height=height, landed_at=landed_at,
                                 frames=frames)
            self._write_snapshot(info, extra, frames)
        return info

    def _write_snapshot(self, info: SnapshotInfo, extra: dict[str, Any], frames: dict[str, pl.DataFrame]) -> None:
        """The snapshots row, then the appended tables, then the replaced ones (inside land's transaction)."""
        try:
            self._con.execute(
                "INSERT INTO snapshots (snapshot_id, taken_at, source, height, extra, landed_at, position_count, "
                "wallet_count) VALUES ($snapshot_id, $taken_at, $source, $height, $extra, $landed_at, "
                "$position_count, $wallet_count)",
                {**asdict(info), "extra": json.dumps(extra, sort_keys=True, default=str)},
            )
            for table in APPENDED_TABLES:
                self._insert(table, frames[table], info)
            self._con.execute(REGISTER_COINS, {"snapshot_id": info.snapshot_id})
            self._con.execute(WALLET_HISTORY_KEEP_PREVIOUS)
            for table in REPLACED_TABLES:
                self._con.execute(f"DELETE FROM {table}")
                self._insert(table, frames[table], info)
            self._con.execute(WALLET_HISTORY_APPEND, {"snapshot_id": info.snapshot_id, "taken_at": info.taken_at})
            self._con.execute(WALLET_HISTORY_DONE)
        except duckdb.Error as exc:
            raise StoreError(f"landing the snapshot taken at {info.taken_at.isoformat()} failed: {exc}") from exc

    def _insert(self, table: str, frame: pl.DataFrame, info: SnapshotInfo) -> None:
        """Append `frame` to `table` with its key columns, through Arrow."""
        if frame.height == 0:
            return
        keys = {
            "id": (pl.int_range(frame.height, dtype=pl.Int64) + info.snapshot_id * ROW_ID_BASE).alias("id"),
            "snapshot_id": pl.lit(info.snapshot_id, dtype=pl.Int64).alias("snapshot_id"),
            "taken_at": pl.lit(info.taken_at, dtype=UTC_MS).alias("taken_at"),
        }
        columns = table_columns(table)
        keyed = frame.select(*(keys[k] for k in key_columns(table)), *FRAME_TABLES[table].names())
        column_list = ", ".join(columns)
        self._con.register(_LANDING_VIEW, keyed.to_arrow())
        try:
            self._con.execute(f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {_LANDING_VIEW}")
        finally:
            self._con.unregister(_LANDING_VIEW)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    # --- reads ---

    def load_state(self) -> EngineState | None:
        """The last landed snapshot's taken_at, its open positions and open trades, in their schemas."""
        reader = self._reader()
        reader.execute("BEGIN TRANSACTION")  # one consistent view of the tables
        try:
            last = _first(reader, "SELECT MAX(taken_at) FROM snapshots")[0]
            columns = ", ".join(OPEN_POSITIONS_SCHEMA.names())
            frame = reader.sql(f"SELECT {columns} FROM open_positions").pl()
            trades = reader.sql(f"SELECT {', '.join(OPEN_TRADES_SCHEMA.names())} FROM open_trades").pl()
        finally:
            reader.execute("COMMIT")
        if last is None:
            return None
        return EngineState(taken_at=last.astimezone(UTC), open_positions=frame.cast(dict(OPEN_POSITIONS_SCHEMA)),
                           open_trades=utc_ms(trades).cast(dict(OPEN_TRADES_SCHEMA)))

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the named query of `queries.QUERIES` with exactly the parameters it names."""
        sql, bound = query_sql(name, params)
        try:
            frame = self._reader().sql(sql, params=bound).pl()
        except duckdb.Error as exc:
            raise StoreError(f"query {name!r} failed: {exc}") from exc
        return utc_ms(frame)

    def _snapshot_info(self, sql: str, **params: Any) -> SnapshotInfo | None:
        row = _first(self._reader(), sql, **params)
        if row is None:
            return None
        snapshot_id, taken_at, source, height, landed_at, position_count, wallet_count = row
        return SnapshotInfo(
            snapshot_id, taken_at.astimezone(UTC), source, height, landed_at.astimezone(UTC), position_count,
            wallet_count,
        )

    def _reader(self) -> duckdb.DuckDBPyConnection:
        """This thread's read cursor (a connection of its own to the same database)."""
        cursor = getattr(self._readers, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            _useutc(cursor)
            self._readers.cursor = cursor
            with self._cursors_lock:
                self._cursors.append(cursor)
        return cursor

    # --- api keys ---

    def add_api_key(self, key_hash: str, name: str, created_at: datetime) -> None:
        with self._write_lock:
            try:
                self._con.execute(
                    "INSERT INTO api_keys (key_hash, name, created_at) VALUES ($key_hash, $name, $created_at)",
                    {"key_hash": key_hash, "name": name, "created_at": utc(created_at, "created_at")},
                )
            except duckdb.ConstraintException as exc:
                raise StoreError("an API key with this hash exists already") from exc

    def api_keys(self) -> pl.DataFrame:
        return self.query("api_keys")

    def revoke_api_key(self, key_hash: str, at: datetime) -> bool:
        with self._write_lock:
            revoked = self._con.execute(
                "UPDATE api_keys SET revoked_at = $at WHERE key_hash = $key_hash AND revoked_at IS NULL "
                "RETURNING key_hash",
                {"at": utc(at, "at"), "key_hash": key_hash},
            ).fetchall()
        return bool(revoked)


def _first(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> tuple | None:
    """The first row of a small query, or None.

    Read through Arrow: DuckDB's own conversion of TIMESTAMPTZ to Python needs pytz, which we do not
    depend on; Polars gives timezone-aware datetimes without it.
    """
    frame = con.sql(sql, params=params).pl()
    return frame.row(0) if frame.height else None


def _useutc(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET TimeZone = 'UTC'")
