"""Liquidation figures (DESIGN.md 3.4): risk per cohort x coin and the per-coin liquidation heatmap bins."""

from __future__ import annotations

import polars as pl

from hltracker.engine.positions import close_to_liquidation
from hltracker.engine.series import SEGMENT_AXES
from hltracker.model.outputs import (
    LIQUIDATION_BIN_COUNT,
    LIQUIDATION_BIN_RANGE,
    LIQUIDATION_BINS_SCHEMA,
    LIQUIDATION_RISK_SCHEMA,
)


def liquidation_risk(positions: pl.DataFrame) -> pl.DataFrame:
    """Per cohort (both axes) and coin: total value, value close to liquidation, and its percent."""
    parts = [
        positions.group_by(pl.col(axis).alias("segment_id"), "coin").agg(
            pl.col("value").sum().alias("total_value"),
            pl.col("value").filter(close_to_liquidation()).sum().alias("risk_value"),
        )
        for axis in SEGMENT_AXES
    ]
    total = pl.col("total_value")
    return (
        pl.concat(parts)
        .with_columns(pl.when(total > 0).then(100.0 * pl.col("risk_value") / total).alias("percent_risk"))
        .select([pl.col(c).cast(t) for c, t in LIQUIDATION_RISK_SCHEMA.items()])
        .sort("segment_id", "coin")
    )


def _most_impacted(in_range: pl.DataFrame, axis: str, name: str) -> pl.DataFrame:
    """Per (coin, bin): the cohort of `axis` with the most liquidation value (ties: the lower id)."""
    return (
        in_range.group_by("coin", "price_bin_index", axis).agg(pl.col("value").sum().alias("v"))
        .sort(["coin", "price_bin_index", "v", axis], descending=[False, False, True, False])
        .group_by("coin", "price_bin_index", maintain_order=True).first()
        .select("coin", "price_bin_index", pl.col(axis).alias(name))
    )


def liquidation_bins(positions: pl.DataFrame, markets: pl.DataFrame) -> pl.DataFrame:
    """100 equal bins over [0.5, 1.5] x mark for every coin with open positions.

    A position falls in the bin holding its liquidation price (prices outside the range are left out);
    `cumulative_value` adds the bins from the mark outwards, so below the mark it reads "liquidated if
    the price falls to here" and above it "if the price rises to here".
    """
    lo_x, hi_x = LIQUIDATION_BIN_RANGE
    n = LIQUIDATION_BIN_COUNT
    coins = (
        positions.select("coin").unique()
        .join(markets.select("coin", "mark_price"), on="coin", how="inner")
        .with_columns((pl.col("mark_price") * lo_x).alias("lo"),
                      (pl.col("mark_price") * (hi_x - lo_x) / n).alias("width"))
    )
    grid = coins.join(pl.DataFrame({"price_bin_index": pl.int_range(0, n, eager=True).cast(pl.Int16)}),
                      how="cross").with_columns(
        (pl.col("lo") + pl.col("price_bin_index") * pl.col("width")).alias("price_bin_start"),
        (pl.col("lo") + (pl.col("price_bin_index") + 1) * pl.col("width")).alias("price_bin_end"),
    )
    in_range = (
        positions.filter(pl.col("liquidation_price").is_not_null())
        .join(coins.select("coin", "lo", "width"), on="coin")
        .with_columns(((pl.col("liquidation_price") - pl.col("lo")) / pl.col("width")).floor().alias("bin_f"))
        .filter((pl.col("bin_f") >= 0) & (pl.col("bin_f") < n))
        .with_columns(pl.col("bin_f").cast(pl.Int16).alias("price_bin_index"))
    )
    long = pl.col("szi") > 0
    sums = in_range.group_by("coin", "price_bin_index").agg(
        pl.col("value").sum().alias("liquidation_value"),
        pl.col("value").filter(long).sum().alias("liquidation_value_long"),
        pl.col("value").filter(~long).sum().alias("liquidation_value_short"),
        pl.len().cast(pl.Int64).alias("positions_count"),
    )
    below = pl.col("price_bin_index") < n // 2
    frame = (
        grid.join(sums, on=["coin", "price_bin_index"], how="left")
        .join(_most_impacted(in_range, "size_segment_id", "most_impacted_segment"),
              on=["coin", "price_bin_index"], how="left")
        .join(_most_impacted(in_range, "pnl_segment_id", "most_impacted_pnl_segment"),
              on=["coin", "price_bin_index"], how="left")
        .with_columns(pl.col(c).fill_null(0) for c in ("liquidation_value", "liquidation_value_long",
                                                          "liquidation_value_short", "positions_count"))
        .sort("coin", "price_bin_index")
    )
    # Within each half (below / from the mark), sum towards the outside edge of the range.
    value = pl.col("liquidation_value")
    frame = frame.with_columns(
        pl.when(below).then(value.reverse().cum_sum().reverse().over("coin", below))
        .otherwise(value.cum_sum().over("coin", below))
        .alias("cumulative_value")
    )
    return frame.select([pl.col(c).cast(t) for c, t in LIQUIDATION_BINS_SCHEMA.items()])
