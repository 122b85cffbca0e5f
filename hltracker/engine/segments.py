"""Cohort figures under the wallet-age filter: bias history rows, summaries and their top assets.

Wallet-level filter (DESIGN.md 3.4, `positionAge` / bias history `positionRecencyTimeframe`): in window
`w` a wallet qualifies when at least one of its open positions opened within `w`, and then all of its
positions count. In window `all` every active wallet of the cohort counts for `count_traders` and
`perp_equity`; in the other windows the cohort is its qualifying wallets.
"""

from __future__ import annotations

import polars as pl

from hltracker.engine.instants import instant
from hltracker.engine.series import SEGMENT_AXES
from hltracker.model import PNL_COHORT_IDS, SIZE_COHORT_IDS
from hltracker.model.outputs import SEGMENT_SERIES_SCHEMA, SEGMENT_TOP_ASSETS_SCHEMA, TOP_ASSETS
from hltracker.model.windows import AGE_WINDOW_NAMES, window_cutoff_ms


def side_figures() -> list[pl.Expr]:
    """Long/short value and count totals with the long-share bias (heatmap and top-asset rows)."""
    long = pl.col("szi") > 0
    return [
        pl.col("value").sum().alias("total_value"),
        pl.col("value").filter(long).sum().alias("total_long_value"),
        pl.col("value").filter(~long).sum().alias("total_short_value"),
        pl.len().cast(pl.Int64).alias("count"),
        long.sum().cast(pl.Int64).alias("count_long"),
        (~long).sum().cast(pl.Int64).alias("count_short"),
    ]


def long_share_bias() -> pl.Expr:
    """Long value / total value, 3 decimals; null for an empty group (DESIGN.md 3.4)."""
    total = pl.col("total_value")
    return pl.when(total > 0).then((pl.col("total_long_value") / total).round(3)).alias("bias")


def _qualifying(positions: pl.LazyFrame, wallets: pl.LazyFrame, window: str, taken_at_ms: int):
    """(positions of the qualifying wallets, the cohort's wallets) for one window, lazily.

    `wallets` holds the active wallets only: in window `all` they are the cohort; in the other windows
    the cohort is the wallets holding a position opened inside the window."""
    cutoff = window_cutoff_ms(window, taken_at_ms)
    if cutoff is None:
        return positions, wallets
    chosen = (positions.filter(pl.col("open_time") >= instant(cutoff)).select("address").unique())
    return positions.join(chosen, on="address", how="semi"), wallets.join(chosen, on="address", how="semi")


def _segment_part(pos: pl.LazyFrame, wal: pl.LazyFrame, axis: str, window: str) -> pl.LazyFrame:
    long = pl.col("szi") > 0
    holding = pl.col("count_open_positions") > 0
    by_pos = pos.group_by(pl.col(axis).alias("segment_id")).agg(
        pl.col("value").sum().alias("open_value"),
        pl.col("value").filter(long).sum().alias("open_long_value"),
        pl.col("value").filter(~long).sum().alias("open_short_value"),
        pl.len().cast(pl.Int64).alias("count_open_positions"),
        long.sum().cast(pl.Int64).alias("count_open_positions_long"),
        pl.col("coin").n_unique().cast(pl.Int64).alias("count_assets"),
    )
    by_wallet = wal.group_by(pl.col(axis).alias("segment_id")).agg(
        pl.len().cast(pl.Int64).alias("count_traders"),
        pl.col("perp_equity").sum().alias("perp_equity"),
        pl.col("perp_equity").filter(holding).sum().alias("active_perp_equity"),
        holding.sum().cast(pl.Int64).alias("count_traders_in_position"),
        (holding & (pl.col("unrealized_pnl") > 0)).sum().cast(pl.Int64).alias("count_traders_in_profit"),
    )
    ids = pl.LazyFrame({"segment_id": _axis_ids(axis)}, schema={"segment_id": pl.Int16})
    return (
        ids.join(by_wallet.with_columns(pl.col("segment_id").cast(pl.Int16)), on="segment_id", how="left")
        .join(by_pos.with_columns(pl.col("segment_id").cast(pl.Int16)), on="segment_id", how="left")
        .with_columns(pl.lit(window).alias("age_window"))
    )


def _top_part(pos: pl.LazyFrame, axis: str, window: str) -> pl.LazyFrame:
    return (
        pos.group_by(pl.col(axis).alias("segment_id"), "coin").agg(side_figures())
        .sort(["segment_id", "total_value", "coin"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("segment_id").alias("rank"))
        .filter(pl.col("rank") <= TOP_ASSETS)
        .with_columns(long_share_bias(), pl.lit(window).alias("age_window"))
        .select([pl.col(c).cast(t) for c, t in SEGMENT_TOP_ASSETS_SCHEMA.items()])
    )


def segment_figures(positions: pl.DataFrame, wallets: pl.DataFrame,
                    taken_at_ms: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(segment series, top assets): one series row per cohort (both axes) and window, zero rows for
    cohorts without wallets; each cohort's top coins by open value per window (the summary's list)."""
    pos = positions.lazy()
    active = wallets.lazy().filter("is_active")
    series_parts, top_parts = [], []
    for window in AGE_WINDOW_NAMES:
        scoped_pos, scoped_wallets = _qualifying(pos, active, window, taken_at_ms)
        for axis in SEGMENT_AXES:
            series_parts.append(_segment_part(scoped_pos, scoped_wallets, axis, window))
            top_parts.append(_top_part(scoped_pos, axis, window))
    # one plan, run in parallel; the in-memory engine sums each group in row order, so results are
    # bit-for-bit reproducible (the streaming engine merges partial sums in scheduling order)
    collected = pl.collect_all(series_parts + top_parts, engine="in-memory")
    series = pl.concat(collected[: len(series_parts)], how="diagonal_relaxed").with_columns(
        pl.col(c).fill_null(0) for c in SEGMENT_SERIES_SCHEMA.names()
        if c not in ("segment_id", "age_window", "bias", "exposure_ratio")
    )
    equity = pl.col("active_perp_equity")
    series = series.with_columns(
        pl.when(equity > 0).then((pl.col("open_long_value") - pl.col("open_short_value")) / equity).alias("bias"),
        pl.when(equity > 0).then(pl.col("open_value") / equity).alias("exposure_ratio"),
    ).select([pl.col(c).cast(t) for c, t in SEGMENT_SERIES_SCHEMA.items()]).sort("age_window", "segment_id")
    top = pl.concat(collected[len(series_parts):]).sort("age_window", "segment_id", "rank")
    return series, top


def _axis_ids(axis: str) -> list[int]:
    return list(SIZE_COHORT_IDS if axis == "size_segment_id" else PNL_COHORT_IDS)
