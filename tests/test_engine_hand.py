"""The engine on a tiny hand-made market, every figure family checked against values worked out by hand.

Three snapshots 15 minutes apart, marks BTC 100 -> 110, ETH 10 -> 11, xyz:GOLD 50 -> 50.

Snapshot 1 (T1) open positions                      Between T1 and T2 (fills)
  A  BTC  +10  entry 90   liq 50    opened T1-2d      T1+5m  C buys 150 ETH (-100 -> +50: flip)
  B  BTC  -10  entry 100  liq 104   (no open time)           B sells 150 ETH (+100 -> -50: flip)
  C  ETH  -100 entry 12   liq 20    opened T1-10d     T1+7m  B's BTC short liquidated (B buys 10),
  B  ETH  +100 entry 11   liq 8     opened T1-1h             L sells 10 BTC (opens a short)
  A  GOLD -2   entry 55   no liq    opened T1-40d     T1+8m  A buys 5 BTC, L sells 5 BTC
  C  GOLD +2   entry 45   liq 30    opened T1-3d      both GOLD positions close (no fills known)
                                                      D and E open GOLD at T1+10m (source times)
Snapshot 2 (T2 = T1+15m)
  A  BTC  +15  entry 95   liq 60    update: same lifecycle
  L  BTC  -15  entry 104  liq 200   open at the liquidation fill T1+7m
  C  ETH  +50  entry 10.5 liq 5     open at the flip fill T1+5m
  B  ETH  -50  entry 10.5 liq 11.1  open at the flip fill T1+5m; progress 83.3 >= 75: close to liq
  D  GOLD +1   entry 50   liq 10    open T1+10m
  E  GOLD -1   entry 48   liq 50.6  open T1+10m; progress 76.9: close to liquidation
Snapshot 3 (T3 = T2+15m): the same state, no fills: nothing opens, closes or changes.

Wallets (perp equity / all-time PnL -> size cohort, PnL cohort; 30-day volume):
  A 20,000 / 50,000 -> Dolphin 2, Grinder 10      B 100 / -500 -> Shrimp 16, Exit Liquidity 12
  C 2m / 2m -> Tidal Whale 6, Money Printer 8     D 300 / 0 -> Fish 1, Humble Earner 11 (volume, no position at T1)
  E 5 / 0 -> Shrimp 16, Humble 11 (inactive at T1) L 1m / -2m -> Tidal Whale 6, Giga-Rekt 15 (inactive at T1)
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from hltracker.engine import next_state, run
from hltracker.model import Snapshot, conform, empty_frame, validate_snapshot
from hltracker.model.outputs import OUTPUT_SCHEMAS

T1 = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
T2 = T1 + timedelta(minutes=15)
T3 = T2 + timedelta(minutes=15)
MIN = timedelta(minutes=1)
UTC_MS = pl.Datetime("ms", "UTC")
A, B, C, D, E, L = ("0x" + ch * 40 for ch in "abcdef")
APPROX = {"rel": 1e-9, "abs": 1e-9}


def _markets(btc: float, eth: float) -> pl.DataFrame:
    return conform(pl.DataFrame({
        "coin": ["BTC", "ETH", "xyz:GOLD"], "dex": ["main", "main", "xyz"],
        "mark_price": [btc, eth, 50.0], "oracle_price": [btc, eth, 50.0], "mid_price": [btc, eth, None],
        "premium": [0.0, 0.0, None], "funding_rate": [0.00001, 0.00001, 0.0],
        "open_interest": [10.0, 100.0, 2.0], "day_ntl_volume": [1_000_000.0, 500_000.0, 10_000.0],
        "max_leverage": [40, 25, 10], "sz_decimals": [5, 4, 2], "is_delisted": [False] * 3,
        "only_isolated": [False, False, True],
    }), "markets")


def _accounts() -> pl.DataFrame:
    return conform(pl.DataFrame({
        "address": [A, B, C, D, E, L],
        "perp_equity": [20_000.0, 100.0, 2_000_000.0, 300.0, 5.0, 1_000_000.0],
        "spot_equity": [1_000.0, 0.0, 0.0, None, 0.0, 0.0],
        "staking_equity": [0.0, 0.0, 10_000.0, 0.0, None, 0.0],
        "vault_equity": [0.0, 0.0, 5_000.0, 0.0, 0.0, None],
        "balance": [15_000.0, 50.0, 1_500_000.0, 300.0, 5.0, 900_000.0],
        "all_time_pnl": [50_000.0, -500.0, 2_000_000.0, 0.0, 0.0, -2_000_000.0],
        "perp_volume_30d": [100_000.0, 5_000.0, 10_000_000.0, 1_000.0, 0.0, 0.0],
    }), "accounts")


def _positions(rows: list[tuple]) -> pl.DataFrame:
    cols = ("address", "coin", "dex", "szi", "entry_price", "position_value", "unrealized_pnl", "liquidation_price",
            "leverage_type", "leverage", "margin_used", "max_leverage", "funding_since_open", "open_time")
    frame = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows],
                         schema_overrides={"open_time": UTC_MS, "liquidation_price": pl.Float64,
                                           "funding_since_open": pl.Float64})
    return conform(frame, "positions")


def _fills(rows: list[tuple]) -> pl.DataFrame:
    cols = ("time", "address", "coin", "side", "px", "sz", "start_position", "dir", "tid", "is_liquidation",
            "liquidated_user")
    if not rows:
        return empty_frame("fills")
    frame = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows],
                         schema_overrides={"time": UTC_MS, "liquidated_user": pl.String})
    return conform(frame.with_columns(
        pl.lit("main").alias("dex"), pl.lit(0.0).alias("closed_pnl"), pl.lit(0.0).alias("fee"),
        pl.lit(True).alias("crossed"), pl.lit(None, pl.Float64).alias("liquidation_mark_px"),
        pl.when(pl.col("is_liquidation")).then(pl.lit("market")).alias("liquidation_method"),
    ), "fills")


SNAP1_POSITIONS = [
    (A, "BTC", "main", 10.0, 90.0, 1000.0, 100.0, 50.0, "cross", 10, 100.0, 40, 1.0, T1 - timedelta(days=2)),
    (B, "BTC", "main", -10.0, 100.0, 1000.0, 0.0, 104.0, "cross", 20, 50.0, 40, -1.0, None),
    (C, "ETH", "main", -100.0, 12.0, 1000.0, 200.0, 20.0, "isolated", 5, 200.0, 25, 0.5, T1 - timedelta(days=10)),
    (B, "ETH", "main", 100.0, 11.0, 1000.0, -100.0, 8.0, "cross", 20, 50.0, 25, -0.5, T1 - timedelta(hours=1)),
    (A, "xyz:GOLD", "xyz", -2.0, 55.0, 100.0, 10.0, None, "isolated", 2, 50.0, 10, 0.0, T1 - timedelta(days=40)),
    (C, "xyz:GOLD", "xyz", 2.0, 45.0, 100.0, 10.0, 30.0, "isolated", 3, 30.0, 10, 0.0, T1 - timedelta(days=3)),
]
SNAP2_POSITIONS = [
    (A, "BTC", "main", 15.0, 95.0, 1650.0, 225.0, 60.0, "cross", 10, 165.0, 40, 1.5, T1 - timedelta(days=2)),
    (L, "BTC", "main", -15.0, 104.0, 1650.0, -90.0, 200.0, "cross", 1, 1650.0, 40, 0.0, None),
    (C, "ETH", "main", 50.0, 10.5, 550.0, 25.0, 5.0, "isolated", 5, 110.0, 25, 0.0, None),
    (B, "ETH", "main", -50.0, 10.5, 550.0, -25.0, 11.1, "cross", 20, 27.5, 25, 0.2, None),
    (D, "xyz:GOLD", "xyz", 1.0, 50.0, 50.0, 0.0, 10.0, "isolated", 2, 25.0, 10, None, T1 + 10 * MIN),
    (E, "xyz:GOLD", "xyz", -1.0, 48.0, 50.0, -2.0, 50.6, "isolated", 10, 5.0, 10, 0.0, T1 + 10 * MIN),
]
SNAP2_FILLS = [
    # before T1: already reflected in snapshot 1, must be ignored
    (T1 - MIN, C, "ETH", "B", 12.0, 100.0, -100.0, "Close Short", 1, False, None),
    (T1 + 5 * MIN, C, "ETH", "B", 10.5, 150.0, -100.0, "Short > Long", 2, False, None),
    (T1 + 5 * MIN, B, "ETH", "A", 10.5, 150.0, 100.0, "Long > Short", 2, False, None),
    (T1 + 7 * MIN, B, "BTC", "B", 104.0, 10.0, -10.0, "Close Short", 3, True, B),
    (T1 + 7 * MIN, L, "BTC", "A", 104.0, 10.0, 0.0, "Open Short", 3, True, B),
    (T1 + 8 * MIN, A, "BTC", "B", 104.0, 5.0, 10.0, "Open Long", 4, False, None),
    (T1 + 8 * MIN, L, "BTC", "A", 104.0, 5.0, -10.0, "Open Short", 4, False, None),
]


def _snap(taken_at, markets, positions, fills=None) -> Snapshot:
    return validate_snapshot(Snapshot(taken_at=taken_at, source="hand", markets=markets, accounts=_accounts(),
                                      positions=_positions(positions), fills=fills))


def _pid(address: str, dex: str, coin: str, opened: datetime) -> str:
    return hashlib.sha256(f"{address}|{dex}|{coin}|{int(opened.timestamp() * 1000)}".encode()).hexdigest()


@pytest.fixture(scope="module")
def runs():
    s1 = _snap(T1, _markets(100.0, 10.0), SNAP1_POSITIONS)
    s2 = _snap(T2, _markets(110.0, 11.0), SNAP2_POSITIONS, _fills(SNAP2_FILLS))
    s3 = _snap(T3, _markets(110.0, 11.0), SNAP2_POSITIONS, _fills([]))
    r1 = run(s1, None)
    r2 = run(s2, next_state(r1))
    r3 = run(s3, next_state(r2))
    return r1, r2, r3


def _row(frame: pl.DataFrame, **keys) -> dict:
    rows = frame.filter(**keys).to_dicts()
    assert len(rows) == 1, (keys, rows)
    return rows[0]


def _check(row: dict, expected: dict) -> None:
    for key, value in expected.items():
        if isinstance(value, float):
            assert row[key] == pytest.approx(value, **APPROX), key
        else:
            assert row[key] == value, key


def test_every_frame_has_its_declared_schema(runs):
    for result in runs:
        for name, frame in result.frames().items():
            if name in OUTPUT_SCHEMAS:
                assert frame.schema == OUTPUT_SCHEMAS[name], name


def test_lifecycles_open_update_flip_close_and_liquidation(runs):
    r1, r2, r3 = runs
    opened = {(r["address"], r["coin"]): r for r in r2.open_positions.to_dicts()}
    assert set(opened) == {(A, "BTC"), (L, "BTC"), (C, "ETH"), (B, "ETH"), (D, "xyz:GOLD"), (E, "xyz:GOLD")}
    # update: A's BTC long grew; same lifecycle, created at T1, updated at T2
    a_btc = opened[(A, "BTC")]
    assert a_btc["id"] == _pid(A, "main", "BTC", T1 - timedelta(days=2))
    assert (a_btc["open_time"], a_btc["created_at"], a_btc["updated_at"]) == (T1 - timedelta(days=2), T1, T2)
    assert a_btc["size"] == 15.0
    # opens: times from the opening fills (flip, liquidation take-over), else the source's own times
    assert opened[(L, "BTC")]["open_time"] == T1 + 7 * MIN
    assert opened[(C, "ETH")]["open_time"] == T1 + 5 * MIN
    assert opened[(B, "ETH")]["open_time"] == T1 + 5 * MIN
    assert opened[(D, "xyz:GOLD")]["open_time"] == T1 + 10 * MIN
    assert opened[(C, "ETH")]["id"] == _pid(C, "main", "ETH", T1 + 5 * MIN)
    assert opened[(L, "BTC")]["created_at"] == T2
    # closes: 5 lifecycles ended, keeping their last seen (snapshot 1) values
    closed = {(r["address"], r["coin"]): r for r in r2.closed_positions.to_dicts()}
    assert set(closed) == {(B, "BTC"), (C, "ETH"), (B, "ETH"), (A, "xyz:GOLD"), (C, "xyz:GOLD")}
    b_btc = closed[(B, "BTC")]
    _check(b_btc, {"id": _pid(B, "main", "BTC", T1), "open_time": T1, "close_time": T1 + 7 * MIN,
                   "closed_by_liquidation": True, "side": "short", "size": 10.0, "value": 1000.0,
                   "entry_price": 100.0, "liquidation_price": 104.0, "liquidation_progress": 0.0,
                   "funding": -1.0, "created_at": T1, "updated_at": T2})
    _check(closed[(C, "ETH")], {"close_time": T1 + 5 * MIN, "closed_by_liquidation": False, "szi": -100.0,
                                "open_time": T1 - timedelta(days=10)})
    _check(closed[(B, "ETH")], {"close_time": T1 + 5 * MIN, "closed_by_liquidation": False, "szi": 100.0})
    _check(closed[(A, "xyz:GOLD")], {"close_time": T2, "closed_by_liquidation": False, "value": 100.0})
    _check(closed[(C, "xyz:GOLD")], {"close_time": T2, "liquidation_progress": 100 * (50 - 45) / (30 - 45)})
    # snapshot 3 repeats snapshot 2: same ids, nothing closed, nothing updated
    assert r3.closed_positions.height == 0
    assert r3.open_positions.select("id", "open_time", "created_at", "updated_at").equals(
        r2.open_positions.select("id", "open_time", "created_at", "updated_at"))
    assert r1.closed_positions.height == 0


def test_open_position_fields(runs):
    _, r2, _ = runs
    pos = r2.open_positions
    _check(_row(pos, address=B, coin="ETH"), {
        "side": "short", "szi": -50.0, "size": 50.0, "value": 550.0, "mark_price": 11.0, "mid_price": 11.0,
        "entry_price": 10.5, "liquidation_price": 11.1, "liquidation_progress": 100 * 0.5 / 0.6,
        "cross_leverage": 20, "isolated_leverage": 0, "asset_max_leverage": 25, "sz_decimals": 4,
        "funding": 0.2, "unrealized_pnl": -25.0, "profile_total_equity": 100.0, "profile_perp_equity": 100.0,
        "profile_count_open_positions": 1, "profile_pnl": -500.0, "profile_balance": 50.0,
        "size_segment_id": 16, "pnl_segment_id": 12, "size_bucket_id": 1,
    })
    _check(_row(pos, address=A, coin="BTC"), {
        "value": 1650.0, "liquidation_progress": 100 * (110 - 95) / (60 - 95), "size_bucket_id": 2,
        "profile_total_equity": 21_000.0, "size_segment_id": 2, "pnl_segment_id": 10,
    })
    _check(_row(pos, address=E, coin="xyz:GOLD"), {
        "cross_leverage": 0, "isolated_leverage": 10, "liquidation_progress": 100 * 2 / 2.6, "mid_price": None,
    })
    assert _row(pos, address=D, coin="xyz:GOLD")["funding"] is None


def test_wallet_profiles_and_cohorts(runs):
    r1, r2, _ = runs
    _check(_row(r2.wallets, address=C), {
        "total_equity": 2_015_000.0, "count_open_positions": 1, "open_value": 550.0, "open_long_value": 550.0,
        "open_short_value": 0.0, "unrealized_pnl": 25.0, "is_active": True, "size_segment_id": 6,
        "pnl_segment_id": 8,
    })
    _check(_row(r2.wallets, address=L), {"size_segment_id": 6, "pnl_segment_id": 15, "is_active": True})
    # at T1: D active through volume alone; E and L inactive, without cohorts
    _check(_row(r1.wallets, address=D), {"is_active": True, "count_open_positions": 0, "size_segment_id": 1,
                                         "pnl_segment_id": 11})
    # inactive wallets belong to no cohort and are not listed, but their equity counts market-wide
    assert r1.wallets["address"].to_list() == [A, B, C, D]
    assert r1.general_series["perp_equity"].item() == pytest.approx(3_020_405.0)


def test_coin_series(runs):
    _, r2, _ = runs
    figures = ("position_count", "position_count_long", "total_position_value", "total_position_value_long",
               "total_funding", "total_unrealized_pnl", "total_position_size", "total_position_size_long",
               "value_close_to_liquidation")
    expected = {
        "BTC": (2, 1, 3300.0, 1650.0, 1.5, 135.0, 30.0, 15.0, 0.0),
        "ETH": (2, 1, 1100.0, 550.0, 0.2, 0.0, 100.0, 50.0, 550.0),
        "xyz:GOLD": (2, 1, 100.0, 50.0, 0.0, -2.0, 2.0, 1.0, 50.0),
    }
    assert r2.coin_series.height == 3
    for coin, values in expected.items():
        _check(_row(r2.coin_series, coin=coin), dict(zip(figures, values, strict=True)))
    assert _row(r2.coin_series, coin="xyz:GOLD")["dex"] == "xyz"
    # size buckets: BTC positions are $1,650 (bucket 2), ETH and GOLD under $1k (bucket 1)
    assert r2.coin_bucket_series.select("coin", "size_bucket_id").rows() == [
        ("BTC", 2), ("ETH", 1), ("xyz:GOLD", 1)]
    _check(_row(r2.coin_bucket_series, coin="ETH"), dict(zip(figures, expected["ETH"], strict=True)))


def test_coin_segment_series_by_recency_window(runs):
    _, r2, _ = runs
    seg = r2.coin_segment_series
    _check(_row(seg, coin="BTC", segment_id=2, age_window="all"), {
        "position_count": 1, "position_count_long": 1, "total_position_value": 1650.0,
        "total_position_value_long": 1650.0, "total_funding": 1.5, "total_unrealized_pnl": 225.0})
    _check(_row(seg, coin="xyz:GOLD", segment_id=11, age_window="all"), {
        "position_count": 2, "position_count_long": 1, "total_position_value": 100.0,
        "total_position_value_long": 50.0, "total_unrealized_pnl": -2.0, "value_close_to_liquidation": 50.0})
    # A's BTC long opened 2 days ago: in 7d and 30d, not in 24h
    assert seg.filter(coin="BTC", segment_id=2, age_window="24h").height == 0
    assert seg.filter(coin="BTC", segment_id=2, age_window="7d").height == 1
    _check(_row(seg, coin="BTC", segment_id=6, age_window="24h"), {"position_count": 1, "position_count_long": 0})
    assert sorted(seg.filter(coin="BTC", age_window="all")["segment_id"].to_list()) == [2, 6, 10, 15]


def test_general_wallet_equity_and_volume(runs):
    _, r2, _ = runs
    _check(r2.general_series.row(0, named=True), {
        "count": 6, "count_long": 3, "count_short": 3, "open_interest": 4500.0, "open_interest_long": 2250.0,
        "open_interest_short": 2250.0, "perp_equity": 3_020_405.0, "count_in_profit": 2})
    _check(r2.wallet_equity_series.row(0, named=True), {
        "total_equity": 3_036_405.0, "perp_equity": 3_020_405.0, "spot_equity": 1_000.0,
        "staking_equity": 10_000.0, "vault_equity": 5_000.0})
    assert r2.perp_volume_series.row(0, named=True) == {"volume": 1_510_000.0}


def test_segment_bias_and_summary_figures(runs):
    r1, r2, _ = runs
    s = r2.segment_series
    assert s.height == 16 * 4
    _check(_row(s, segment_id=16, age_window="all"), {
        "open_value": 600.0, "open_long_value": 0.0, "open_short_value": 600.0, "active_perp_equity": 105.0,
        "perp_equity": 105.0, "bias": -600 / 105, "exposure_ratio": 600 / 105, "count_traders": 2,
        "count_traders_in_position": 2, "count_traders_in_profit": 0, "count_open_positions": 2,
        "count_open_positions_long": 0, "count_assets": 2})
    _check(_row(s, segment_id=6, age_window="all"), {
        "open_value": 2200.0, "open_long_value": 550.0, "open_short_value": 1650.0,
        "active_perp_equity": 3_000_000.0, "bias": -1100 / 3_000_000, "exposure_ratio": 2200 / 3_000_000,
        "count_traders_in_profit": 1})
    _check(_row(s, segment_id=11, age_window="all"), {
        "open_value": 100.0, "bias": 0.0, "active_perp_equity": 305.0, "count_assets": 1, "count_traders": 2})
    _check(_row(s, segment_id=2, age_window="all"), {"bias": 1650 / 20_000, "count_traders_in_profit": 1})
    # 24h: A's only position opened 2 days ago, so A (Dolphin, Grinder) does not qualify
    _check(_row(s, segment_id=2, age_window="24h"), {
        "open_value": 0.0, "count_traders": 0, "active_perp_equity": 0.0, "bias": None, "exposure_ratio": None})
    _check(_row(s, segment_id=2, age_window="7d"), {"open_value": 1650.0, "count_traders": 1})
    _check(_row(s, segment_id=7, age_window="all"), {"count_traders": 0, "open_value": 0.0, "bias": None})
    # T1: D counts as a Fish trader through volume, holds nothing; L is inactive so Tidal Whale is C alone
    s1 = r1.segment_series
    _check(_row(s1, segment_id=1, age_window="all"), {
        "count_traders": 1, "count_traders_in_position": 0, "perp_equity": 300.0, "active_perp_equity": 0.0,
        "bias": None})
    _check(_row(s1, segment_id=6, age_window="all"), {"count_traders": 1, "perp_equity": 2_000_000.0})


def test_top_assets_and_heatmap(runs):
    _, r2, _ = runs
    top = r2.segment_top_assets.filter(segment_id=6, age_window="all")
    assert top.select("rank", "coin", "total_value", "bias").rows() == [(1, "BTC", 1650.0, 0.0),
                                                                        (2, "ETH", 550.0, 1.0)]
    coins = r2.heatmap_coins.filter(age_window="all")
    assert coins["coin"].to_list() == ["BTC", "ETH", "xyz:GOLD"]  # by total value
    _check(_row(coins, coin="BTC"), {"total_value": 3300.0, "total_long_value": 1650.0,
                                     "total_short_value": 1650.0, "count": 2, "count_long": 1,
                                     "count_short": 1, "bias": 0.5})
    _check(_row(r2.heatmap_coins, coin="BTC", age_window="24h"), {
        "total_value": 1650.0, "total_long_value": 0.0, "count": 1, "count_short": 1, "bias": 0.0})
    _check(_row(r2.heatmap_cells, coin="ETH", age_window="all", segment_id=16), {
        "total_value": 550.0, "total_short_value": 550.0, "count_short": 1, "bias": 0.0})
    assert r2.heatmap_cells.filter(coin="BTC", age_window="24h")["segment_id"].to_list() == [6, 15]


def test_liquidation_risk(runs):
    _, r2, _ = runs
    risk = r2.liquidation_risk
    _check(_row(risk, segment_id=16, coin="ETH"), {"total_value": 550.0, "risk_value": 550.0, "percent_risk": 100.0})
    _check(_row(risk, segment_id=11, coin="xyz:GOLD"), {"total_value": 100.0, "risk_value": 50.0,
                                                         "percent_risk": 50.0})
    _check(_row(risk, segment_id=2, coin="BTC"), {"total_value": 1650.0, "risk_value": 0.0, "percent_risk": 0.0})
    # 6 positions, one cohort per axis each; D and E share (Humble Earner, GOLD): 12 pairs - 1
    assert risk.height == 11


def test_liquidation_bins(runs):
    _, r2, _ = runs
    bins = r2.liquidation_bins
    assert bins.height == 3 * 100
    btc = bins.filter(coin="BTC")
    # range [55, 165), width 1.1; A's liquidation at 60 falls in bin 4 = [59.4, 60.5)
    _check(_row(btc, price_bin_index=4), {
        "price_bin_start": 59.4, "price_bin_end": 60.5, "liquidation_value": 1650.0,
        "liquidation_value_long": 1650.0, "liquidation_value_short": 0.0, "positions_count": 1,
        "most_impacted_segment": 2, "most_impacted_pnl_segment": 10, "cumulative_value": 1650.0})
    assert btc.filter(pl.col("liquidation_value") > 0).height == 1  # L's 200 is outside [55, 165)
    assert btc.filter(pl.col("price_bin_index") < 4)["cumulative_value"].to_list() == [1650.0] * 4
    assert btc.filter(pl.col("price_bin_index") > 4)["cumulative_value"].sum() == 0.0
    # ETH: range [5.5, 16.5), width 0.11; B's 11.1 in bin 50 = [11.0, 11.11); C's 5 below the range
    _check(_row(bins, coin="ETH", price_bin_index=50), {
        "liquidation_value": 550.0, "liquidation_value_short": 550.0, "most_impacted_segment": 16,
        "most_impacted_pnl_segment": 12, "cumulative_value": 550.0})
    assert bins.filter(coin="ETH", price_bin_index=99)["cumulative_value"].item() == 550.0
    assert bins.filter(coin="ETH", price_bin_index=49)["cumulative_value"].item() == 0.0
    _check(_row(bins, coin="xyz:GOLD", price_bin_index=51), {"liquidation_value": 50.0, "positions_count": 1,
                                                             "most_impacted_segment": 16})
    empty = _row(btc, price_bin_index=0)
    assert (empty["liquidation_value"], empty["positions_count"], empty["most_impacted_segment"]) == (0.0, 0, None)


def test_a_flip_reported_with_a_stale_open_time_still_gets_a_new_lifecycle(runs):
    """A source repeating the old lifecycle's open time for a flipped position must not repeat its id."""
    r1, _, _ = runs
    stale = [row if row[:2] != (C, "ETH") else
             (C, "ETH", "main", 50.0, 10.5, 550.0, 25.0, 5.0, "isolated", 5, 110.0, 25, 0.0, T1 - timedelta(days=10))
             for row in SNAP2_POSITIONS]
    r2 = run(_snap(T2, _markets(110.0, 11.0), stale), next_state(r1))
    old = _row(r2.closed_positions, address=C, coin="ETH")
    new = _row(r2.open_positions, address=C, coin="ETH")
    assert old["close_time"] == T2 and new["open_time"] == T2 and new["id"] != old["id"]
