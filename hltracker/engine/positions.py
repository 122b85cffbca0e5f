"""The snapshot's positions at the mark, with their market facts, owner profile, cohorts and bucket."""

from __future__ import annotations

import polars as pl

from hltracker.model import size_bucket_expr
from hltracker.model.outputs import CLOSE_TO_LIQUIDATION_PROGRESS


def priced_positions(positions: pl.DataFrame, markets: pl.DataFrame) -> pl.DataFrame:
    """Positions joined with their market: value = |szi| x mark (DESIGN.md 3.4), side, progress."""
    market = markets.select(
        "coin", "mark_price", "mid_price", "premium", "sz_decimals",
        pl.col("max_leverage").alias("asset_max_leverage"),
    )
    isolated = pl.col("leverage_type") == "isolated"
    liq, entry, mark = pl.col("liquidation_price"), pl.col("entry_price"), pl.col("mark_price")
    return positions.join(market, on="coin", how="left").with_columns(
        pl.when(pl.col("szi") > 0).then(pl.lit("long")).otherwise(pl.lit("short")).alias("side"),
        pl.col("szi").abs().alias("size"),
        (pl.col("szi").abs() * mark).alias("value"),
        pl.when(isolated).then(0).otherwise(pl.col("leverage")).cast(pl.Int32).alias("cross_leverage"),
        pl.when(isolated).then(pl.col("leverage")).otherwise(0).cast(pl.Int32).alias("isolated_leverage"),
        pl.when(liq.is_not_null() & (liq != entry)).then(100.0 * (mark - entry) / (liq - entry))
        .alias("liquidation_progress"),
        pl.col("funding_since_open").alias("funding"),
        pl.col("open_time").alias("source_open_time"),
    ).with_columns(size_bucket_expr("value").alias("size_bucket_id"))


def with_profiles(positions: pl.DataFrame, wallets: pl.DataFrame) -> pl.DataFrame:
    """Attach the owner's profile fields and cohorts (the `profile_*` columns of the open-positions CSV)."""
    profile = wallets.select(
        "address",
        pl.col("total_equity").alias("profile_total_equity"),
        pl.col("perp_equity").alias("profile_perp_equity"),
        pl.col("count_open_positions").alias("profile_count_open_positions"),
        pl.col("all_time_pnl").alias("profile_pnl"),
        pl.col("balance").alias("profile_balance"),
        "size_segment_id", "pnl_segment_id",
    )
    return positions.join(profile, on="address", how="left")


def close_to_liquidation() -> pl.Expr:
    """DESIGN.md 3.4: liquidationProgress >= 75 (never for a position without a liquidation price)."""
    return (pl.col("liquidation_progress") >= CLOSE_TO_LIQUIDATION_PROGRESS).fill_null(False)
