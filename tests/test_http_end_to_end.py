"""End to end over real HTTP: the `hyperliquid-http` source against the fake exchange.

Ingesting a set of wallets through the info API gives the same stored figures as ingesting the
simulator directly, restricted to what the info API carries for those wallets: their accounts and
positions, no fills and no opening times (the API says neither; both paths then let the engine date a
position by the first snapshot that shows it). Figures agree to the wire's rounding (USD amounts have 6
decimals on the wire); counts, ids, cohorts and buckets agree exactly.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import polars as pl
import pytest

from hltracker.fake_exchange import FakeExchange
from hltracker.ingest import Ingestor
from hltracker.model import Snapshot, validate_snapshot
from hltracker.sources.hyperliquid_http import HyperliquidHttpSource, RefreshTiers
from hltracker.sources.hyperliquid_http.watchlist import stagger
from hltracker.store import open_store
from tests.conftest import cli_process, stop_process
from tests.stores import table_contents

START = datetime(2026, 11, 1, 23, 0, tzinfo=UTC)
SNAPSHOTS = 5


def _pick_wallets(snap: Snapshot, n: int) -> list[str]:
    """Wallets with positions spread over the equity range (HIP-3 holders included), plus a few
    without positions that still hold equity."""
    holders = snap.positions.group_by("address").agg(pl.col("dex").ne("main").any().alias("hip3"))
    ranked = snap.accounts.join(holders, on="address").sort("perp_equity", "address")
    step = max(ranked.height // n, 1)
    picked = ranked["address"].gather(list(range(0, ranked.height, step))[:n]).to_list()
    picked += ranked.filter(pl.col("hip3"))["address"].head(5).to_list()
    idle = snap.accounts.join(holders, on="address", how="anti").filter(pl.col("perp_equity") > 0)
    picked += idle.sort("address")["address"].head(5).to_list()
    return sorted(set(picked))


def _api_view(snap: Snapshot, wallets: list[str]) -> Snapshot:
    """What the info API can say about `wallets`: their rows, no fills, no opening times."""
    positions = snap.positions.filter(pl.col("address").is_in(wallets)).with_columns(
        pl.lit(None, dtype=snap.positions.schema["open_time"]).alias("open_time"))
    held = positions["address"].unique()
    accounts = snap.accounts.filter(pl.col("address").is_in(wallets)).filter(
        pl.col("address").is_in(held.to_list()) | pl.any_horizontal(
            pl.col(c).fill_null(0) != 0 for c in ("perp_equity", "spot_equity", "staking_equity", "vault_equity",
                                                   "perp_volume_30d")))
    return Snapshot(taken_at=snap.taken_at, source=snap.source, markets=snap.markets, accounts=accounts,
                    positions=positions, height=snap.height, extra=dict(snap.extra))


def _assert_same_figures(direct: dict[str, pl.DataFrame], http: dict[str, pl.DataFrame]) -> None:
    assert direct.keys() == http.keys()
    compared = 0
    for table, a in direct.items():
        b = http[table]
        if table in ("snapshots", "api_keys", "schema_version"):
            continue
        assert a.columns == b.columns and a.height == b.height, table
        floats = [c for c, t in a.schema.items() if t in (pl.Float64, pl.Float32)]
        keys = [c for c in a.columns if c not in floats]
        a, b = a.sort(keys, nulls_last=True), b.sort(keys, nulls_last=True)
        assert a.select(keys).equals(b.select(keys)), f"{table}: keys and counts differ"
        for col in floats:
            for x, y in zip(a[col].to_list(), b[col].to_list(), strict=True):
                same = (x is None and y is None) or (x is not None and y is not None and (
                    (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-7, abs_tol=1e-4)))
                assert same, f"{table}.{col}: direct {x} vs http {y}"
        compared += a.height
    assert compared > 1000


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """The same market ingested twice: directly, and through the HTTP source from the fake exchange."""
    folder = tmp_path_factory.mktemp("e2e")
    direct_url, http_url = str(folder / "direct.duckdb"), str(folder / "http.duckdb")
    with FakeExchange("small", seed=4, start=START, weight_limit=3000, window_seconds=1.0) as fx, \
            open_store(direct_url) as direct_store, open_store(http_url) as http_store:
        wallets = _pick_wallets(fx.snapshot(), 40)
        src = HyperliquidHttpSource(url=fx.info_url, wallets=wallets, weight_limit=3000, window_seconds=1.0,
                                    tiers=RefreshTiers.parse("0:1"), slow_every=1, concurrency=4)
        direct, http = Ingestor(direct_store), Ingestor(http_store)
        for _ in range(SNAPSHOTS):
            snap = validate_snapshot(src.take_snapshot())
            expected = _api_view(fx.snapshot(), wallets)
            assert snap.taken_at == expected.taken_at
            assert http.offer(snap) and direct.offer(expected)
            fx.step()
        src.close()
        counts = fx.counts()
    return direct_url, http_url, wallets, counts


def test_http_ingestion_stores_the_same_figures_as_direct_ingestion(ingested):
    direct_url, http_url, _, _ = ingested
    direct, http = table_contents(direct_url, drop_wall_clock=True), table_contents(http_url, drop_wall_clock=True)
    assert direct["open_positions"].height > 40 and direct["closed_positions"].height > 0
    assert direct["open_positions"]["dex"].n_unique() > 1  # HIP-3 positions went through too
    _assert_same_figures(direct, http)


def test_a_client_inside_its_budget_is_never_refused(ingested):
    _, _, wallets, counts = ingested
    assert not counts["throttled"] and not counts["invalid"]
    # Every cycle asked every wallet on every dex, and the heavy requests once per wallet per cycle.
    dexes = counts["served"]["metaAndAssetCtxs"] // SNAPSHOTS
    assert counts["served"]["clearinghouseState"] == SNAPSHOTS * len(wallets) * dexes
    assert counts["served"]["portfolio"] == SNAPSHOTS * len(wallets)


def test_a_client_over_the_budget_is_throttled_and_still_gets_everything():
    with FakeExchange("small", seed=4, start=START, weight_limit=400, window_seconds=1.0) as fx:
        wallets = _pick_wallets(fx.snapshot(), 10)
        # The client ignores the budget: the exchange refuses with 429 and the client backs off.
        src = HyperliquidHttpSource(url=fx.info_url, wallets=wallets, weight_limit=None, concurrency=8,
                                    retries=8, backoff=0.05)
        snap = validate_snapshot(src.take_snapshot())
        src.close()
        assert sum(fx.throttled.values()) > 0
        assert not src.failures
        expected = _api_view(fx.snapshot(), wallets)
    assert sorted(snap.accounts["address"]) == sorted(expected.accounts["address"])
    assert snap.positions.height == expected.positions.height


def test_cli_ingests_a_watchlist_from_the_fake_exchange(tmp_path):
    with FakeExchange("small", seed=4, start=START, weight_limit=None) as fx:
        wallets = _pick_wallets(fx.snapshot(), 8)
        (tmp_path / "watchlist.txt").write_text("# e2e\n" + "\n".join(wallets) + "\n")
        database = str(tmp_path / "cli.duckdb")
        proc = cli_process("ingest", "--source", "hyperliquid-http", "--url", fx.info_url, "--watchlist",
                           str(tmp_path / "watchlist.txt"), "--weight-limit", "0", "--database", database)
        proc.wait(timeout=120)
        out = stop_process(proc)
        assert proc.returncode == 0, out
        expected = _api_view(fx.snapshot(), wallets)
    assert "landed 1" in out and f"{len(expected.accounts)} wallets" in out
    with open_store(database, read_only=True) as store:
        assert store.load_state().taken_at == expected.taken_at


def test_cli_refuses_a_bad_watchlist(tmp_path):
    (tmp_path / "bad.txt").write_text("0xnothex\n")
    proc = cli_process("ingest", "--source", "hyperliquid-http", "--watchlist", str(tmp_path / "bad.txt"),
                       "--database", str(tmp_path / "x.duckdb"))
    proc.wait(timeout=60)
    out = stop_process(proc)
    assert proc.returncode == 2 and "bad.txt:1: '0xnothex' is not a 0x-prefixed" in out


def test_leaderboard_wallets_start_from_the_files_pnl_and_fetch_portfolios_on_their_slow_cycle():
    with FakeExchange("small", seed=4, start=START, weight_limit=None) as fx:
        src = HyperliquidHttpSource(url=fx.info_url, leaderboard=fx.url + "/Mainnet/leaderboard", top=12,
                                    weight_limit=None, tiers=RefreshTiers.parse("0:1"), slow_every=4)
        first = validate_snapshot(src.take_snapshot())
        expected = fx.snapshot()
        on_schedule = sum(1 for a in first.accounts["address"] if stagger(a) % 4 == 0)
        assert first.accounts.height == 12 and fx.served.get("portfolio", 0) == on_schedule < 12
        # The 12 largest by account value, their all-time PnL from the file (the simulator's figure).
        pnl = dict(expected.accounts.select("address", "all_time_pnl").iter_rows())
        for address, value in first.accounts.select("address", "all_time_pnl").iter_rows():
            assert value == pytest.approx(pnl[address], abs=1e-5)
        for _ in range(3):
            src.take_snapshot()
        src.close()
        assert fx.served["portfolio"] == 12  # each wallet once, on its own slow cycle of the 4
