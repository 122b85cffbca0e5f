"""The store on both backends (a DuckDB file, a PostgreSQL database of a throwaway server): migrations,
atomic idempotent landings, resume state, and the named read queries the API pages through.

The scenario: three snapshots 20 minutes apart, built by hand in the exact output schemas.
- S1: A is long BTC (pa), B is short ETH (pb).
- S2: pb is liquidated; C and D open BTC at the same time (pc, pe). ETH has no positions: its series
  rows are missing, so the queries fill zero rows.
- S3: pa closed by a fill 5 minutes earlier; B opens ETH again (pd).
"""

from __future__ import annotations

import re
import socket
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from stores import assert_same_contents, execute, is_postgres, table_contents

from hltracker.model.outputs import (
    CLOSED_POSITIONS_SCHEMA,
    OPEN_POSITIONS_SCHEMA,
    OUTPUT_SCHEMAS,
    SERIES_TABLES,
    EngineResult,
)
from hltracker.model.schemas import FUNDINGS_SCHEMA, MARKETS_SCHEMA, UTC_MS
from hltracker.store import Store, StoreError, open_store
from hltracker.store.postgres_store import PostgresStore
from hltracker.store.queries import QUERIES

T1 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T2 = T1 + timedelta(minutes=20)
T3 = T1 + timedelta(minutes=40)
LANDED = datetime(2026, 3, 2, tzinfo=UTC)
ADDR = {k: "0x" + k * 40 for k in "abcd"}

# --- building engine results by hand ---

_DEFAULTS = {pl.String: "x", pl.Int16: 0, pl.Int32: 0, pl.Int64: 0, pl.Float64: 0.0, pl.Boolean: False}


def frame(schema: pl.Schema, rows: list[dict]) -> pl.DataFrame:
    """Rows in `schema`, every column not given taking a plain default."""
    defaults = {name: _DEFAULTS.get(dtype, T1) for name, dtype in schema.items()}
    return pl.DataFrame([{**defaults, **row} for row in rows], schema=schema)


def result(taken_at: datetime, **rows: list[dict]) -> EngineResult:
    """An EngineResult at `taken_at`; the tables not given are empty."""
    schemas = {"markets": MARKETS_SCHEMA, **OUTPUT_SCHEMAS}
    frames = {table: frame(schema, rows.get(table, [])) for table, schema in schemas.items()}
    return EngineResult(taken_at=taken_at, **frames)


def position(pid: str, who: str, coin: str, opened: datetime, segments: tuple[int, int], **values) -> dict:
    return {
        "id": pid, "address": ADDR[who], "coin": coin, "dex": "main", "open_time": opened, "created_at": opened,
        "size_segment_id": segments[0], "pnl_segment_id": segments[1], "value": 100.0, **values,
    }


PA = position("pa", "a", "BTC", T1 - timedelta(hours=1), (1, 11), value=1000.0, liquidation_price=50.0)
PB = position("pb", "b", "ETH", T1 - timedelta(hours=2), (7, 8), value=500.0, liquidation_price=None)
PC = position("pc", "c", "BTC", T2, (2, 12), value=300.0)
PE = position("pe", "d", "BTC", T2, (2, 12), value=300.0)
PD = position("pd", "b", "ETH", T3 - timedelta(minutes=10), (7, 8), value=700.0)


def figures(count: int, value: float) -> dict:
    return {"position_count": count, "position_count_long": count, "total_position_value": value}


def s1() -> EngineResult:
    return result(
        T1,
        markets=[{"coin": "BTC", "mark_price": 100.0}, {"coin": "ETH", "mark_price": 10.0, "mid_price": None}],
        wallets=[{"address": ADDR["a"], "size_segment_id": 1}, {"address": ADDR["b"], "size_segment_id": 7}],
        open_positions=[PA, PB],
        coin_series=[{"coin": "BTC", **figures(1, 1000.0)}, {"coin": "ETH", **figures(1, 500.0)}],
        coin_segment_series=[
            {"coin": c, "segment_id": s, "age_window": "all", **figures(1, v)}
            for c, s, v in (("BTC", 1, 1000.0), ("BTC", 11, 1000.0), ("ETH", 7, 500.0), ("ETH", 8, 500.0))
        ],
        coin_bucket_series=[
            {"coin": "BTC", "size_bucket_id": 2, **figures(1, 1000.0)},
            {"coin": "ETH", "size_bucket_id": 1, **figures(1, 500.0)},
        ],
        general_series=[{"count": 2, "open_interest": 1500.0}],
        wallet_equity_series=[{"total_equity": 1000.0, "perp_equity": 900.0, "spot_equity": 5.0}],
        perp_volume_series=[{"volume": 5e6}],
        segment_series=[
            {"segment_id": s, "age_window": "all", "bias": 0.5, "count_traders": 1} for s in (1, 7, 8, 11)
        ],
        heatmap_coins=[
            {"coin": "BTC", "age_window": "all", "total_value": 1000.0},
            {"coin": "ETH", "age_window": "all", "total_value": 500.0},
        ],
        heatmap_cells=[{"coin": "BTC", "age_window": "all", "segment_id": 1, "total_value": 1000.0}],
        segment_top_assets=[{"segment_id": 1, "age_window": "all", "rank": 1, "coin": "BTC"}],
        liquidation_risk=[
            {"segment_id": 7, "coin": c, "percent_risk": p} for c, p in (("ETH", 50.0), ("BTC", 10.0), ("SOL", None))
        ],
        liquidation_bins=[{"coin": "BTC", "price_bin_index": i, "liquidation_value": 10.0 * i} for i in (2, 0, 1)],
    )


def s2() -> EngineResult:
    return result(
        T2,
        markets=[{"coin": "BTC", "mark_price": 101.0}, {"coin": "ETH", "mark_price": 9.0}],
        wallets=[{"address": ADDR[k], "size_segment_id": 2} for k in "acd"],
        open_positions=[PA, PC, PE],
        closed_positions=[{**PB, "close_time": T2, "closed_by_liquidation": True}],
        coin_series=[{"coin": "BTC", **figures(3, 1600.0)}],
        coin_segment_series=[{"coin": "BTC", "segment_id": 2, "age_window": "all", **figures(2, 600.0)}],
        coin_bucket_series=[{"coin": "BTC", "size_bucket_id": 2, **figures(3, 1600.0)}],
        general_series=[{"count": 3, "open_interest": 1600.0}],
        wallet_equity_series=[{"total_equity": 1200.0, "perp_equity": 800.0, "spot_equity": 4.0}],
        perp_volume_series=[{"volume": 6e6}],
        segment_series=[{"segment_id": 2, "age_window": "all", "bias": 0.1, "count_traders": 2}],
        heatmap_coins=[{"coin": "BTC", "age_window": "all", "total_value": 1600.0}],
        heatmap_cells=[{"coin": "BTC", "age_window": "all", "segment_id": 2, "total_value": 600.0}],
        liquidation_bins=[{"coin": "BTC", "price_bin_index": 0, "liquidation_value": 1.0}],
    )


def s3() -> EngineResult:
    return result(
        T3,
        markets=[{"coin": "BTC", "mark_price": 102.0}, {"coin": "ETH", "mark_price": 11.0}],
        wallets=[{"address": ADDR[k]} for k in "bcd"],
        open_positions=[PC, PE, PD],
        closed_positions=[{**PA, "close_time": T3 - timedelta(minutes=5)}],
        coin_series=[{"coin": "BTC", **figures(2, 600.0)}, {"coin": "ETH", **figures(1, 700.0)}],
        coin_segment_series=[{"coin": "ETH", "segment_id": 7, "age_window": "all", **figures(1, 700.0)}],
        coin_bucket_series=[{"coin": "ETH", "size_bucket_id": 1, **figures(1, 700.0)}],
        general_series=[{"count": 3, "open_interest": 1300.0}],
        wallet_equity_series=[{"total_equity": 1100.0, "perp_equity": 950.0, "spot_equity": 3.0}],
        perp_volume_series=[{"volume": 4e6}],
        segment_series=[{"segment_id": 7, "age_window": "all", "bias": -0.2, "count_traders": 1}],
    )


def land(store: Store, res: EngineResult, **kw):
    args = {"source": "test", "height": None, "extra": {}, "landed_at": LANDED, **kw}
    return store.land(res, **args)


@pytest.fixture
def url(new_store_url) -> str:
    """A fresh, empty store on this test's backend (created by the first open)."""
    return new_store_url()


@pytest.fixture(scope="module")
def store(new_store_url):
    """S1, S2 and S3 landed; shared by the tests that only read."""
    with open_store(new_store_url("read")) as opened:
        for res in (s1(), s2(), s3()):
            land(opened, res)
        yield opened


contents = table_contents


def series(store: Store, name: str, **params) -> pl.DataFrame:
    return store.query(name, start=T1, end=T3, before=None, limit=1000, **params)


# --- migrations and schema ---

SQL_TYPES = {
    "duckdb": {
        pl.Int16: "SMALLINT", pl.Int32: "INTEGER", pl.Int64: "BIGINT", pl.Float64: "DOUBLE", pl.String: "VARCHAR",
        pl.Boolean: "BOOLEAN", UTC_MS: "TIMESTAMP WITH TIME ZONE",
    },
    "postgres": {
        pl.Int16: "smallint", pl.Int32: "integer", pl.Int64: "bigint", pl.Float64: "double precision",
        pl.String: "text", pl.Boolean: "boolean", UTC_MS: "timestamp with time zone",
    },
}
KEY_TYPES = {"id": pl.Int64, "snapshot_id": pl.Int64, "taken_at": UTC_MS}


def expected_columns(table: str, backend: str) -> list[tuple[str, str]]:
    schema = MARKETS_SCHEMA if table == "markets" else OUTPUT_SCHEMAS[table]
    if table in SERIES_TABLES:
        keys = ["id", "snapshot_id", "taken_at"]
    elif table in ("closed_positions", "closed_trades"):
        keys = ["snapshot_id"]
    elif table in ("fills", "fundings"):
        keys = ["id", "snapshot_id"]
    else:
        keys = ["snapshot_id", "taken_at"]
    types = SQL_TYPES[backend]
    return [(k, types[KEY_TYPES[k]]) for k in keys] + [(c, types[t]) for c, t in schema.items()]


def columns_of(url: str) -> dict[str, list[tuple[str, str, str | None]]]:
    """table -> [(column, type, collation)] of the store's own tables."""
    found: dict[str, list[tuple[str, str, str | None]]] = {}
    if is_postgres(url):
        import psycopg

        with psycopg.connect(url) as con:
            rows = con.execute(
                "SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
            ).fetchall()
    else:
        import duckdb

        con = duckdb.connect(url, read_only=True)
        rows = con.execute(
            "SELECT table_name, column_name, data_type, NULL FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position"
        ).fetchall()
        con.close()
    for table, column, dtype, collation in rows:
        found.setdefault(table, []).append((column, dtype, collation))
    return found


def test_every_frame_table_has_the_frame_columns_after_its_key_columns(url, backend):
    open_store(url).close()
    found = columns_of(url)
    frame_tables = ["markets", *OUTPUT_SCHEMAS]
    assert set(found) == {*frame_tables, "snapshots", "schema_migrations", "api_keys", "coins", "wallet_history"}
    for table in frame_tables:
        assert [(c, t) for c, t, _ in found[table]] == expected_columns(table, backend), table


def test_postgres_text_sorts_by_code_point_whatever_the_locale(postgres_server):
    url = postgres_server.create_database("collations")
    open_store(url).close()
    text_columns = [
        (table, column, collation) for table, columns in columns_of(url).items() if table != "schema_migrations"
        for column, dtype, collation in columns if dtype == "text"
    ]
    assert text_columns and all(collation == "C" for _, _, collation in text_columns), text_columns


MIGRATIONS = {"duckdb": ["initial", "coins", "fills_trades", "wallet_history", "fundings"],
              "postgres": ["initial", "fills_trades", "wallet_history", "fundings"]}


def test_migrations_are_applied_once_and_reopening_changes_nothing(url, backend):
    with open_store(url) as first:
        land(first, s1())
    before = contents(url)
    names = MIGRATIONS[backend]
    assert before["schema_migrations"]["version"].to_list() == list(range(1, len(names) + 1))
    assert before["schema_migrations"]["name"].to_list() == names
    with open_store(url) as again:
        again.migrate()
    assert_same_contents(before, contents(url))


def test_a_database_newer_than_the_code_is_refused(url):
    open_store(url).close()
    execute(url, "INSERT INTO schema_migrations VALUES (99, 'future', now())")
    with pytest.raises(StoreError, match="newer"):
        open_store(url)
    with pytest.raises(StoreError, match="differ"):
        open_store(url, read_only=True)


def test_a_read_only_store_reads_but_refuses_to_migrate_or_write(url, backend):
    if backend == "postgres":
        with pytest.raises(StoreError, match="not an hltracker database"):
            open_store(url, read_only=True)
    with open_store(url) as store:
        land(store, s1())
    with open_store(url, read_only=True) as reader:
        assert reader.last_snapshot().taken_at == T1
        with pytest.raises(StoreError):
            land(reader, s2())
        assert reader.snapshot_count() == 1


# --- landing ---

def test_landing_numbers_snapshots_and_records_them(store):
    info = store.last_snapshot()
    assert (info.snapshot_id, info.taken_at, info.source, info.landed_at) == (3, T3, "test", LANDED)
    assert (info.position_count, info.wallet_count) == (3, 3)
    assert store.first_snapshot().taken_at == T1
    assert store.first_snapshot("test").snapshot_id == 1
    assert store.first_snapshot("other") is None
    assert store.snapshot_count() == 3
    assert store.has_snapshot(T2) and not store.has_snapshot(T2 + timedelta(seconds=1))


def test_land_returns_the_snapshot_and_keeps_height_and_extra(url):
    with open_store(url) as store:
        info = land(store, s1(), source="simulator", height=123, extra={"seed": 7})
        assert info.snapshot_id == 1 and info.height == 123
        row = store.query("latest_snapshot").row(0, named=True)
    assert row["height"] == 123 and row["extra"] == '{"seed": 7}' and row["source"] == "simulator"


def test_landed_rows_come_back_with_their_values_and_dtypes(store):
    coins = store.query("coin_rows_at", snapshot_id=1)
    assert coins.columns == ["id", "snapshot_id", "taken_at", *OUTPUT_SCHEMAS["coin_series"]]
    assert coins["id"].to_list() == [1_000_000, 1_000_001]  # snapshot_id * 1e6 + row index
    assert coins["taken_at"].dtype == UTC_MS and coins["taken_at"].to_list() == [T1, T1]
    assert_frame_equal(coins.drop("id", "snapshot_id", "taken_at"), s1().coin_series)

    lifecycles = store.query(
        "positions_by_open_time_asc", start=None, end=None, coin=None, addresses=None, open=None, segment_id=None,
        after_value=None, after_id=None, limit=100,
    )
    assert lifecycles.schema == CLOSED_POSITIONS_SCHEMA
    closed_pb = lifecycles.filter(pl.col("id") == "pb")
    assert_frame_equal(closed_pb, s2().closed_positions)

    markets = store.query("markets_at", snapshot_id=1)
    assert_frame_equal(markets.drop("snapshot_id", "taken_at"), s1().markets)
    assert markets["mid_price"][1] is None


def test_relanding_a_landed_snapshot_changes_nothing(url):
    with open_store(url) as store:
        land(store, s1())
        land(store, s2())
    before = contents(url)
    with open_store(url) as store:
        assert land(store, s2(), landed_at=LANDED + timedelta(days=1)) is None
        assert land(store, s1()) is None
    assert_same_contents(before, contents(url))


def test_a_snapshot_older_than_the_last_is_refused_and_changes_nothing(url):
    with open_store(url) as store:
        land(store, s1())
        land(store, s3())
    before = contents(url)
    with open_store(url) as store, pytest.raises(StoreError, match="older than the last"):
        land(store, s2())
    assert_same_contents(before, contents(url))


def test_a_frame_with_a_wrong_schema_is_refused_before_anything_is_written(url):
    with open_store(url) as store:
        land(store, s1())
    before = contents(url)
    good = s2()
    wrong_type = good.wallets.with_columns(pl.col("count_open_positions").cast(pl.Int64))
    missing = good.heatmap_cells.drop("bias")
    beyond = good.open_positions.with_columns(pl.lit(2**62).cast(UTC_MS).alias("updated_at"))
    with open_store(url) as store:
        for bad, message in (
            (replace(good, wallets=wrong_type), r"wallets\.count_open_positions: expected Int32"),
            (replace(good, heatmap_cells=missing), r"heatmap_cells: missing column 'bias'"),
            (replace(good, open_positions=beyond), r"open_positions\.updated_at: 3 times outside the years 1 to 9999"),
        ):
            with pytest.raises(StoreError, match=message):
                land(store, bad)
        assert store.snapshot_count() == 1
    assert_same_contents(before, contents(url))


def test_funding_payments_land_with_ids_in_time_order_and_too_many_are_refused(url):
    payments = [{"time": T1 - timedelta(minutes=m), "address": ADDR[w], "coin": "BTC", "usdc": -u, "szi": 2.0,
                 "funding_rate": None if w == "b" else 1e-5} for m, w, u in ((30, "a", 1.5), (20, "b", 0.25))]
    with open_store(url) as store:
        land(store, replace(s1(), fundings=frame(FUNDINGS_SCHEMA, payments)))
        served = store.query("fundings_of_wallets", addresses=[ADDR["a"], ADDR["b"]], start=T1 - timedelta(hours=1),
                             end=T1, coins=None, after_id=None, limit=10)
        assert served["id"].to_list() == [1_000_000, 1_000_001]
        assert served["usdc"].to_list() == [-1.5, -0.25] and served["funding_rate"].to_list() == [1e-5, None]
        assert store.query("fundings_of_wallets", addresses=[ADDR["a"], ADDR["b"]], start=T1 - timedelta(hours=1),
                           end=T1, coins=None, after_id=1_000_000, limit=10)["usdc"].to_list() == [-0.25]
    before = contents(url)
    many = pl.DataFrame({"time": [T2] * 1_000_001}, schema={"time": UTC_MS}).with_columns(
        address=pl.lit(ADDR["a"]), coin=pl.lit("BTC"), dex=pl.lit("main"), usdc=pl.lit(1.0), szi=pl.lit(1.0),
        funding_rate=pl.lit(None, dtype=pl.Float64))
    with open_store(url) as store, pytest.raises(StoreError, match="fundings: 1000001 rows, at most 1000000"):
        land(store, replace(s2(), fundings=many))
    assert_same_contents(before, contents(url))


def test_a_write_failing_midway_rolls_the_whole_snapshot_back(url):
    with open_store(url) as store:
        land(store, s1())
    before = contents(url)
    good = s2()
    # open_positions is written last, after the series and after its own DELETE: a constraint the
    # frame passes (a null value) but the database refuses makes the landing fail midway
    execute(url, "ALTER TABLE open_positions ALTER COLUMN value SET NOT NULL")
    before = contents(url)
    no_value = good.open_positions.with_columns(pl.lit(None, dtype=pl.Float64).alias("value"))
    with open_store(url) as store, pytest.raises(StoreError, match="failed"):
        land(store, replace(good, open_positions=no_value))
    assert_same_contents(before, contents(url))
    with open_store(url) as store:
        assert land(store, good).snapshot_id == 2  # nothing of the failed attempt is in the way


def test_current_tables_hold_only_the_latest_snapshot(url):
    with open_store(url) as store:
        land(store, s1())
        land(store, s2())
        cells = store.query("heatmap_cells", age_window="all")
        assert cells.select("snapshot_id", "coin", "segment_id").rows() == [(2, "BTC", 2)]
        assert store.query("liquidation_bins", coin="BTC")["price_bin_index"].to_list() == [0]
        assert store.query("liquidation_risk_count", segment_id=7)["count"].to_list() == [0]
        assert store.query("wallet", address=ADDR["b"]).height == 0
        assert store.query("wallet", address=ADDR["c"])["size_segment_id"].to_list() == [2]


def test_load_state_returns_the_last_snapshot_and_its_open_positions(url):
    with open_store(url) as store:
        assert store.load_state() is None
        land(store, s1())
        land(store, s2())
    with open_store(url) as store:
        state = store.load_state()
    assert state.taken_at == T2
    assert state.open_positions.schema == OPEN_POSITIONS_SCHEMA
    assert_frame_equal(state.open_positions, s2().open_positions)


def test_a_closed_store_reopens_with_the_same_contents(url):
    with open_store(url) as store:
        for res in (s1(), s2()):
            land(store, res)
        last, cells = store.last_snapshot(), store.query("heatmap_cells", age_window="all")
        btc = series(store, "coin_series", coin="BTC")
    with open_store(url) as store:
        assert store.last_snapshot() == last
        assert_frame_equal(store.query("heatmap_cells", age_window="all"), cells)
        assert_frame_equal(series(store, "coin_series", coin="BTC"), btc)
        assert land(store, s3()).snapshot_id == 3


def test_reads_from_another_thread_see_what_was_landed(url):
    with open_store(url) as store:
        land(store, s1())
        found = []
        reader = threading.Thread(target=lambda: found.append(store.query("latest_snapshot")["snapshot_id"].item()))
        reader.start()
        reader.join()
    assert found == [1]


# --- series ---

SERIES_KEY_SCHEMA = {"id": pl.Int64, "snapshot_id": pl.Int64, "taken_at": UTC_MS}


@pytest.mark.parametrize(
    ("name", "table", "params"),
    [
        ("coin_series", "coin_series", {"coin": "ETH"}),
        ("coin_segment_series", "coin_segment_series", {"coin": "ETH", "segment_id": 7, "age_window": "all"}),
        ("coin_bucket_series", "coin_bucket_series", {"coin": "ETH", "size_bucket_id": 1}),
        ("segment_series", "segment_series", {"segment_id": 7, "age_window": "all"}),
    ],
)
def test_filled_series_have_the_stored_columns_and_dtypes(store, name, table, params):
    out = series(store, name, **params)
    assert out.schema == pl.Schema({**SERIES_KEY_SCHEMA, **OUTPUT_SCHEMAS[table]})


@pytest.mark.parametrize(
    ("name", "table", "params"),
    [
        ("coin_segment_rows_at", "coin_segment_series", {"coin": "ETH", "snapshot_id": 2, "age_window": "all"}),
        ("coin_bucket_rows_at", "coin_bucket_series", {"coin": "ETH", "snapshot_id": 2}),
        ("segment_series_at", "segment_series", {"snapshot_id": 2, "age_window": "all"}),
        ("coin_rows_at", "coin_series", {"snapshot_id": 1}),
    ],
)
def test_rows_at_a_snapshot_have_the_stored_columns_and_dtypes(store, name, table, params):
    out = store.query(name, **params)
    assert out.schema == pl.Schema({**SERIES_KEY_SCHEMA, **OUTPUT_SCHEMAS[table]})


def test_series_fill_zero_rows_for_snapshots_without_stored_rows(store):
    eth = series(store, "coin_series", coin="ETH")
    assert eth["taken_at"].to_list() == [T3, T2, T1]
    assert eth["position_count"].to_list() == [1, 0, 1]
    assert eth["total_position_value"].to_list() == [700.0, 0.0, 500.0]
    assert eth["id"].to_list() == [3_000_001, 2_999_999, 1_000_001]
    assert eth.schema["position_count"] == pl.Int64 and eth.schema["total_position_value"] == pl.Float64

    cohort = series(store, "coin_segment_series", coin="ETH", segment_id=7, age_window="all")
    assert cohort["position_count"].to_list() == [1, 0, 1]
    assert cohort["id"][1] == 2_999_007 and cohort.schema["segment_id"] == pl.Int16
    assert cohort["segment_id"].to_list() == [7, 7, 7] and cohort["coin"].to_list() == ["ETH"] * 3

    bucket = series(store, "coin_bucket_series", coin="ETH", size_bucket_id=1)
    assert bucket["position_count"].to_list() == [1, 0, 1]

    bias = series(store, "segment_series", segment_id=7, age_window="all")
    assert bias["bias"].to_list() == [-0.2, None, 0.5]
    assert bias["count_traders"].to_list() == [1, 0, 1]


def test_breakdowns_at_a_snapshot_list_every_cohort_and_bucket(store):
    cohorts = store.query("coin_segment_rows_at", coin="BTC", snapshot_id=1, age_window="all")
    assert cohorts["segment_id"].to_list() == list(range(1, 17))
    stored = cohorts.filter(pl.col("position_count") > 0)
    assert stored["segment_id"].to_list() == [1, 11]
    assert stored["total_position_value"].to_list() == [1000.0, 1000.0]
    assert cohorts.filter(pl.col("segment_id") == 5)["id"].to_list() == [1_999_005]

    buckets = store.query("coin_bucket_rows_at", coin="ETH", snapshot_id=2)
    assert buckets["size_bucket_id"].to_list() == list(range(1, 11))
    assert buckets["position_count"].sum() == 0

    segments = store.query("segment_series_at", snapshot_id=1, age_window="all")
    assert segments.height == 16
    assert segments.filter(pl.col("count_traders") > 0)["segment_id"].to_list() == [1, 7, 8, 11]
    assert store.query("segment_series_at", snapshot_id=99, age_window="all").height == 0


def test_keyset_pages_return_every_row_once_newest_first(url):
    times = [T1 + timedelta(minutes=20 * i) for i in range(10)]
    with open_store(url) as store:
        for i, at in enumerate(times):
            rows = [{"coin": "BTC", **figures(i, 1.0)}] if i % 3 else []  # every third snapshot: zero row
            land(store, result(at, general_series=[{"count": i}], coin_series=rows))
        for name, params in (("general_series", {}), ("coin_series", {"coin": "BTC"})):
            seen, before = [], None
            for _ in range(10):  # a broken cursor must fail the test, not loop forever
                page = store.query(name, start=times[1], end=times[8], before=before, limit=3, **params)
                if page.height == 0:
                    break
                seen += page.rows(named=True)
                before = page["taken_at"][-1]
            assert [r["taken_at"] for r in seen] == times[8:0:-1], name
            assert len({r["id"] for r in seen}) == 8, name
        counts = [r["position_count"] for r in seen]
        assert counts == [8, 7, 0, 5, 4, 0, 2, 1]


def test_plain_series_and_wallet_equity_figures(store):
    assert series(store, "general_series")["count"].to_list() == [3, 3, 2]
    assert series(store, "perp_volume_series")["volume"].to_list() == [4e6, 6e6, 5e6]
    ath = store.query("wallet_equity_ath").row(0, named=True)
    assert (ath["total_equity"], ath["perp_equity"], ath["spot_equity"]) == (1200.0, 950.0, 5.0)
    assert store.query("wallet_equity_at", snapshot_id=1)["total_equity"].to_list() == [1000.0]


def test_snapshot_nearest_picks_the_closest_landed_snapshot(store):
    def nearest(at: datetime) -> int:
        return store.query("snapshot_nearest", at=at)["snapshot_id"].item()

    assert nearest(T1 - timedelta(days=1)) == 1
    assert nearest(T2 + timedelta(minutes=9)) == 2
    assert nearest(T2 + timedelta(minutes=11)) == 3
    assert nearest(T2 + timedelta(minutes=10)) == 2  # a tie goes to the earlier one
    assert nearest(T3 + timedelta(days=1)) == 3
    between = store.query("snapshots_between", start=T2, end=T3)
    assert between["snapshot_id"].to_list() == [2, 3]


# --- current tables ---

def test_current_queries_sort_as_the_api_lists(url):
    with open_store(url) as store:
        land(store, s1())
        assert store.query("heatmap_coins", age_window="all")["coin"].to_list() == ["BTC", "ETH"]
        assert store.query("heatmap_coins", age_window="24h").height == 0
        risk = store.query("liquidation_risk", segment_id=7, offset=0, limit=2)
        assert risk["coin"].to_list() == ["ETH", "BTC"]
        assert store.query("liquidation_risk", segment_id=7, offset=2, limit=2)["coin"].to_list() == ["SOL"]
        assert store.query("liquidation_risk_count", segment_id=7)["count"].to_list() == [3]
        assert store.query("liquidation_bins", coin="BTC")["price_bin_index"].to_list() == [0, 1, 2]
        top = store.query("segment_top_assets", segment_id=1, age_window="all")
        assert top.select("rank", "coin").rows() == [(1, "BTC")]
        assert store.query("markets_latest")["coin"].to_list() == ["BTC", "ETH"]
        assert store.query("open_positions_by_coin", coin="BTC")["id"].to_list() == ["pa"]


# --- lifecycles ---

def positions(store: Store, **params) -> list[str]:
    args = {
        "start": None, "end": None, "coin": None, "addresses": None, "open": None, "segment_id": None,
        "after_value": None, "after_id": None, "limit": 1000, **params,
    }
    return store.query("positions_by_open_time_asc", **args)["id"].to_list()


def test_positions_lists_open_and_closed_lifecycles_by_open_time(store):
    assert positions(store) == ["pb", "pa", "pc", "pe", "pd"]
    frame = store.query(
        "positions_by_open_time_asc", start=None, end=None, coin=None, addresses=None, open=None, segment_id=None,
        after_value=None, after_id=None, limit=1000,
    )
    closed = dict(zip(frame["id"], frame["close_time"], strict=True))
    assert closed == {"pb": T2, "pa": T3 - timedelta(minutes=5), "pc": None, "pe": None, "pd": None}
    liquidated = dict(zip(frame["id"], frame["closed_by_liquidation"], strict=True))
    assert liquidated == {"pb": True, "pa": False, "pc": False, "pe": False, "pd": False}


def test_positions_filters(store):
    assert positions(store, start=T2 + timedelta(minutes=1), end=T3) == ["pa", "pc", "pe", "pd"]
    assert positions(store, start=T1 - timedelta(hours=3), end=T1 - timedelta(minutes=90)) == ["pb"]
    assert positions(store, start=T3, end=T3 + timedelta(days=1)) == ["pc", "pe", "pd"]
    assert positions(store, open=True) == ["pc", "pe", "pd"]
    assert positions(store, open=False) == ["pb", "pa"]
    assert positions(store, segment_id=7) == ["pb", "pd"]  # size cohort
    assert positions(store, segment_id=8) == ["pb", "pd"]  # PnL cohort
    assert positions(store, segment_id=12) == ["pc", "pe"]
    assert positions(store, addresses=[ADDR["a"], ADDR["c"]]) == ["pa", "pc"]
    assert positions(store, coin="ETH") == ["pb", "pd"]
    assert positions(store, coin="ETH", open=False, start=T2) == ["pb"]


def test_positions_cursor_pages_through_ties_in_open_time(store):
    seen, cursor = [], (None, None)
    for _ in range(10):  # a broken cursor must fail the test, not loop forever
        page = store.query(
            "positions_by_open_time_asc", start=None, end=None, coin=None, addresses=None, open=None, segment_id=None,
            after_value=cursor[0], after_id=cursor[1], limit=2,
        )
        if page.height == 0:
            break
        seen += page["id"].to_list()
        cursor = (page["open_time"][-1], page["id"][-1])
    assert seen == ["pb", "pa", "pc", "pe", "pd"]


# --- the query interface ---

SAMPLE_PARAMS = {
    "start": T1, "end": T3, "before": None, "limit": 10, "offset": 0, "at": T2, "snapshot_id": 1, "coin": "BTC",
    "segment_id": 1, "size_bucket_id": 2, "age_window": "all", "address": ADDR["a"], "addresses": None, "open": None,
    "after_id": None, "after_value": None, "key_hash": "h", "snapshot_ids": [1, 2],
    "coins": ["BTC"], "side": "B", "dir": "Open Long", "after_hash": None, "after_time": None, "since": T1,
    "hash": "h", "open_time": T1, "close_time": T3,
    # wallets and leaderboards
    "opened_after": T1, "segment_ids": [7, 12], "has_open_positions": True, "now_id": 2, "day_id": 1,
    "week_id": 1, "month_id": 1,
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_named_query_runs_and_says_what_it_returns(store, name):
    assert QUERIES[name].startswith("-- ")
    needed = set(re.findall(r"\$(\w+)", QUERIES[name]))
    out = store.query(name, **{p: SAMPLE_PARAMS[p] for p in needed})
    assert isinstance(out, pl.DataFrame)
    assert all(out.schema[c] == UTC_MS for c in out.columns if isinstance(out.schema[c], pl.Datetime))


def test_query_refuses_unknown_names_wrong_parameters_and_naive_times(store):
    with pytest.raises(StoreError, match="unknown query"):
        store.query("nope")
    with pytest.raises(StoreError, match=r"missing parameters \['snapshot_id'\]"):
        store.query("coin_rows_at")
    with pytest.raises(StoreError, match=r"unknown parameters \['coin'\]"):
        store.query("coin_rows_at", snapshot_id=1, coin="BTC")
    with pytest.raises(StoreError, match="timezone-aware"):
        store.query("snapshot_nearest", at=datetime(2026, 3, 1))


def test_api_keys_are_added_listed_and_revoked(url):
    with open_store(url) as store:
        store.add_api_key("h1", "laptop", T1)
        store.add_api_key("h2", "server", T2)
        with pytest.raises(StoreError, match="exists"):
            store.add_api_key("h1", "again", T3)
        assert store.revoke_api_key("h1", T3)
        assert not store.revoke_api_key("h1", T3)
        assert not store.revoke_api_key("unknown", T3)
        keys = store.api_keys()
    assert keys.select("key_hash", "name", "revoked_at").rows() == [("h1", "laptop", T3), ("h2", "server", None)]


def test_open_store_reads_paths_and_duckdb_urls_and_refuses_the_rest(tmp_path):
    file = tmp_path / "a.duckdb"
    for url in (file, str(file), f"duckdb://{file}"):
        with open_store(url) as store:
            assert store.path == str(file)
    with open_store(":memory:") as memory:
        assert memory.snapshot_count() == 0
    with pytest.raises(StoreError, match="unsupported"):
        open_store("mysql://localhost/x")


def test_a_postgres_url_without_the_driver_says_how_to_install_it(monkeypatch):
    monkeypatch.delitem(sys.modules, "hltracker.store.postgres_store")  # imported again, without psycopg:
    for module in ("psycopg", "psycopg_pool"):
        monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(StoreError, match=re.escape("pip install 'hltracker[postgres]'")):
        open_store("postgresql://hltracker@127.0.0.1/hltracker")


def test_an_unreachable_postgres_server_is_a_clear_store_error():
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://hltracker:secret@127.0.0.1:{port}/hltracker?connect_timeout=2"
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as raised:
        PostgresStore(url, connect_timeout=3)
    assert "secret" not in str(raised.value)  # the password stays out of messages and logs
