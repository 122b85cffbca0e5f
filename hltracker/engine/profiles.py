"""Wallet profiles (DESIGN.md 3.1): equity, all-time PnL, open-position totals, activity and cohorts."""

from __future__ import annotations

import polars as pl

from hltracker.model import pnl_cohort_expr, size_cohort_expr
from hltracker.model.outputs import WALLETS_SCHEMA

_EQUITY = ("perp_equity", "spot_equity", "staking_equity", "vault_equity")


def wallet_profiles(accounts: pl.DataFrame, positions: pl.DataFrame) -> pl.DataFrame:
    """One row per account in WALLETS_SCHEMA.

    `positions` carries `address`, `szi`, `value` and `unrealized_pnl` (value already at the mark).
    Missing equity parts count as 0; a wallet is active with an open position or 30-day perp volume,
    and only active wallets get cohorts.
    """
    long = pl.col("szi") > 0
    per_wallet = positions.group_by("address").agg(
        pl.len().cast(pl.Int32).alias("count_open_positions"),
        pl.col("value").sum().alias("open_value"),
        pl.col("value").filter(long).sum().alias("open_long_value"),
        pl.col("value").filter(~long).sum().alias("open_short_value"),
        pl.col("unrealized_pnl").sum().alias("unrealized_pnl"),
    )
    active = (pl.col("count_open_positions") > 0) | (pl.col("perp_volume_30d") > 0)
    return (
        accounts.join(per_wallet, on="address", how="left")
        .with_columns(
            *[pl.col(c).fill_null(0.0) for c in (*_EQUITY, "all_time_pnl", "perp_volume_30d")],
            pl.col("count_open_positions").fill_null(0),
            *[pl.col(c).fill_null(0.0) for c in ("open_value", "open_long_value", "open_short_value",
                                                  "unrealized_pnl")],
        )
        .with_columns(
            pl.sum_horizontal(*_EQUITY).alias("total_equity"),
            active.alias("is_active"),
        )
        .with_columns(
            pl.when("is_active").then(size_cohort_expr("perp_equity")).alias("size_segment_id"),
            pl.when("is_active").then(pnl_cohort_expr("all_time_pnl")).alias("pnl_segment_id"),
        )
        .select([pl.col(c).cast(t) for c, t in WALLETS_SCHEMA.items()])
    )
