"""The PostgreSQL backend: one database shared by an ingester and any number of API processes.

- Connections come from a psycopg 3 pool (autocommit; each landing opens its own transaction). The
  session time zone is UTC; a read-only store also sets `default_transaction_read_only`.
- A landing is one transaction: `LOCK snapshots` (one lander at a time; readers are never blocked),
  the snapshots row, then every frame through binary `COPY ... FROM STDIN`, then
  `NOTIFY hltracker_snapshots`. Readers see the previous snapshot
  until the commit, and the current tables are replaced with DELETE, not TRUNCATE, for that reason.
- Named queries are the DuckDB ones: `$name` becomes psycopg's `%(name)s` (the same name binds one
  server parameter), results are read in binary and typed from the column types, so a frame comes back
  with the dtypes DuckDB gives.
- `wait_for_landing` LISTENs on its own connection: API workers hear a landing at once and fall back to
  polling when the connection is lost.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Self

import polars as pl
import psycopg
from psycopg import sql as pgsql
from psycopg_pool import ConnectionPool, PoolTimeout

from hltracker.model.outputs import OPEN_POSITIONS_SCHEMA, OPEN_TRADES_SCHEMA, EngineResult, EngineState
from hltracker.model.schemas import UTC_MS
from hltracker.store.base import SnapshotInfo, StoreError
from hltracker.store.checks import PARAM, check_frames, next_snapshot, query_sql, to_ms, utc
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

CHANNEL = "hltracker_snapshots"
_MIGRATION_LOCK = 0x686C74  # pg_advisory_lock key: one migrating process at a time ("hlt")
_SNAPSHOT_INFO = "snapshot_id, taken_at, source, height, landed_at, position_count, wallet_count"

# PostgreSQL type oid -> the Polars dtype DuckDB gives for the same SQL type.
_DTYPES: dict[int, pl.DataType] = {
    16: pl.Boolean(), 20: pl.Int64(), 21: pl.Int16(), 23: pl.Int32(), 25: pl.String(), 1043: pl.String(),
    701: pl.Float64(), 1184: UTC_MS, 1082: pl.Date(),
}
# Polars dtype -> the PostgreSQL type binary COPY sends it as (the migration's column types).
_COPY_TYPES: dict[pl.DataType, str] = {
    pl.Boolean(): "bool", pl.Int16(): "int2", pl.Int32(): "int4", pl.Int64(): "int8", pl.Float64(): "float8",
    pl.String(): "text", UTC_MS: "timestamptz",
}


def _pg(sql: str) -> str:
    """`$name` parameters as psycopg's `%(name)s`; a literal % doubled."""
    return PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


class PostgresStore:
    """The `Store` protocol (store/base.py) on PostgreSQL."""

    backend = "postgres"

    def __init__(self, url: str, read_only: bool = False, pool_size: int = 10, connect_timeout: float = 10.0):
        """Connect (a pool of up to `pool_size` connections) and migrate; `read_only`: no migrations and no
        writes (API servers), the schema must already be this code's."""
        self.url = url
        self.read_only = read_only
        self.pool = ConnectionPool(
            url, min_size=1, max_size=max(pool_size, 1), kwargs={"autocommit": True}, configure=self._configure,
            check=ConnectionPool.check_connection,  # a connection broken by a server restart is replaced, not used
            open=False, name="hltracker",
        )
        try:
            self.pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout:
            self.pool.close()
            raise StoreError(f"cannot connect to PostgreSQL at {_redacted(url)} within {connect_timeout:g} s: "
                             f"{_connect_problem(url)}") from None
        self._listener: psycopg.Connection | None = None
        self._listener_lock = threading.Lock()
        try:
            self._check_schema() if read_only else self.migrate()
        except BaseException:
            self.pool.close()
            raise

    def _configure(self, con: psycopg.Connection) -> None:
        con.execute("SET TIME ZONE 'UTC'")
        if self.read_only:
            con.execute("SET default_transaction_read_only = on")

    # --- lifecycle ---

    def migrate(self) -> None:
        """Apply the migrations not recorded in `schema_migrations`, in order, each in its own transaction;
        an advisory lock keeps two processes starting together from migrating at once."""
        with self.pool.connection() as con:
            con.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            try:
                con.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
                )
                applied = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
                for migration in pending(self.backend, applied, _redacted(self.url)):
                    with con.transaction():
                        con.execute(migration.sql.encode())  # bytes: no parameter parsing of the DDL
                        con.execute(
                            "INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                            (migration.version, migration.name, datetime.now(UTC)),
                        )
            finally:
                con.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))

    def _check_schema(self) -> None:
        """A read-only open cannot migrate: the database must already be at this code's schema version."""
        try:
            rows = self._fetch("SELECT version FROM schema_migrations")
        except psycopg.errors.UndefinedTable:
            raise StoreError(f"{_redacted(self.url)} is not an hltracker database (no schema_migrations table); "
                             "run `hltracker ingest` against it first") from None
        check_current(self.backend, {v for (v,) in rows}, _redacted(self.url))

    def close(self) -> None:
        with self._listener_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self.pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- snapshots ---

    def last_snapshot(self) -> SnapshotInfo | None:
        return self._snapshot_info(f"SELECT {_SNAPSHOT_INFO} FROM snapshots ORDER BY snapshot_id DESC LIMIT 1")

    def first_snapshot(self, source: str | None = None) -> SnapshotInfo | None:
        return self._snapshot_info(
            f"SELECT {_SNAPSHOT_INFO} FROM snapshots WHERE %(source)s::text IS NULL OR source = %(source)s "
            "ORDER BY snapshot_id LIMIT 1",
            source=source,
        )

    def has_snapshot(self, taken_at: datetime) -> bool:
        at = to_ms(utc(taken_at, "taken_at"))
        return bool(self._fetch("SELECT COUNT(*) FROM snapshots WHERE taken_at = %(at)s", at=at)[0][0])

    def snapshot_count(self) -> int:
        return self._fetch("SELECT COUNT(*) FROM snapshots")[0][0]

    def wait_for_landing(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True as soon as any process lands a snapshot (NOTIFY). On a lost
        connection: sleep out the timeout and reconnect on the next call (the caller polls anyway)."""
        deadline = time.monotonic() + timeout
        try:
            with self._listener_lock:
                if self._listener is None or self._listener.closed:
                    self._listener = psycopg.connect(self.url, autocommit=True, connect_timeout=max(int(timeout), 2))
                    self._listener.execute(f"LISTEN {CHANNEL}")
                listener = self._listener
            heard = False
            for _ in listener.notifies(timeout=timeout, stop_after=1):
                heard = True
            return heard
        except psycopg.Error:
            with self._listener_lock:
                self._listener = None
            time.sleep(max(deadline - time.monotonic(), 0))
            return False

    # --- writes ---

    def land(
        self, result: EngineResult, *, source: str, height: int | None, extra: dict[str, Any], landed_at: datetime
    ) -> SnapshotInfo | None:
        """Write one snapshot's frames in one transaction; see `Store.land` for the contract."""
        if self.read_only:
            raise StoreError("this store was opened read-only")
        taken_at = to_ms(utc(result.taken_at, "result.taken_at"))
        frames = result.frames()
        check_frames(frames)
        with self.pool.connection() as con:
            try:
                with con.transaction():
                    # one lander at a time (SHARE ROW EXCLUSIVE conflicts with itself, never with SELECT)
                    con.execute("LOCK TABLE snapshots IN SHARE ROW EXCLUSIVE MODE")
                    if con.execute("SELECT 1 FROM snapshots WHERE taken_at = %s", (taken_at,)).fetchone():
                        return None
                    last_id, last_at = con.execute("SELECT MAX(snapshot_id), MAX(taken_at) FROM snapshots").fetchone()
                    info = next_snapshot(last_id, last_at, taken_at, source=source, height=height,
                                         landed_at=landed_at, frames=frames)
                    self._write_snapshot(con, info, extra, frames)
            except psycopg.Error as exc:
                raise StoreError(f"landing the snapshot taken at {taken_at.isoformat()} failed: "
                                 f"{str(exc).strip()}") from exc
        return info

    def _write_snapshot(
        self, con: psycopg.Connection, info: SnapshotInfo, extra: dict[str, Any], frames: dict[str, pl.DataFrame]
    ) -> None:
        """The snapshots row, the appended tables, the coins, the replaced tables, then the notification."""
        con.execute(
            _pg(
                "INSERT INTO snapshots (snapshot_id, taken_at, source, height, extra, landed_at, position_count, "
                "wallet_count) VALUES ($snapshot_id, $taken_at, $source, $height, $extra, $landed_at, "
                "$position_count, $wallet_count)"
            ),
            {**asdict(info), "extra": json.dumps(extra, sort_keys=True, default=str)},
        )
        for table in APPENDED_TABLES:
            self._copy(con, table, frames[table], info)
        con.execute(_pg(REGISTER_COINS), {"snapshot_id": info.snapshot_id})
        con.execute(WALLET_HISTORY_KEEP_PREVIOUS)
        for table in REPLACED_TABLES:
            con.execute(pgsql.SQL("DELETE FROM {}").format(pgsql.Identifier(table)))
            self._copy(con, table, frames[table], info)
        con.execute(_pg(WALLET_HISTORY_APPEND), {"snapshot_id": info.snapshot_id, "taken_at": info.taken_at})
        con.execute(WALLET_HISTORY_DONE)
        con.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(info.snapshot_id)))  # delivered at commit

    def _copy(self, con: psycopg.Connection, table: str, frame: pl.DataFrame, info: SnapshotInfo) -> None:
        """Append `frame` with its key columns to `table` through binary COPY.

        Binary, not CSV: the server stores binary values as they come instead of parsing text, which
        scripts/bench_postgres_copy.py measured at 0.6x the time of Polars-written CSV at mainnet size
        (207k positions), even with rows fed one by one; floats and NULL-vs-empty round-trip exactly.
        """
        if frame.height == 0:
            return
        keys = {
            "id": (pl.int_range(frame.height, dtype=pl.Int64) + info.snapshot_id * ROW_ID_BASE).alias("id"),
            "snapshot_id": pl.lit(info.snapshot_id, dtype=pl.Int64).alias("snapshot_id"),
            "taken_at": pl.lit(info.taken_at, dtype=UTC_MS).alias("taken_at"),
        }
        keyed = frame.select(*(keys[k] for k in key_columns(table)), *FRAME_TABLES[table].names())
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
            pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, table_columns(table)))
        )
        with con.cursor().copy(statement) as copy:
            copy.set_types([_COPY_TYPES[dtype] for dtype in keyed.dtypes])
            for row in keyed.iter_rows():
                copy.write_row(row)

    # --- reads ---

    def load_state(self) -> EngineState | None:
        """The last landed snapshot's taken_at, its open positions and open trades, in their schemas."""
        columns = ", ".join(OPEN_POSITIONS_SCHEMA.names())
        trade_columns = ", ".join(OPEN_TRADES_SCHEMA.names())
        with self.pool.connection() as con:
            con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one view of the tables
            try:
                with con.transaction():
                    last = con.execute("SELECT MAX(taken_at) FROM snapshots").fetchone()[0]
                    frame = _frame(con.cursor(binary=True).execute(f"SELECT {columns} FROM open_positions"))
                    trades = _frame(con.cursor(binary=True).execute(f"SELECT {trade_columns} FROM open_trades"))
            finally:
                con.isolation_level = None
        if last is None:
            return None
        return EngineState(taken_at=last.astimezone(UTC), open_positions=frame.cast(dict(OPEN_POSITIONS_SCHEMA)),
                           open_trades=trades.cast(dict(OPEN_TRADES_SCHEMA)))

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the named query of `queries.QUERIES` with exactly the parameters it names."""
        sql, bound = query_sql(name, params)
        try:
            with self.pool.connection() as con:
                return _frame(con.cursor(binary=True).execute(_pg(sql), bound))
        except psycopg.Error as exc:
            raise StoreError(f"query {name!r} failed: {str(exc).strip()}") from exc

    def _fetch(self, sql: str, **params: Any) -> list[tuple]:
        with self.pool.connection() as con:
            return con.execute(sql, params or None).fetchall()

    def _snapshot_info(self, sql: str, **params: Any) -> SnapshotInfo | None:
        rows = self._fetch(sql, **params)
        if not rows:
            return None
        snapshot_id, taken_at, source, height, landed_at, position_count, wallet_count = rows[0]
        return SnapshotInfo(
            snapshot_id, taken_at.astimezone(UTC), source, height, landed_at.astimezone(UTC), position_count,
            wallet_count,
        )

    # --- api keys ---

    def add_api_key(self, key_hash: str, name: str, created_at: datetime) -> None:
        try:
            with self.pool.connection() as con:
                con.execute(
                    "INSERT INTO api_keys (key_hash, name, created_at) VALUES (%s, %s, %s)",
                    (key_hash, name, utc(created_at, "created_at")),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise StoreError("an API key with this hash exists already") from exc
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            raise StoreError("this store was opened read-only") from exc

    def api_keys(self) -> pl.DataFrame:
        return self.query("api_keys")

    def revoke_api_key(self, key_hash: str, at: datetime) -> bool:
        with self.pool.connection() as con:
            revoked = con.execute(
                "UPDATE api_keys SET revoked_at = %s WHERE key_hash = %s AND revoked_at IS NULL RETURNING key_hash",
                (utc(at, "at"), key_hash),
            ).fetchall()
        return bool(revoked)


def _frame(cursor: psycopg.Cursor) -> pl.DataFrame:
    """A result as a DataFrame typed from the result's column types (even when it has no rows)."""
    schema = {}
    for column in cursor.description:
        dtype = _DTYPES.get(column.type_code)
        if dtype is None:
            raise StoreError(f"column {column.name!r} has PostgreSQL type oid {column.type_code}, "
                             "which the store does not read")
        schema[column.name] = dtype
    rows = cursor.fetchall()
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(rows, schema=schema, orient="row")


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())


def _connect_problem(url: str) -> str:
    """Why a connection fails (the pool only says it timed out)."""
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        return str(exc).strip()
    return "the server answered, but too slowly"
