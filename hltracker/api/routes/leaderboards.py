"""Leaderboards (beyond the seeds, reference notes 2.7, 4.4 and 5): perp PnL over a day, a week, a month
and all time, from this store's own history of each wallet; and the biggest open positions.

Period PnL (docs/api.md, "Period PnL, exactly"; computed in exports/leaderboard_files.py, which also
builds the download files): a wallet's all-time perp PnL now minus its all-time perp PnL at the stored
snapshot nearest to 24 hours / 7 days / 30 days before the latest one. A wallet first seen after that
snapshot is measured from the first snapshot that saw it.

The whole board (every wallet, its four figures and ranks, now and at the previous snapshot) is built
once per snapshot and kept in memory; a request sorts and slices it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import timedelta
from typing import Annotated, Literal

import polars as pl
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import ApiContext, ctx_of
from hltracker.api.errors import bad_request
from hltracker.api.params import EPOCH, AgeWindow
from hltracker.api.responses import iso, json_response, records
from hltracker.api.routes.downloads import signed_url
from hltracker.api.routes.wallets import Offset, Order
from hltracker.exports.leaderboard_files import PNL_FIELDS, entries, perp_pnl_board
from hltracker.model.windows import AGE_WINDOWS
from hltracker.store import SnapshotInfo

router = APIRouter(tags=["Wallets & Leaderboards"])

PnlField = Literal["pnlDay", "pnlWeek", "pnlMonth", "pnlAllTime"]
PERP_PNL_LIMITS = (25, 50, 100)


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
                board = perp_pnl_board(ctx.store, snapshot)
                self._boards[key] = board
                while len(self._boards) > 2:
                    self._boards.popitem(last=False)
            return board


_boards = _Boards()


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
    return json_response({"totalCount": board.height, "data": entries(page, rank_field).to_dicts()},
                         snapshot.snapshot_id)


@router.get("/leaderboards/perp-pnl/{period}/download", response_model=schemas.DownloadLink,
            summary="A link to the perp-PnL leaderboard of one period as a CSV file (top 25,000)")
def perp_pnl_download(
    request: Request,
    period: Annotated[Literal["all", "30d", "7d", "24h"], Path(description="all (all-time PnL), 30d, 7d or 24h.")],
) -> Response:
    """`{downloadUrl}`: a signed URL, valid `HLTRACKER_DOWNLOAD_TTL` seconds, to a CSV of the 25,000 wallets
    with the highest PnL over the period, with the columns of the JSON leaderboard's entries."""
    ctx = ctx_of(request)
    return json_response({"downloadUrl": signed_url(ctx, request, f"perp-pnl-leaderboard-{period}", None)})


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
