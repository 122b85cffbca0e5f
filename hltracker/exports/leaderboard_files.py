"""The perp-PnL leaderboard: built once per snapshot from `wallet_history`, served as JSON pages by
`/leaderboards/perp-pnl` and as the `perp-pnl-leaderboard-<period>` CSV files (the top 25,000 by one
period) that `/leaderboards/perp-pnl/{period}/download` links to.

Period PnL: a wallet's all-time perp PnL at the snapshot minus its all-time perp PnL at the stored
snapshot nearest 24 h / 7 d / 30 d earlier (its latest `wallet_history` row at or before that one);
a wallet first seen after that snapshot counts from its first row (docs/api.md, "Period PnL").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import polars as pl

from hltracker.store import SnapshotInfo, Store

PERIODS = {"pnlDay": timedelta(days=1), "pnlWeek": timedelta(days=7), "pnlMonth": timedelta(days=30)}
PNL_FIELDS = {"pnlDay": "pnl_day", "pnlWeek": "pnl_week", "pnlMonth": "pnl_month", "pnlAllTime": "pnl_all_time"}
# the download's `{period}` -> the figure it ranks by
DOWNLOAD_PERIODS = {"24h": "pnlDay", "7d": "pnlWeek", "30d": "pnlMonth", "all": "pnlAllTime"}
DOWNLOAD_ROWS = 25_000


def _baseline_id(store: Store, snapshot: SnapshotInfo, period: timedelta) -> int:
    return int(store.query("snapshot_nearest", at=snapshot.taken_at - period)["snapshot_id"][0])


def pnl_as_of(store: Store, snapshot_id: int, taken_at) -> pl.DataFrame:
    """Every wallet's period and all-time PnL as of one snapshot (`wallet_pnl_as_of`)."""
    at = SnapshotInfo(snapshot_id, taken_at, "", None, taken_at, 0, 0)
    ids = {name: _baseline_id(store, at, period) for name, period in PERIODS.items()}
    return store.query("wallet_pnl_as_of", now_id=snapshot_id, day_id=ids["pnlDay"], week_id=ids["pnlWeek"],
                       month_id=ids["pnlMonth"])


def _ranks(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """`<prefix><field>` columns: 1 for the highest figure, nulls last, ties by address."""
    ranked = frame.select("address")
    for field, column in PNL_FIELDS.items():
        order = frame.sort([column, "address"], descending=[True, False], nulls_last=True)
        ranked = ranked.join(order.select("address").with_row_index(f"{prefix}{field}", offset=1), on="address")
    return ranked.with_columns(pl.col(f"{prefix}{f}").cast(pl.Int64) for f in PNL_FIELDS)


def perp_pnl_board(store: Store, snapshot: SnapshotInfo) -> pl.DataFrame:
    """Every current wallet with its profile, four PnL figures, their ranks (`rank_<field>`) and its ranks
    at the previous snapshot (`previous_rank_<field>`, null when it had no history then)."""
    board = store.query("wallet_profiles").join(pnl_as_of(store, snapshot.snapshot_id, snapshot.taken_at),
                                                on="address", how="inner")
    board = board.join(_ranks(board, "rank_"), on="address")
    previous = store.query("snapshot_at", snapshot_id=snapshot.snapshot_id - 1)
    if previous.height:
        before = _ranks(pnl_as_of(store, snapshot.snapshot_id - 1, previous["taken_at"][0]), "previous_rank_")
    else:
        before = board.select("address", *(pl.lit(None, pl.Int64).alias(f"previous_rank_{f}") for f in PNL_FIELDS))
    return board.join(before, on="address", how="left")


def entries(board: pl.DataFrame, rank_field: str) -> pl.DataFrame:
    """The board's rows as leaderboard entries (HyperTracker's keys), ranked by `rank_field`."""
    return board.select(
        "address", pl.col(f"rank_{rank_field}").alias("rank"), pl.col(f"previous_rank_{rank_field}").alias(
            "previousRank"),
        pl.col("perp_equity").alias("perpEquity"), pl.col("open_value").alias("openValue"),
        pl.col("open_long_value").alias("openValueLong"), pl.col("exposure_ratio").alias("exposureRatio"),
        pl.col("perp_bias").alias("bias"), pl.col("pnl_day").alias("pnlDay"), pl.col("pnl_week").alias("pnlWeek"),
        pl.col("pnl_month").alias("pnlMonth"), pl.col("pnl_all_time").alias("pnlAllTime"),
        pl.col("perp_volume_30d").alias("volumeMonth"),
        pl.col("first_seen").dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").alias("firstSeenAt"),
    )


def perp_pnl_csv(period: str) -> Callable[[Store, SnapshotInfo, str | None], bytes]:
    """`perp-pnl-leaderboard-<period>`: the top DOWNLOAD_ROWS wallets by that period's PnL, as CSV."""
    field = DOWNLOAD_PERIODS[period]

    def build(store: Store, snapshot: SnapshotInfo, coin: str | None) -> bytes:
        board = perp_pnl_board(store, snapshot)
        top = board.sort([PNL_FIELDS[field], "address"], descending=[True, False], nulls_last=True)
        return entries(top.head(DOWNLOAD_ROWS), field).write_csv().encode()

    return build

