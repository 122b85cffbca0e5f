"""The market simulator: balance, lifecycle through fills, liquidations, funding, determinism, coverage."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from hltracker.model import (
    PNL_COHORT_IDS,
    SIZE_BUCKET_IDS,
    SIZE_COHORT_IDS,
    pnl_cohort_expr,
    size_bucket_expr,
    size_cohort_expr,
    validate_snapshot,
)
from hltracker.sources.simulator import SimulatedMarket, SimulatorSource, get_profile
from hltracker.sources.simulator.book import PositionBook
from hltracker.sources.simulator.catalog import DEXES, MARGIN_TABLES, MARKETS_BY_COIN
from hltracker.sources.simulator.frames import snapshot_of
from hltracker.sources.simulator.trading import Intents, execute
from hltracker.sources.snapshot_files import read_snapshot, write_snapshot

STEPS_PER_DAY = 96


@pytest.fixture(scope="module")
def two_day_run():
    """Snapshots of two simulated days of the small profile, plus the market at the end."""
    src = SimulatorSource(profile="small", seed=7, steps=2 * STEPS_PER_DAY)
    snaps = list(src.snapshots())
    return snaps, src.market


def _lots(df: pl.DataFrame, markets: pl.DataFrame) -> pl.DataFrame:
    return df.join(markets.select("coin", "sz_decimals"), on="coin").with_columns(
        (pl.col("szi") * 10.0 ** pl.col("sz_decimals")).round().cast(pl.Int64).alias("lots")
    )


def test_long_and_short_sizes_balance_in_every_market_at_every_snapshot(two_day_run):
    snaps, _ = two_day_run
    for snap in snaps:
        net = _lots(snap.positions, snap.markets).group_by("coin").agg(pl.col("lots").sum())
        assert net.filter(pl.col("lots") != 0).height == 0, snap.taken_at


def test_every_snapshot_honours_the_contract(two_day_run):
    snaps, _ = two_day_run
    for snap in snaps[:: STEPS_PER_DAY // 4]:
        validate_snapshot(snap)
        assert snap.taken_at.utcoffset().total_seconds() == 0


def test_position_changes_are_exactly_the_fills_between_snapshots(two_day_run):
    snaps, _ = two_day_run
    for prev, cur in itertools.pairwise(snaps):
        signed = cur.fills.with_columns(
            pl.when(pl.col("side") == "B").then(pl.col("sz")).otherwise(-pl.col("sz")).alias("szi")
        )
        moved = _lots(signed, cur.markets).group_by("address", "coin").agg(pl.col("lots").sum().alias("d"))
        before = _lots(prev.positions, prev.markets).select("address", "coin", pl.col("lots").alias("a"))
        after = _lots(cur.positions, cur.markets).select("address", "coin", pl.col("lots").alias("b"))
        keys = pl.concat([before.select("address", "coin"), after.select("address", "coin"),
                          moved.select("address", "coin")]).unique()
        chk = keys.join(before, on=["address", "coin"], how="left").join(after, on=["address", "coin"], how="left")
        chk = chk.join(moved, on=["address", "coin"], how="left").fill_null(0)
        assert chk.filter(pl.col("a") + pl.col("d") != pl.col("b")).height == 0


def test_fill_start_positions_chain_from_the_previous_snapshot(two_day_run):
    snaps, _ = two_day_run
    prev, cur = snaps[30], snaps[31]
    first = cur.fills.sort("time", "tid").group_by("address", "coin", maintain_order=True).first()
    joined = first.join(prev.positions.select("address", "coin", pl.col("szi").alias("prev")),
                        on=["address", "coin"], how="left").fill_null(0.0)
    assert joined.height > 0
    assert np.allclose(joined["start_position"].to_numpy(), joined["prev"].to_numpy(), atol=1e-9)


def _cross_accounts(sim: SimulatedMarket, snap) -> pl.DataFrame:
    n_d = len(DEXES)
    return pl.DataFrame({
        "address": np.repeat(sim.people.address, n_d), "dex": np.tile(np.array(DEXES), len(sim.people)),
        "cash": sim.cash.ravel(),
    })


def _mmr(coin: str, value: float) -> float:
    tiers = MARGIN_TABLES[MARKETS_BY_COIN[coin].margin_table_id].tiers
    lev = [t.max_leverage for t in tiers if value >= t.lower_bound][-1]
    return 1.0 / (2.0 * lev)


def test_liquidation_prices_follow_the_design_formula(two_day_run):
    snaps, sim = two_day_run
    snap = snaps[-1]
    pos = snap.positions.join(snap.markets.select("coin", "mark_price"), on="coin")
    pos = pos.with_columns(pl.struct("coin", "position_value").map_elements(
        lambda r: _mmr(r["coin"], r["position_value"]), return_dtype=pl.Float64).alias("mmr"))
    cross = pos.filter(pl.col("leverage_type") == "cross")
    book = cross.group_by("address", "dex").agg(
        pl.col("unrealized_pnl").sum().alias("upnl"), (pl.col("position_value") * pl.col("mmr")).sum().alias("mm"))
    book = book.join(_cross_accounts(sim, snap), on=["address", "dex"]).with_columns(
        (pl.col("cash") + pl.col("upnl") - pl.col("mm")).alias("available"))
    side = pl.col("szi").sign()
    cross = cross.join(book.select("address", "dex", "available"), on=["address", "dex"])
    iso = pos.filter(pl.col("leverage_type") == "isolated").with_columns(
        (pl.col("margin_used") - pl.col("position_value") * pl.col("mmr")).alias("available"))
    expect = pl.concat([cross, iso], how="diagonal").with_columns(
        (pl.col("mark_price") - side * pl.col("available") / pl.col("szi").abs() / (1 - pl.col("mmr") * side))
        .alias("expected"))
    expect = expect.with_columns(pl.when(pl.col("expected") > 0).then(pl.col("expected")).alias("expected"))
    assert expect.height == snap.positions.height
    both = expect.filter(pl.col("expected").is_not_null())
    assert both.height > 0
    assert (expect["expected"].is_null() == expect["liquidation_price"].is_null()).all()
    assert np.allclose(both["liquidation_price"].to_numpy(), both["expected"].to_numpy(), rtol=1e-9)


def test_no_open_position_is_past_its_liquidation_price(two_day_run):
    snaps, _ = two_day_run
    for snap in snaps[::8]:
        pos = snap.positions.join(snap.markets.select("coin", "mark_price"), on="coin")
        past = pos.filter(((pl.col("szi") > 0) & (pl.col("mark_price") <= pl.col("liquidation_price")))
                          | ((pl.col("szi") < 0) & (pl.col("mark_price") >= pl.col("liquidation_price"))))
        assert past.height == 0


def test_liquidated_positions_disappear_and_leave_a_liquidation_fill(two_day_run):
    snaps, _ = two_day_run
    seen = 0
    for prev, cur in itertools.pairwise(snaps):
        liq = cur.fills.filter(pl.col("is_liquidation") & (pl.col("address") == pl.col("liquidated_user")))
        if liq.height == 0:
            continue
        seen += liq.height
        # The victim held the position before, and the liquidation fill closes all of it at the mark.
        held = liq.join(prev.positions.select("address", "coin", "szi"), on=["address", "coin"])
        assert held.height == liq.height
        assert np.allclose(held["start_position"].to_numpy(), held["szi"].to_numpy())
        assert (held["dir"].str.starts_with("Close")).all()
        assert (held["liquidation_method"] == "backstop").all()
        # Afterwards it is gone, unless the wallet opened a new one later in the same interval.
        after = liq.join(cur.positions.select("address", "coin", "open_time"), on=["address", "coin"])
        assert (after["open_time"] > after["time"]).all()
        # The liquidator took the other side of every liquidation fill.
        assert cur.fills.filter(pl.col("tid").is_in(liq["tid"].implode())).height == 2 * liq.height
    assert seen > 0, "two simulated days produced no liquidation"


def test_funding_is_paid_hourly_at_the_oracle_price():
    sim = SimulatedMarket(get_profile("small"), seed=3)
    for _ in range(3):
        sim.step()  # 00:45
    before = snapshot_of(sim, "small")
    sim.step()  # crosses 01:00
    after = snapshot_of(sim, "small")
    untouched = before.positions.join(
        after.positions, on=["address", "coin"], suffix="_after").filter(pl.col("szi") == pl.col("szi_after"))
    untouched = untouched.join(after.fills.select("address", "coin").unique(), on=["address", "coin"], how="anti")
    chk = untouched.join(after.markets.select("coin", "oracle_price", "funding_rate"), on="coin").with_columns(
        (pl.col("funding_since_open_after") - pl.col("funding_since_open")).alias("paid"),
        (pl.col("szi") * pl.col("oracle_price") * pl.col("funding_rate")).alias("expected"))
    assert chk.height > 100
    assert np.allclose(chk["paid"].to_numpy(), chk["expected"].to_numpy(), rtol=1e-9, atol=1e-9)
    assert (chk.filter(pl.col("szi") > 0)["paid"] * chk.filter(pl.col("szi") > 0)["funding_rate"] >= 0).all()


def test_same_seed_same_snapshots_other_seed_different():
    def run(seed: int):
        return list(SimulatorSource(profile="small", seed=seed, steps=6).snapshots())

    a, b, c = run(11), run(11), run(12)
    for x, y in zip(a, b, strict=True):
        assert x.taken_at == y.taken_at
        for name in ("markets", "accounts", "positions", "fills"):
            assert x.frames()[name].equals(y.frames()[name], null_equal=True), name
    assert not a[-1].positions.equals(c[-1].positions)
    assert not a[-1].markets.equals(c[-1].markets)


def test_all_cohorts_and_size_buckets_are_populated_after_a_day(two_day_run):
    snaps, _ = two_day_run
    snap = snaps[STEPS_PER_DAY]
    in_position = snap.positions.select("address").unique()
    active = snap.accounts.filter(
        pl.col("address").is_in(in_position["address"].implode()) | (pl.col("perp_volume_30d") > 0))
    sizes = set(active.select(size_cohort_expr().alias("c"))["c"].to_list())
    pnls = set(active.select(pnl_cohort_expr().alias("c"))["c"].to_list())
    buckets = set(snap.positions.select(size_bucket_expr().alias("b"))["b"].to_list())
    assert sizes == set(SIZE_COHORT_IDS)
    assert pnls == set(PNL_COHORT_IDS)
    assert buckets == set(SIZE_BUCKET_IDS)


def test_hip3_markets_and_isolated_only_markets(two_day_run):
    snaps, _ = two_day_run
    snap = snaps[-1]
    dexes = set(snap.markets["dex"].to_list())
    assert dexes == set(DEXES)
    hip3 = snap.markets.filter(pl.col("dex") != "main")
    assert (hip3["coin"].str.split(":").list.first() == hip3["dex"]).all()
    iso_only = snap.positions.join(snap.markets.filter(pl.col("only_isolated")).select("coin"), on="coin")
    assert iso_only.height > 0
    assert (iso_only["leverage_type"] == "isolated").all()
    delisted = snap.markets.filter(pl.col("is_delisted"))["coin"]
    assert delisted.len() > 0
    assert snap.positions.filter(pl.col("coin").is_in(delisted.implode())).height == 0


def test_open_time_is_the_opening_fill_time():
    snaps = list(SimulatorSource(profile="small", seed=5, steps=3).snapshots())
    cur = snaps[-1]
    opens = cur.fills.filter(pl.col("dir").is_in(["Open Long", "Open Short"]) & (pl.col("start_position") == 0))
    joined = opens.join(cur.positions, on=["address", "coin"])
    assert joined.height > 0
    assert (joined["open_time"] == joined["time"]).all()


def test_entry_price_rules_increase_reduce_flip():
    """Size-weighted entry on increases, unchanged on reductions, the trade price after a flip."""
    from hltracker.sources.simulator.universe import build_universe

    uni = build_universe()
    btc = int(np.flatnonzero(uni.coin == "BTC")[0])
    lot = uni.lot[btc]
    one = round(1 / lot)
    book = PositionBook(
        wallet=np.array([0, 1, 2]), market=np.array([btc] * 3), lots=np.array([one, one, -2 * one]),
        entry=np.array([60_000.0, 60_000.0, 61_000.0]), leverage=np.array([10, 10, 10], np.int32),
        isolated=np.zeros(3, bool), iso_margin=np.zeros(3), funding_open=np.ones(3), funding_change=np.ones(3),
        funding_all=np.ones(3), open_ms=np.array([1, 1, 1]),
    ).sorted_by_key(uni.n)
    px = np.full(uni.n, 1.0)
    px[btc] = 70_000.0
    # wallet 0 buys 1 more, wallet 1 sells 3 (flip to -2), wallet 2 buys 2 back... net must be zero:
    intents = Intents(
        wallet=np.array([0, 1, 2]), market=np.array([btc] * 3), delta=np.array([one, -3 * one, 2 * one]),
        leverage=np.full(3, 10, np.int32), isolated=np.zeros(3, bool), taker=np.ones(3, bool),
        queue=np.arange(3, dtype=np.float64),
    )
    res = execute(book, uni, intents, px, 1000, 2000, next_tid=1)
    out = {int(w): (int(lots), float(e), int(t)) for w, lots, e, t in
           zip(res.book.wallet, res.book.lots, res.book.entry, res.book.open_ms, strict=True)}
    assert out[0][0] == 2 * one and out[0][1] == pytest.approx(65_000.0)
    assert out[1][0] == -2 * one and out[1][1] == pytest.approx(70_000.0) and out[1][2] > 1000
    assert 2 not in out  # closed
    # Realised PnL: wallet 1 closed 1 BTC long from 60k at 70k; wallet 2 closed 2 BTC short from 61k at 70k.
    by_wallet = {0: 0.0, 1: 0.0, 2: 0.0}
    for w, pnl in zip(res.fills.wallet, res.fills.closed_pnl, strict=True):
        by_wallet[int(w)] += pnl
    assert by_wallet[1] == pytest.approx(10_000.0)
    assert by_wallet[2] == pytest.approx(-18_000.0)
    assert by_wallet[0] == 0.0


def test_simulator_snapshots_round_trip_through_snapshot_files(tmp_path, two_day_run):
    snaps, _ = two_day_run
    snap = snaps[5]
    back = read_snapshot(write_snapshot(snap, tmp_path))
    assert back.taken_at == snap.taken_at and back.source == snap.source and back.height == snap.height
    for name, df in snap.frames().items():
        assert back.frames()[name].equals(df, null_equal=True), name


def test_day_volume_is_the_traded_notional_of_the_last_24_hours(two_day_run):
    snaps, _ = two_day_run
    last_day = pl.concat([s.fills for s in snaps[-STEPS_PER_DAY:]])
    traded = last_day.group_by("coin").agg(((pl.col("px") * pl.col("sz")).sum() / 2).alias("traded"))
    chk = snaps[-1].markets.join(traded, on="coin", how="left").fill_null(0.0)
    assert chk["traded"].sum() > 0
    assert np.allclose(chk["day_ntl_volume"].to_numpy(), chk["traded"].to_numpy(), rtol=1e-9, atol=1e-6)
