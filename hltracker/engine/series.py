"""Per-snapshot series: per coin, coin x cohort x recency window, coin x size bucket, and market-wide.

Groups with no position are not emitted (the store fills zeros at read time). Every frame comes out in
its OUTPUT_SCHEMAS schema, sorted by its key so that landing order (and so row ids) is deterministic.
"""

from __future__ import annotations

import polars as pl

from hltracker.engine.instants import instant
from hltracker.engine.positions import close_to_liquidation
from hltracker.model.outputs import (
    COIN_BUCKET_SERIES_SCHEMA,
    COIN_SEGMENT_SERIES_SCHEMA,
    COIN_SERIES_SCHEMA,
    GENERAL_SERIES_SCHEMA,
    PERP_VOLUME_SERIES_SCHEMA,
    WALLET_EQUITY_SERIES_SCHEMA,
)
from hltracker.model.windows import AGE_WINDOW_NAMES, window_cutoff_ms

SEGMENT_AXES = ("size_segment_id", "pnl_segment_id")


def position_figures() -> list[pl.Expr]:
    """The POSITION_FIGURES aggregations over a group of open positions."""
    long = pl.col("szi") > 0
    return [
        pl.len().cast(pl.Int64).alias("position_count"),
        long.sum().cast(pl.Int64).alias("position_count_long"),
        pl.col("value").sum().alias("total_position_value"),
        pl.col("value").filter(long).sum().alias("total_position_value_long"),
        pl.col("funding").sum().alias("total_funding"),
        pl.col("unrealized_pnl").sum().alias("total_unrealized_pnl"),
        pl.col("size").sum().alias("total_position_size"),
        pl.col("size").filter(long).sum().alias("total_position_size_long"),
        pl.col("value").filter(close_to_liquidation()).sum().alias("value_close_to_liquidation"),
    ]


def opened_within(positions: pl.DataFrame, window: str, taken_at_ms: int) -> pl.DataFrame:
    """The positions whose lifecycle opened inside `window` before the snapshot (position-level filter)."""
    cutoff = window_cutoff_ms(window, taken_at_ms)
    if cutoff is None:
        return positions
    return positions.filter(pl.col("open_time") >= instant(cutoff))


def _shaped(frame: pl.DataFrame, schema: pl.Schema, keys: list[str]) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()]).sort(keys)


def coin_series(positions: pl.DataFrame) -> pl.DataFrame:
    return _shaped(positions.group_by("coin", "dex").agg(position_figures()), COIN_SERIES_SCHEMA, ["coin"])


def coin_segment_series(positions: pl.DataFrame, taken_at_ms: int) -> pl.DataFrame:
    parts = []
    for window in AGE_WINDOW_NAMES:
        scoped = opened_within(positions, window, taken_at_ms)
        for axis in SEGMENT_AXES:
            parts.append(
                scoped.group_by("coin", pl.col(axis).alias("segment_id")).agg(position_figures())
                .with_columns(pl.lit(window).alias("age_window"))
            )
    frame = pl.concat([_shaped(p, COIN_SEGMENT_SERIES_SCHEMA, ["coin"]) for p in parts])
    return frame.sort("coin", "age_window", "segment_id")


def coin_bucket_series(positions: pl.DataFrame) -> pl.DataFrame:
    return _shaped(positions.group_by("coin", "size_bucket_id").agg(position_figures()),
                   COIN_BUCKET_SERIES_SCHEMA, ["coin", "size_bucket_id"])


def general_series(positions: pl.DataFrame, wallets: pl.DataFrame) -> pl.DataFrame:
    long = pl.col("szi") > 0
    frame = positions.select(
        pl.len().cast(pl.Int64).alias("count"),
        long.sum().cast(pl.Int64).alias("count_long"),
        (~long).sum().cast(pl.Int64).alias("count_short"),
        pl.col("value").sum().alias("open_interest"),
        pl.col("value").filter(long).sum().alias("open_interest_long"),
        pl.col("value").filter(~long).sum().alias("open_interest_short"),
        (pl.col("unrealized_pnl") > 0).sum().cast(pl.Int64).alias("count_in_profit"),
    ).with_columns(pl.lit(wallets.get_column("perp_equity").sum()).alias("perp_equity"))
    return frame.select([pl.col(c).cast(t) for c, t in GENERAL_SERIES_SCHEMA.items()])


def wallet_equity_series(wallets: pl.DataFrame) -> pl.DataFrame:
    return wallets.select([pl.col(c).sum().cast(t) for c, t in WALLET_EQUITY_SERIES_SCHEMA.items()])


def perp_volume_series(markets: pl.DataFrame) -> pl.DataFrame:
    return markets.select(pl.col("day_ntl_volume").sum().cast(pl.Float64).alias("volume")).cast(
        dict(PERP_VOLUME_SERIES_SCHEMA))
