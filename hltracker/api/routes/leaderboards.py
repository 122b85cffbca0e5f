"""Leaderboards (beyond the seeds, reference notes 2.7, 4.4 and 5): perp PnL over a day, a week, a month
and all time, from this store's own history of each wallet; and the biggest open positions.

Period PnL (docs/api.md, "Leaderboards"): a wallet's all-time perp PnL now minus its all-time perp PnL
at the stored snapshot nearest to 24 hours / 7 days / 30 days before the latest one (`wallet_history`
keeps a row per wallet whose figure changed, so its figure at a snapshot is its latest row at or
before it). A wallet first seen after that snapshot is measured from the first snapshot that saw it.

The whole board (every wallet, its four figures and ranks, now and at the previous snapshot) is built
once per snapshot and kept in memory; a request sorts and slices it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import timedelta
from typing import Annotated, Literal

import polars as pl
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import ApiContext, ctx_of
from hltracker.api.errors import bad_request
from hltracker.api.params import EPOCH, AgeWindow
from hltracker.api.responses import iso, json_response, records
from hltracker.api.routes.wallets import Offset, Order
from hltracker.model.windows import AGE_WINDOWS
from hltracker.store import SnapshotInfo

router = APIRouter(tags=["Wallets & Leaderboards"])

PERIODS = {"pnlDay": timedelta(days=1), "pnlWeek": timedelta(days=7), "pnlMonth": timedelta(days=30)}
PNL_FIELDS = {"pnlDay": "pnl_day", "pnlWeek": "pnl_week", "pnlMonth": "pnl_month", "pnlAllTime": "pnl_all_time"}
PnlField = Literal["pnlDay", "pnlWeek", "pnlMonth", "pnlAllTime"]
PERP_PNL_LIMITS = (25, 50, 100)

_ENTRY: dict[str, str | pl.Expr] = {
    "address": "address", "rank": "rank", "previousRank": "previous_rank", "perpEquity": "perp_equity",
    "openValue": "open_value", "openValueLong": "open_long_value", "exposureRatio": "exposure_ratio",
    "bias": "perp_bias", "pnlDay": "pnl_day", "pnlWeek": "pnl_week", "pnlMonth": "pnl_month",
    "pnlAllTime": "pnl_all_time", "volumeMonth": "perp_volume_30d", "firstSeenAt": iso("first_seen"),
}


def _baseline_id(ctx: ApiContext, snapshot: SnapshotInfo, period: timedelta) -> int:
    nearest = ctx.store.query("snapshot_nearest", at=snapshot.taken_at - period)
    return int(nearest["snapshot_id"][0])


def pnl_as_of(ctx: ApiContext, snapshot: SnapshotInfo) -> pl.DataFrame:
    """Every wallet's period and all-time PnL as of `snapshot` (wallet_pnl_as_of)."""
    ids = {name: _baseline_id(ctx, snapshot, period) for name, period in PERIODS.items()}
    return ctx.store.query("wallet_pnl_as_of", now_id=snapshot.snapshot_id, day_id=ids["pnlDay"],
                           week_id=ids["pnlWeek"], month_id=ids["pnlMonth"])


def _ranks(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """`<prefix><field>` columns: 1 for the highest figure, nulls last, ties by address."""
    ranked = frame.select("address")
    for field, column in PNL_FIELDS.items():
        order = frame.sort([column, "address"], descending=[True, False], nulls_last=True)
        ranked = ranked.join(order.select("address").with_row_index(f"{prefix}{field}", offset=1), on="address")
    return ranked.with_columns(pl.col(f"{prefix}{f}").cast(pl.Int64) for f in PNL_FIELDS)


class _Boards:
    """The built board of the last two snapshots (two: a request may straddle a landing)."""

    def __init__(self):
        self._boards: OrderedDict[tuple[int, int], pl.DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ctx: ApiContext, snapshot: SnapshotInfo) -> pl.DataFrame:
        key = (id(ctx), snapshot.snapshot_id)
        with self._lock:
            board = self._boards.get(key)
            if board is None:
                board = build_board(ctx, snapshot)
                self._boards[key] = board
                while len(self._boards) > 2:
                    self._boards.popitem(last=False)
            return board


_boards = _Boards()


def build_board(ctx: ApiContext, snapshot: SnapshotInfo) -> pl.DataFrame:
    """Every current wallet with its profile, four PnL figures, their ranks and the previous ranks."""
    now = pnl_as_of(ctx, snapshot)
    board = ctx.store.query("wallet_profiles").join(now, on="address", how="inner")
    board = board.join(_ranks(board, "rank_"), on="address")
    previous = ctx.store.query("snapshot_at", snapshot_id=snapshot.snapshot_id - 1)
    if previous.height:
        info = SnapshotInfo(snapshot.snapshot_id - 1, previous["taken_at"][0], "", None, previous["taken_at"][0], 0, 0)
        before = _ranks(pnl_as_of(ctx, info), "previous_rank_")
    else:
        before = board.select("address", *(pl.lit(None, pl.Int64).alias(f"previous_rank_{f}") for f in PNL_FIELDS))
    return board.join(before, on="address", how="left")


def _limit(limit: int) -> int:
    if limit not in PERP_PNL_LIMITS:
        raise bad_request("limit must be one of the following values: 25, 50, 100")
    return limit


@router.get("/leaderboards/perp-pnl", response_model=schemas.PerpPnlLeaderboard,
            summary="Wallets ranked by perp PnL over a day, a week, a month or all time")
def perp_pnl(
    request: Request,
    order_by: Annotated[PnlField, Query(alias="orderBy", description="Sort key (default pnlAllTime).")] = "pnlAllTime",
    rank_by: Annotated[PnlField | None, Query(alias="rankBy", description="The figure `rank` counts by "
                                              "(default: orderBy).")] = None,
    order: Annotated[Order, Query(description="Sort direction (default desc).")] = "desc",
    limit: Annotated[int, Query(description="25, 50 or 100 (default 25).",
                                json_schema_extra={"enum": list(PERP_PNL_LIMITS)})] = 25,
    offset: Offset = 0,
) -> Response:
    """Every wallet of the latest snapshot, sorted by `orderBy`; `rank` is its place by `rankBy` (1 =
    highest) and `previousRank` its place by the same figure at the previous snapshot. Period PnL is
    the all-time perp PnL now minus at the snapshot nearest 24 h / 7 d / 30 d earlier (docs/api.md)."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    limit = _limit(limit)
    board = _boards.get(ctx, snapshot)
    rank_field = rank_by or order_by
    column = PNL_FIELDS[order_by]
    page = board.sort([column, "address"], descending=[order == "desc", False], nulls_last=True).slice(offset, limit)
    page = page.with_columns(pl.col(f"rank_{rank_field}").alias("rank"),
                             pl.col(f"previous_rank_{rank_field}").alias("previous_rank"))
    return json_response({"totalCount": board.height, "data": records(page, _ENTRY)}, snapshot.snapshot_id)


_BIGGEST: dict[str, str | pl.Expr] = {
    "id": "id", "side": "side", "address": "address", "dex": "dex", "coin": "coin",
    "value": pl.when(pl.col("side") == "short").then(-pl.col("value")).otherwise(pl.col("value")),
    "size": "size", "entryPrice": "entry_price", "markPrice": "mark_price", "unrealizedPnl": "unrealized_pnl",
    "funding": "funding", "liquidationPrice": "liquidation_price", "liquidationProgress": "liquidation_progress",
    "crossLeverage": "cross_leverage", "isolatedLeverage": "isolated_leverage", "openTime": iso("open_time"),
    "closeTime": pl.lit(None, pl.String),
    "profile": pl.struct(
        pl.col("wallet_total_equity").alias("totalEquity"), pl.col("wallet_perp_equity").alias("perpEquity"),
        pl.col("wallet_pnl").alias("pnl"),
        pl.concat_list(pl.col("size_segment_id").cast(pl.Int64), pl.col("pnl_segment_id").cast(pl.Int64))
        .list.drop_nulls().alias("segments"),
        pl.when(pl.col("wallet_perp_equity") > 0).then(pl.col("wallet_open_value") / pl.col("wallet_perp_equity"))
        .alias("walletLeverage"),
    ),
}


@router.get("/leaderboards/biggest-positions", response_model=schemas.BiggestPositions,
            summary="The largest open positions by value")
def biggest_positions(
    request: Request,
    opened_within: Annotated[AgeWindow, Query(alias="openedWithin", description="Only positions opened within "
                                              "this window: 24h, 7d, 30d or all.")] = "all",
    limit: Annotated[int, Query(ge=1, le=100, description="Items to return, 1-100 (default 100).")] = 100,
    offset: Offset = 0,
) -> Response:
    """Open positions at the latest snapshot by |value| descending, with the holder's profile; `value` is
    negative for a short, as in HyperTracker's example."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    length = AGE_WINDOWS[opened_within]
    after = EPOCH if length is None else snapshot.taken_at - timedelta(milliseconds=length)
    page = ctx.store.query("biggest_positions", opened_after=after, limit=limit, offset=offset)
    total = int(ctx.store.query("biggest_positions_count", opened_after=after)["count"][0])
    return json_response({"totalCount": total, "data": records(page, _BIGGEST)}, snapshot.snapshot_id)
