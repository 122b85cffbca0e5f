"""Benchmark (not a test): landing big frames in PostgreSQL with COPY as CSV or binary (the store).

    python scripts/bench_postgres_copy.py [--profile mainnet] [--repeats 5] [--scale 1]

Simulates the genesis snapshot of `--profile`, runs the engine on it, and takes the two big frames of
the result, `open_positions` and `wallets` (`--scale N` replicates their rows N times, new ids and
addresses). On a throwaway PostgreSQL server (fsync off, same machine) with the schema hltracker
migrates, it loads each frame into its real table, `--repeats` times each way, same data:
  a) csv     Polars write_csv into BytesIO, `COPY ... (FORMAT csv)` (what the store did first);
             `write_csv` alone is timed too (the client's share)
  b) binary  PostgresStore._copy itself: `COPY ... (FORMAT binary)` with psycopg, `copy.set_types(...)`,
             `copy.write_row(row)` for each row of `frame.iter_rows()`; `iter_rows` alone is timed too
  c) duckdb  for reference: DuckDBStore._insert (register the Arrow table, INSERT ... SELECT) into the
             DuckDB schema, and plain `frame.to_arrow()` (the floor: the data in Arrow)
Each load is one transaction, committed, on an emptied table (TRUNCATE and CHECKPOINT before it,
untimed). It prints the best of the repeats (and the median) as seconds and rows/s, the ratio to (a),
and a conclusion line.

Before timing, it checks that (a), and (b) as well, round-trip exactly: the frame, with edge values put into a few
rows (empty strings next to NULLs, quotes, commas, newlines, non-ASCII text, -0.0, subnormal, largest
and shortest-repr floats, NaN, infinities), is loaded and read back: every value
equal, every float bit for bit, NULLs where NULLs were and nowhere else.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import psycopg

from hltracker.engine import run
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import open_store
from hltracker.store.base import SnapshotInfo
from hltracker.store.layout import FRAME_TABLES, ROW_ID_BASE, key_columns, table_columns
from hltracker.store.postgres_store import PostgresStore, _frame
from hltracker.testing.postgres_server import ThrowawayPostgres

TABLES = ("open_positions", "wallets")
CSV, BINARY, DUCKDB = "a) csv COPY, write_csv", "b) binary COPY (the store)", "c) duckdb Arrow insert"
_CSV_TIME = "%Y-%m-%dT%H:%M:%S%.3f%z"
SORT_KEY = {"open_positions": "id", "wallets": "address"}  # unique per row: compares read-back order-free



def frames(profile: str, seed: int, scale: int) -> tuple[datetime, dict[str, pl.DataFrame]]:
    snapshot = next(SimulatorSource(profile, seed=seed, steps=0).snapshots())
    result = run(snapshot, None)
    out = {}
    for table in TABLES:
        frame = getattr(result, table)
        if scale > 1:
            frame = pl.concat([
                frame.with_columns(*(pl.col(c) + f"~{k}" for c in ("id", "address") if c in frame.columns))
                if k else frame
                for k in range(scale)
            ])
        out[table] = frame
    return result.taken_at, out


def keyed(table: str, frame: pl.DataFrame, info: SnapshotInfo) -> pl.DataFrame:
    """The frame with the key columns in front, as both stores build it before writing."""
    keys = {
        "id": (pl.int_range(frame.height, dtype=pl.Int64) + info.snapshot_id * ROW_ID_BASE).alias("id"),
        "snapshot_id": pl.lit(info.snapshot_id, dtype=pl.Int64).alias("snapshot_id"),
        "taken_at": pl.lit(info.taken_at, dtype=pl.Datetime("ms", "UTC")).alias("taken_at"),
    }
    return frame.select(*(keys[k] for k in key_columns(table)), *FRAME_TABLES[table].names())


# --- the three ways ---


def load_csv(store: PostgresStore, table: str, frame: pl.DataFrame, info: SnapshotInfo) -> None:
    buffer = io.BytesIO()
    keyed(table, frame, info).write_csv(buffer, include_header=False, datetime_format=_CSV_TIME)
    statement = f"COPY {table} ({', '.join(table_columns(table))}) FROM STDIN (FORMAT csv)"
    with store.pool.connection() as con, con.transaction(), con.cursor().copy(statement) as copy:
        copy.write(buffer.getbuffer())


def load_binary(store: PostgresStore, table: str, frame: pl.DataFrame, info: SnapshotInfo) -> None:
    with store.pool.connection() as con, con.transaction():
        store._copy(con, table, frame, info)


def load_duckdb(store, table: str, frame: pl.DataFrame, info: SnapshotInfo) -> None:
    store._con.execute("BEGIN TRANSACTION")
    store._insert(table, frame, info)
    store._con.execute("COMMIT")


# --- the round trip of (a) ---


def with_edge_values(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy with awkward values in its first rows, in every String and Float64 column."""
    texts = ["", None, 'a "quoted", comma', "line\nbreak\r\n", "Ünïcødé ✓ 日本", " ", "\\N", "NULL", ","]
    floats = [-0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1 + 0.2, 1 / 3, None,
              float("nan"), float("inf"), float("-inf"), -1.2345678901234567e-300]
    n = max(len(texts), len(floats))
    head = frame.head(n).with_columns(
        *(pl.Series(name, (texts * n)[:n], dtype=pl.String) for name, dtype in frame.schema.items()
          if dtype == pl.String and name not in SORT_KEY.values()),
        *(pl.Series(name, (floats * n)[:n], dtype=pl.Float64) for name, dtype in frame.schema.items()
          if dtype == pl.Float64),
    )
    return pl.concat([head, frame.slice(n)])


def read_back(store: PostgresStore, table: str) -> pl.DataFrame:
    with store.pool.connection() as con:
        return _frame(con.cursor(binary=True).execute(f"SELECT {', '.join(table_columns(table))} FROM {table}"))


def round_trip_problems(table: str, sent: pl.DataFrame, got: pl.DataFrame) -> list[str]:
    key = SORT_KEY[table]
    sent, got = sent.sort(key), got.sort(key)
    problems = [] if sent.schema == got.schema else [f"schema {sent.schema} != {got.schema}"]
    if sent.height != got.height:
        return [*problems, f"{sent.height} rows sent, {got.height} read back"]
    for name in sent.columns:
        a, b = sent[name], got[name]
        if not a.is_null().equals(b.is_null()):
            problems.append(f"{name}: NULLs differ")
        elif a.dtype == pl.Float64:
            bits_a = a.fill_null(0.0).to_numpy().view(np.uint64)
            bits_b = b.fill_null(0.0).to_numpy().view(np.uint64)
            if not np.array_equal(bits_a, bits_b):
                problems.append(f"{name}: {int((bits_a != bits_b).sum())} floats differ in their bits")
        elif not a.equals(b):  # null-aware: "" and NULL are different values here
            problems.append(f"{name}: values differ")
    return problems


# --- timing ---


def timed(prepare: Callable[[], None], work: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        prepare()
        t = time.perf_counter()
        work()
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="mainnet")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, default=1, help="replicate the frames' rows this many times")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    t = time.perf_counter()
    taken_at, data = frames(args.profile, args.seed, args.scale)
    print(f"{args.profile} genesis simulated and run through the engine in {time.perf_counter() - t:.1f} s: "
          + ", ".join(f"{table} {frame.height:,} rows x {frame.width} columns" for table, frame in data.items()))
    info = SnapshotInfo(1, taken_at, "bench", None, datetime.now(UTC), 0, 0)
    work = Path(tempfile.mkdtemp(prefix="hltracker-bench-copy-"))

    with ThrowawayPostgres() as server:
        pg = open_store(server.create_database("bench"))
        duck = open_store(work / "bench.duckdb")
        assert isinstance(pg, PostgresStore)

        def empty_pg(table: str) -> None:
            with pg.pool.connection() as con:
                con.execute(f"TRUNCATE {table}")
                con.execute("CHECKPOINT")  # no checkpoint of the previous load's WAL inside the next timing

        def empty_duck(table: str) -> None:
            duck._con.execute(f"DELETE FROM {table}")
            duck._con.execute("CHECKPOINT")

        print(f"PostgreSQL {pg._fetch('SHOW server_version')[0][0]} (throwaway server, fsync off), "
              f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}), Polars {pl.__version__}, "
              f"DuckDB {duckdb.__version__}; best of {args.repeats} (median)\n")

        # (a), and (b) too, round-trip exactly, edge values included
        for table, frame in data.items():
            sent = with_edge_values(frame)
            for way, load in (("CSV", load_csv), ("binary", load_binary)):
                empty_pg(table)
                load(pg, table, sent, info)
                problems = round_trip_problems(table, keyed(table, sent, info), read_back(pg, table))
                if problems:
                    sys.exit(f"round trip of {table} through {way} COPY failed: " + "; ".join(problems))
            print(f"round trip {table}: {sent.height:,} rows read back identical after CSV and after binary COPY "
                  "(floats bit for bit, NULL vs '' kept)")
        print()

        def measure(table: str, frame: pl.DataFrame) -> dict[str, list[float]]:
            def write_csv() -> None:
                keyed(table, frame, info).write_csv(io.BytesIO(), include_header=False, datetime_format=_CSV_TIME)

            def iter_rows() -> None:
                for _ in keyed(table, frame, info).iter_rows():
                    pass

            def nothing() -> None:
                pass

            return {
                CSV: timed(lambda: empty_pg(table), lambda: load_csv(pg, table, frame, info), args.repeats),
                "   of which write_csv": timed(nothing, write_csv, args.repeats),
                BINARY: timed(lambda: empty_pg(table), lambda: load_binary(pg, table, frame, info), args.repeats),
                "   of which iter_rows": timed(nothing, iter_rows, args.repeats),
                DUCKDB: timed(lambda: empty_duck(table), lambda: load_duckdb(duck, table, frame, info), args.repeats),
                "   frame.to_arrow()": timed(nothing, frame.to_arrow, args.repeats),
            }

        summary = {}
        for table, frame in data.items():
            rows = frame.height
            results = measure(table, frame)
            base = min(results[CSV])
            print(f"{table}: {rows:,} rows x {len(table_columns(table))} columns")
            for name, times in results.items():
                best = min(times)
                print(f"  {name:27} {best:8.3f} s ({statistics.median(times):.3f})  {rows / best:12,.0f} rows/s  "
                      f"{best / base:6.2f}x csv")
            summary[table] = (base, min(results[BINARY]), min(results[DUCKDB]))
            print()
        pg.close()
        duck.close()

    total_rows = sum(f.height for f in data.values())
    csv_s, binary_s = sum(s[0] for s in summary.values()), sum(s[1] for s in summary.values())
    ratio = binary_s / csv_s
    if ratio > 1.1:
        verdict = f"binary COPY (the store) takes {ratio:.2f}x the time of CSV COPY: CSV would pay now"
    elif ratio < 1 / 1.1:
        verdict = f"binary COPY (the store) takes {ratio:.2f}x the time of CSV COPY: binary pays"
    else:
        verdict = f"a wash (binary takes {ratio:.2f}x the time of CSV)"
    print(f"conclusion: {verdict}; {total_rows / csv_s:,.0f} rows/s CSV vs {total_rows / binary_s:,.0f} binary "
          "over both tables; both round-trip exactly")

if __name__ == "__main__":
    main()
