"""The frame schemas of the snapshot contract (DESIGN.md section 2), declared once.

Every source produces frames with exactly these columns and dtypes; the engine, the store and the
snapshot-file layout read them from here. Columns listed in ``NULLABLE`` may hold nulls (a source that
does not know the value fills null); all other columns must be non-null.
"""

from __future__ import annotations

import polars as pl

UTC_MS = pl.Datetime("ms", "UTC")

MARKETS_SCHEMA = pl.Schema(
    {
        "coin": pl.String,  # "BTC", "xyz:GOLD"
        "dex": pl.String,  # "main" or the HIP-3 dex name
        "mark_price": pl.Float64,
        "oracle_price": pl.Float64,
        "mid_price": pl.Float64,
        "premium": pl.Float64,
        "funding_rate": pl.Float64,  # hourly
        "open_interest": pl.Float64,  # in coins, one side
        "day_ntl_volume": pl.Float64,  # USD, last 24h
        "max_leverage": pl.Int32,
        "sz_decimals": pl.Int32,
        "is_delisted": pl.Boolean,
        "only_isolated": pl.Boolean,
    }
)

ACCOUNTS_SCHEMA = pl.Schema(
    {
        "address": pl.String,  # lowercase 0x hex
        "perp_equity": pl.Float64,  # account value summed over every dex
        "spot_equity": pl.Float64,
        "staking_equity": pl.Float64,
        "vault_equity": pl.Float64,
        "balance": pl.Float64,  # withdrawable USD summed over every dex
        "all_time_pnl": pl.Float64,  # perp
        "perp_volume_30d": pl.Float64,
    }
)

POSITIONS_SCHEMA = pl.Schema(
    {
        "address": pl.String,
        "coin": pl.String,
        "dex": pl.String,
        "szi": pl.Float64,  # signed size in coins, > 0 long
        "entry_price": pl.Float64,
        "position_value": pl.Float64,  # |szi| x mark
        "unrealized_pnl": pl.Float64,
        "liquidation_price": pl.Float64,  # null when none
        "leverage_type": pl.String,  # "cross" | "isolated"
        "leverage": pl.Int32,
        "margin_used": pl.Float64,
        "max_leverage": pl.Int32,
        "funding_since_open": pl.Float64,  # positive = paid (Hyperliquid cumFunding)
        "open_time": UTC_MS,  # optional: set by sources that know the opening fill
    }
)

FILLS_SCHEMA = pl.Schema(
    {
        "time": UTC_MS,
        "address": pl.String,
        "coin": pl.String,
        "dex": pl.String,
        "side": pl.String,  # "B" buy, "A" sell
        "px": pl.Float64,
        "sz": pl.Float64,  # > 0
        "start_position": pl.Float64,  # signed size before the fill
        "dir": pl.String,  # "Open Long", "Close Short", "Long > Short", ...
        "closed_pnl": pl.Float64,
        "fee": pl.Float64,
        "crossed": pl.Boolean,  # taker
        "tid": pl.Int64,  # trade id, shared by the two sides of a trade
        "is_liquidation": pl.Boolean,
        "liquidated_user": pl.String,  # null unless is_liquidation
        "liquidation_mark_px": pl.Float64,
        "liquidation_method": pl.String,  # "market" | "backstop"
    }
)

# Optional: per-wallet funding payments since the previous snapshot (a node's misc_events Funding deltas).
FUNDINGS_SCHEMA = pl.Schema(
    {
        "time": UTC_MS,
        "address": pl.String,
        "coin": pl.String,
        "dex": pl.String,
        "usdc": pl.Float64,  # as Hyperliquid's userFunding reports it: negative = the wallet paid
        "szi": pl.Float64,  # the position's signed size when funding was paid
        "funding_rate": pl.Float64,  # hourly
    }
)

FRAME_SCHEMAS: dict[str, pl.Schema] = {
    "markets": MARKETS_SCHEMA,
    "accounts": ACCOUNTS_SCHEMA,
    "positions": POSITIONS_SCHEMA,
    "fills": FILLS_SCHEMA,
    "fundings": FUNDINGS_SCHEMA,
}

NULLABLE: dict[str, frozenset[str]] = {
    "markets": frozenset({"mid_price", "premium", "day_ntl_volume", "open_interest"}),
    "accounts": frozenset(
        {"spot_equity", "staking_equity", "vault_equity", "balance", "all_time_pnl", "perp_volume_30d"}
    ),
    "positions": frozenset(
        {"liquidation_price", "margin_used", "funding_since_open", "open_time", "unrealized_pnl"}
    ),
    "fills": frozenset({"liquidated_user", "liquidation_mark_px", "liquidation_method", "fee", "tid"}),
    "fundings": frozenset({"funding_rate"}),
}

# The natural key of each frame: no two rows share it.
FRAME_KEYS: dict[str, tuple[str, ...]] = {
    "markets": ("coin",),
    "accounts": ("address",),
    "positions": ("address", "coin"),
}

LEVERAGE_TYPES = ("cross", "isolated")
MAIN_DEX = "main"


def empty_frame(name: str) -> pl.DataFrame:
    """An empty frame of the named schema."""
    return pl.DataFrame(schema=FRAME_SCHEMAS[name])
