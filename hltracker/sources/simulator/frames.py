"""The simulator's state as the snapshot contract's frames."""

from __future__ import annotations

import numpy as np
import polars as pl

from hltracker.model import Snapshot, conform
from hltracker.sources.simulator.market import FundingBatch, SimulatedMarket
from hltracker.sources.simulator.trading import FillBatch

SOURCE_NAME = "simulator"


def _dir(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Hyperliquid's fill `dir` from the signed size before and after a fill."""
    return np.select(
        [
            (start >= 0) & (end > start),
            (start < 0) & (end > start) & (end <= 0),
            (start < 0) & (end > 0),
            (start <= 0) & (end < start),
            (start > 0) & (end < start) & (end >= 0),
            (start > 0) & (end < 0),
        ],
        ["Open Long", "Close Short", "Short > Long", "Open Short", "Close Long", "Long > Short"],
        default="Unknown",
    )


def markets_frame(sim: SimulatedMarket) -> pl.DataFrame:
    uni, b = sim.uni, sim.book
    oi_lots = np.bincount(b.market, weights=np.abs(b.lots).astype(np.float64), minlength=uni.n) / 2
    live = ~uni.delisted
    return conform(pl.DataFrame({
        "coin": uni.coin, "dex": uni.dex, "mark_price": sim.mark, "oracle_price": sim.oracle_px,
        "mid_price": np.where(live, sim.mid, np.nan), "premium": np.where(live, sim.premium, np.nan),
        "funding_rate": np.where(live, sim.funding, 0.0),
        "open_interest": np.round(oi_lots * uni.lot, 8), "day_ntl_volume": sim.day_ntl_volume(),
        "max_leverage": uni.max_leverage, "sz_decimals": uni.sz_decimals, "is_delisted": uni.delisted,
        "only_isolated": uni.only_isolated,
    }).with_columns(pl.col("mid_price").fill_nan(None), pl.col("premium").fill_nan(None)), "markets")


def accounts_frame(sim: SimulatedMarket, view) -> pl.DataFrame:
    return conform(pl.DataFrame({
        "address": sim.people.address, "perp_equity": view.perp_equity,
        "spot_equity": sim.spot_equity(), "staking_equity": sim.staking_equity(),
        "vault_equity": sim.vault_equity(), "balance": view.withdrawable,
        "all_time_pnl": sim.all_time_pnl(view), "perp_volume_30d": sim.perp_volume_30d(),
    }), "accounts")


def positions_frame(sim: SimulatedMarket, view) -> pl.DataFrame:
    uni, b = sim.uni, sim.book
    m = b.market
    return conform(pl.DataFrame({
        "address": sim.people.address[b.wallet], "coin": uni.coin[m], "dex": uni.dex[m],
        "szi": np.round(view.szi, 10), "entry_price": b.entry, "position_value": view.value,
        "unrealized_pnl": view.upnl, "liquidation_price": view.liq_price,
        "leverage_type": np.where(b.isolated, "isolated", "cross"), "leverage": b.leverage,
        "margin_used": view.margin_used, "max_leverage": uni.max_leverage[m],
        "funding_since_open": b.funding_open.copy(),  # the book is updated in place later
        "open_time": b.open_ms,
    }).with_columns(
        pl.col("liquidation_price").fill_nan(None),
        pl.col("open_time").cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"),
    ), "positions")


def fills_frame(sim: SimulatedMarket, fills: FillBatch) -> pl.DataFrame:
    uni = sim.uni
    lot = uni.lot[fills.market]
    signed = np.where(fills.is_buy, fills.lots, -fills.lots)
    start = fills.start_lots
    is_liq = fills.liquidated_wallet >= 0
    liq_user = np.where(is_liq, sim.people.address[np.maximum(fills.liquidated_wallet, 0)], None)
    order = np.lexsort((~fills.is_buy, fills.tid))
    return conform(pl.DataFrame({
        "time": fills.time_ms, "address": sim.people.address[fills.wallet], "coin": uni.coin[fills.market],
        "dex": uni.dex[fills.market], "side": np.where(fills.is_buy, "B", "A"), "px": fills.px,
        "sz": np.round(fills.lots * lot, 10), "start_position": np.round(start * lot, 10),
        "dir": _dir(start, start + signed), "closed_pnl": fills.closed_pnl, "fee": fills.fee,
        "crossed": fills.crossed, "tid": fills.tid, "is_liquidation": is_liq,
        "liquidated_user": liq_user, "liquidation_mark_px": fills.liquidation_mark,
        "liquidation_method": np.where(is_liq, "backstop", None),
    }).with_columns(
        pl.col("time").cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"),
        pl.col("liquidation_mark_px").fill_nan(None),
    )[order], "fills")


def fundings_frame(sim: SimulatedMarket, paid: FundingBatch) -> pl.DataFrame:
    uni = sim.uni
    return conform(pl.DataFrame({
        "time": paid.time_ms, "address": sim.people.address[paid.wallet], "coin": uni.coin[paid.market],
        "dex": uni.dex[paid.market], "usdc": -paid.pay, "szi": np.round(paid.lots * uni.lot[paid.market], 10),
        "funding_rate": paid.rate,
    }).with_columns(pl.col("time").cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")), "fundings")


def snapshot_of(sim: SimulatedMarket, profile_name: str) -> Snapshot:
    """The simulator's current state as a `Snapshot` (fills and fundings: those since the previous snapshot)."""
    view = sim.view()
    return Snapshot(
        taken_at=sim.now, source=SOURCE_NAME, height=sim.steps_taken,
        markets=markets_frame(sim), accounts=accounts_frame(sim, view), positions=positions_frame(sim, view),
        fills=fills_frame(sim, sim.last_fills), fundings=fundings_frame(sim, sim.last_fundings),
        extra={"profile": profile_name, "seed": str(sim.seed), "step": str(sim.steps_taken)},
    )
