"""The coin x cohort heatmap of `/positions/heatmap`, per `openedWithin` window (current snapshot only).

Position-level filter: only positions opened within the window count. Each coin row carries its totals
and one cell per cohort (both axes) holding positions of that coin.
"""

from __future__ import annotations

import polars as pl

from hltracker.engine.segments import long_share_bias, side_figures
from hltracker.engine.series import SEGMENT_AXES, opened_within
from hltracker.model.outputs import HEATMAP_CELLS_SCHEMA, HEATMAP_COINS_SCHEMA
from hltracker.model.windows import AGE_WINDOW_NAMES


def heatmap(positions: pl.DataFrame, taken_at_ms: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(coin totals, coin x cohort cells), each with an `age_window` column."""
    coins, cells = [], []
    for window in AGE_WINDOW_NAMES:
        scoped = opened_within(positions, window, taken_at_ms)
        tag = pl.lit(window).alias("age_window")
        coins.append(scoped.group_by("coin").agg(side_figures()).with_columns(long_share_bias(), tag))
        for axis in SEGMENT_AXES:
            cells.append(
                scoped.group_by("coin", pl.col(axis).alias("segment_id")).agg(side_figures())
                .with_columns(long_share_bias(), tag)
            )
    coin_frame = pl.concat([c.select([pl.col(k).cast(t) for k, t in HEATMAP_COINS_SCHEMA.items()]) for c in coins])
    cell_frame = pl.concat([c.select([pl.col(k).cast(t) for k, t in HEATMAP_CELLS_SCHEMA.items()]) for c in cells])
    return (
        coin_frame.sort(["age_window", "total_value", "coin"], descending=[False, True, False]),
        cell_frame.sort("age_window", "coin", "segment_id"),
    )
