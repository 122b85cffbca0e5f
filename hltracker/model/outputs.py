"""The engine's output contract: what one engine run hands the store (DESIGN.md 3 and 5).

`EngineResult` holds one Polars frame per output table, each with the exact schema declared here, so
the engine (which produces them) and the store (which lands them) agree without importing each other.

Four kinds of output:
- series: one set of rows per snapshot, appended and kept (history is what the API pages through);
- current: the latest snapshot only, replaced whole by each landing;
- lifecycles: `open_positions` (current, and the state the next engine run starts from) and
  `closed_positions` (appended: each lifecycle that ended at this snapshot, with its last seen values);
- trades: `fills` and `closed_trades` (appended, kept whole) and `open_trades` (current, and the state
  the next run continues the open trades from).

Column notes: `age_window` is one of `windows.AGE_WINDOW_NAMES`; `segment_id` is a cohort id (both
axes in one column: ids are unique across axes, and a figure is never summed across axes); money is
USD; sizes are coins; `funding` keeps Hyperliquid's sign (positive = paid).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import polars as pl

from hltracker.model.schemas import FILLS_SCHEMA, FUNDINGS_SCHEMA, UTC_MS

ID = pl.Int16  # cohort, size bucket and bin ids

# The eight per-coin figures of `/position-metrics/coin/...`, plus the close-to-liquidation value of the
# breakdown exports; shared by the coin, coin x segment and coin x size-bucket series.
POSITION_FIGURES = {
    "position_count": pl.Int64,
    "position_count_long": pl.Int64,
    "total_position_value": pl.Float64,
    "total_position_value_long": pl.Float64,
    "total_funding": pl.Float64,
    "total_unrealized_pnl": pl.Float64,
    "total_position_size": pl.Float64,
    "total_position_size_long": pl.Float64,
    "value_close_to_liquidation": pl.Float64,
}

_SIDE_FIGURES = {
    "total_value": pl.Float64,
    "total_long_value": pl.Float64,
    "total_short_value": pl.Float64,
    "count": pl.Int64,
    "count_long": pl.Int64,
    "count_short": pl.Int64,
    "bias": pl.Float64,  # long share of value, 3 decimals; null when empty
}

# Active wallets only (an open position or 30-day perp volume): the cohort members.
WALLETS_SCHEMA = pl.Schema({
    "address": pl.String,
    "perp_equity": pl.Float64,
    "spot_equity": pl.Float64,
    "staking_equity": pl.Float64,
    "vault_equity": pl.Float64,
    "total_equity": pl.Float64,
    "balance": pl.Float64,
    "all_time_pnl": pl.Float64,
    "perp_volume_30d": pl.Float64,
    "count_open_positions": pl.Int32,
    "open_value": pl.Float64,
    "open_long_value": pl.Float64,
    "open_short_value": pl.Float64,
    "unrealized_pnl": pl.Float64,
    "is_active": pl.Boolean,  # an open position or 30-day perp volume
    "size_segment_id": ID,  # null when not active
    "pnl_segment_id": ID,
})

OPEN_POSITIONS_SCHEMA = pl.Schema({
    "id": pl.String,  # sha256 hex of address|dex|coin|openTime(ms)
    "address": pl.String,
    "coin": pl.String,
    "dex": pl.String,
    "side": pl.String,  # "long" | "short"
    "szi": pl.Float64,
    "size": pl.Float64,  # |szi|
    "value": pl.Float64,  # |szi| x mark
    "entry_price": pl.Float64,
    "mark_price": pl.Float64,
    "mid_price": pl.Float64,
    "premium": pl.Float64,
    "sz_decimals": pl.Int32,
    "asset_max_leverage": pl.Int32,
    "max_leverage": pl.Int32,
    "leverage_type": pl.String,
    "cross_leverage": pl.Int32,  # 0 when isolated
    "isolated_leverage": pl.Int32,  # 0 when cross
    "margin_used": pl.Float64,
    "liquidation_price": pl.Float64,
    "liquidation_progress": pl.Float64,  # 100 x (mark - entry) / (liq - entry); null without liq
    "unrealized_pnl": pl.Float64,
    "funding": pl.Float64,
    "open_time": UTC_MS,
    "created_at": UTC_MS,  # taken_at of the snapshot that first showed the lifecycle
    "updated_at": UTC_MS,  # taken_at of the last snapshot that changed it
    "profile_total_equity": pl.Float64,
    "profile_perp_equity": pl.Float64,
    "profile_count_open_positions": pl.Int32,
    "profile_pnl": pl.Float64,
    "profile_balance": pl.Float64,
    "size_segment_id": ID,
    "pnl_segment_id": ID,
    "size_bucket_id": ID,
})

CLOSED_POSITIONS_SCHEMA = pl.Schema({
    **OPEN_POSITIONS_SCHEMA,
    "close_time": UTC_MS,  # the closing fill's time when known, else the first snapshot without it
    "closed_by_liquidation": pl.Boolean,
})

COIN_SERIES_SCHEMA = pl.Schema({"coin": pl.String, "dex": pl.String, **POSITION_FIGURES})
COIN_SEGMENT_SERIES_SCHEMA = pl.Schema({
    "coin": pl.String, "segment_id": ID, "age_window": pl.String, **POSITION_FIGURES,
})
COIN_BUCKET_SERIES_SCHEMA = pl.Schema({"coin": pl.String, "size_bucket_id": ID, **POSITION_FIGURES})

GENERAL_SERIES_SCHEMA = pl.Schema({
    "count": pl.Int64,
    "count_long": pl.Int64,
    "count_short": pl.Int64,
    "open_interest": pl.Float64,
    "open_interest_long": pl.Float64,
    "open_interest_short": pl.Float64,
    "perp_equity": pl.Float64,
    "count_in_profit": pl.Int64,
})

WALLET_EQUITY_SERIES_SCHEMA = pl.Schema({
    "total_equity": pl.Float64,
    "perp_equity": pl.Float64,
    "spot_equity": pl.Float64,
    "staking_equity": pl.Float64,
    "vault_equity": pl.Float64,
})

PERP_VOLUME_SERIES_SCHEMA = pl.Schema({"volume": pl.Float64})

# Per cohort and wallet-age window: the bias history row and the segment summary figures.
SEGMENT_SERIES_SCHEMA = pl.Schema({
    "segment_id": ID,
    "age_window": pl.String,
    "bias": pl.Float64,  # (long - short) / active perp equity; null when no equity
    "exposure_ratio": pl.Float64,  # (long + short) / active perp equity
    "open_value": pl.Float64,
    "open_long_value": pl.Float64,
    "open_short_value": pl.Float64,
    "active_perp_equity": pl.Float64,  # wallets in the window that hold an open position
    "perp_equity": pl.Float64,  # every wallet of the cohort (window `all`), else the qualifying ones
    "count_traders": pl.Int64,
    "count_traders_in_position": pl.Int64,
    "count_traders_in_profit": pl.Int64,  # in position, summed unrealized PnL > 0
    "count_open_positions": pl.Int64,
    "count_open_positions_long": pl.Int64,
    "count_assets": pl.Int64,
})

HEATMAP_COINS_SCHEMA = pl.Schema({"coin": pl.String, "age_window": pl.String, **_SIDE_FIGURES})
HEATMAP_CELLS_SCHEMA = pl.Schema({
    "coin": pl.String, "age_window": pl.String, "segment_id": ID, **_SIDE_FIGURES,
})
SEGMENT_TOP_ASSETS_SCHEMA = pl.Schema({
    "segment_id": ID, "age_window": pl.String, "rank": ID, "coin": pl.String, **_SIDE_FIGURES,
})
LIQUIDATION_RISK_SCHEMA = pl.Schema({
    "segment_id": ID,
    "coin": pl.String,
    "total_value": pl.Float64,
    "risk_value": pl.Float64,  # value of positions with liquidationProgress >= 75
    "percent_risk": pl.Float64,  # 100 x risk_value / total_value
})
LIQUIDATION_BINS_SCHEMA = pl.Schema({
    "coin": pl.String,
    "price_bin_index": ID,  # 0..99, from 0.5 x mark upwards
    "price_bin_start": pl.Float64,
    "price_bin_end": pl.Float64,
    "liquidation_value": pl.Float64,
    "liquidation_value_long": pl.Float64,
    "liquidation_value_short": pl.Float64,
    "positions_count": pl.Int64,
    "cumulative_value": pl.Float64,  # summed from the mark outwards to and including this bin
    "most_impacted_segment": ID,  # size cohort with the most liquidation value; null when empty
    "most_impacted_pnl_segment": ID,
})

# --- fills and the trades rebuilt from them (engine/trades.py) ---

# The snapshot's fills as stored: the contract's columns plus the trade(s) each fill is part of. (A fill's
# `hash`, model/fill_hash.py, is computed where it is served, from these columns: not at ingest.)
STORED_FILLS_SCHEMA = pl.Schema({
    **FILLS_SCHEMA,
    "trade_hash": pl.String,  # the trade the fill opens, adds to, reduces or closes; null when not rebuilt
    "flip_trade_hash": pl.String,  # a flip's second trade (the side it opens); null otherwise
})

# A trade still open: one per (address, coin), the running sums the next fills continue.
OPEN_TRADES_SCHEMA = pl.Schema({
    "hash": pl.String,  # sha256 hex of address|dex|coin|openTime(ms): the position id formula
    "address": pl.String,
    "coin": pl.String,
    "dex": pl.String,
    "direction": pl.String,  # "long" | "short"
    "open_time": UTC_MS,
    "size": pl.Float64,  # |position| now
    "max_size": pl.Float64,  # the largest |position| reached
    "entry_size": pl.Float64,  # summed size of the opening and adding fills
    "entry_notional": pl.Float64,  # summed px x size of those
    "exit_size": pl.Float64,  # summed size of the reducing and closing fills
    "exit_notional": pl.Float64,
    "closed_pnl": pl.Float64,  # summed closedPnl
    "fees": pl.Float64,
    "funding": pl.Float64,  # the position's funding since open as last seen (positive = paid); null: never seen
    "fill_count": pl.Int64,
})

# A trade that went flat: open -> (adds, partial closes) -> flat, a flip's closing half, or a liquidation.
CLOSED_TRADES_SCHEMA = pl.Schema({
    "hash": pl.String,
    "address": pl.String,
    "coin": pl.String,
    "dex": pl.String,
    "direction": pl.String,
    "open_time": UTC_MS,
    "close_time": UTC_MS,  # the fill that took the position to zero (or through it)
    "size": pl.Float64,  # total size opened (= total size closed)
    "max_size": pl.Float64,
    "entry_price": pl.Float64,  # size-weighted average price of the opening and adding fills
    "exit_price": pl.Float64,  # size-weighted average price of the reducing and closing fills
    "closed_pnl": pl.Float64,  # realized PnL: the summed closedPnl of its fills (fees excluded)
    "fees": pl.Float64,
    "funding": pl.Float64,  # null when no snapshot saw the position
    "net_pnl": pl.Float64,  # closed_pnl - fees - funding (funding 0 when unknown)
    "volume": pl.Float64,  # entry notional + exit notional
    "fill_count": pl.Int64,
    "liquidated": pl.Boolean,  # the closing fill was a liquidation of this wallet
})

LIQUIDATION_BIN_COUNT = 100
LIQUIDATION_BIN_RANGE = (0.5, 1.5)  # x mark
CLOSE_TO_LIQUIDATION_PROGRESS = 75.0
TOP_ASSETS = 10


@dataclass(frozen=True)
class EngineResult:
    """Everything one engine run produces for one snapshot (frames in the schemas above)."""

    taken_at: datetime
    markets: pl.DataFrame  # the snapshot's markets, kept per snapshot
    wallets: pl.DataFrame
    open_positions: pl.DataFrame
    closed_positions: pl.DataFrame
    coin_series: pl.DataFrame
    coin_segment_series: pl.DataFrame
    coin_bucket_series: pl.DataFrame
    general_series: pl.DataFrame
    wallet_equity_series: pl.DataFrame
    perp_volume_series: pl.DataFrame
    segment_series: pl.DataFrame
    heatmap_coins: pl.DataFrame
    heatmap_cells: pl.DataFrame
    segment_top_assets: pl.DataFrame
    liquidation_risk: pl.DataFrame
    liquidation_bins: pl.DataFrame
    fills: pl.DataFrame  # STORED_FILLS_SCHEMA: the snapshot's fills after the previous snapshot
    fundings: pl.DataFrame  # FUNDINGS_SCHEMA: the snapshot's funding payments, in time order (empty: none given)
    closed_trades: pl.DataFrame
    open_trades: pl.DataFrame

    def frames(self) -> dict[str, pl.DataFrame]:
        """Every output frame by table name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "taken_at"}


@dataclass(frozen=True)
class EngineState:
    """What the next engine run needs from the previous one: the open lifecycles and when they were seen."""

    taken_at: datetime
    open_positions: pl.DataFrame  # OPEN_POSITIONS_SCHEMA
    open_trades: pl.DataFrame | None = None  # OPEN_TRADES_SCHEMA; None: none yet


SERIES_TABLES: tuple[str, ...] = (
    "coin_series", "coin_segment_series", "coin_bucket_series", "general_series",
    "wallet_equity_series", "perp_volume_series", "segment_series",
)
CURRENT_TABLES: tuple[str, ...] = (
    "wallets", "open_positions", "heatmap_coins", "heatmap_cells", "segment_top_assets",
    "liquidation_risk", "liquidation_bins", "open_trades",
)
TRADE_TABLES: tuple[str, ...] = ("fills", "fundings", "closed_trades")  # appended per snapshot, kept whole

OUTPUT_SCHEMAS: dict[str, pl.Schema] = {
    "wallets": WALLETS_SCHEMA,
    "open_positions": OPEN_POSITIONS_SCHEMA,
    "closed_positions": CLOSED_POSITIONS_SCHEMA,
    "coin_series": COIN_SERIES_SCHEMA,
    "coin_segment_series": COIN_SEGMENT_SERIES_SCHEMA,
    "coin_bucket_series": COIN_BUCKET_SERIES_SCHEMA,
    "general_series": GENERAL_SERIES_SCHEMA,
    "wallet_equity_series": WALLET_EQUITY_SERIES_SCHEMA,
    "perp_volume_series": PERP_VOLUME_SERIES_SCHEMA,
    "segment_series": SEGMENT_SERIES_SCHEMA,
    "heatmap_coins": HEATMAP_COINS_SCHEMA,
    "heatmap_cells": HEATMAP_CELLS_SCHEMA,
    "segment_top_assets": SEGMENT_TOP_ASSETS_SCHEMA,
    "liquidation_risk": LIQUIDATION_RISK_SCHEMA,
    "liquidation_bins": LIQUIDATION_BINS_SCHEMA,
    "fills": STORED_FILLS_SCHEMA,
    "fundings": FUNDINGS_SCHEMA,
    "closed_trades": CLOSED_TRADES_SCHEMA,
    "open_trades": OPEN_TRADES_SCHEMA,
}
