"""Position metrics and volume over time (seeds 000, 001, 004): market-wide, per coin, per coin x cohort,
per coin x position-size bucket, and perp volume. Newest first, paginated with `nextCursor`."""

from __future__ import annotations

from typing import Annotated

import polars as pl
from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import check_segment, check_size_bucket, ctx_of
from hltracker.api.params import MAX_LIMIT, Cursor, End, Limit, Recency, Start, StartRequired
from hltracker.api.responses import iso, json_response, records
from hltracker.api.routes.series import series_page

router = APIRouter(tags=["Position Metrics"])

CoinPath = Annotated[str, Path(max_length=64, description="Coin symbol, case-insensitive (BTC, xyz:GOLD).")]

_COIN_FIGURES: dict[str, str | pl.Expr] = {
    "positionCount": "position_count",
    "positionCountLong": "position_count_long",
    "totalPositionValue": "total_position_value",
    "totalPositionValueLong": "total_position_value_long",
    "totalFunding": "total_funding",
    "totalUnrealizedPnl": "total_unrealized_pnl",
    "totalPositionSize": "total_position_size",
    "totalPositionSizeLong": "total_position_size_long",
}
_GROUP_FIGURES: dict[str, str | pl.Expr] = {
    "positionCount": "position_count",
    "positionCountLong": "position_count_long",
    "totalPositionValue": "total_position_value",
    "totalPositionValueLong": "total_position_value_long",
    "totalPositionSize": "total_position_size",
    "totalPositionSizeLong": "total_position_size_long",
    "totalFunding": "total_funding",
    "totalUnrealizedPnl": "total_unrealized_pnl",
}


def _page(metrics: list[dict], cursor: str | None, snapshot_id: int) -> Response:
    return json_response({"metrics": metrics, "nextCursor": cursor}, snapshot_id)


@router.get("/position-metrics/general", response_model=schemas.GeneralMetricsPage,
            summary="Market-wide open interest, positions, perp equity, positions in profit over time")
def general(request: Request, limit: Limit = MAX_LIMIT, next_cursor: Cursor = None, start: Start = None,
            end: End = None) -> Response:
    """One row per snapshot, newest first."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    rows, cursor, _ = series_page(
        ctx, query="general_series", scope="general", params={}, start=start, end=end, limit=limit,
        cursor=next_cursor, start_required=False,
        to_records=lambda f: records(f, {
            "id": "id", "createdAt": iso("taken_at"), "count": "count", "countLong": "count_long",
            "countShort": "count_short", "openInterest": "open_interest", "openInterestLong": "open_interest_long",
            "openInterestShort": "open_interest_short", "perpEquity": "perp_equity",
            "countInProfit": "count_in_profit",
        }))
    return _page(rows, cursor, snapshot.snapshot_id)


@router.get("/position-metrics/coin/{coin}", response_model=schemas.CoinMetricsPage,
            summary="A coin's open interest, positions, PnL and funding over time")
def coin_metrics(request: Request, coin: CoinPath, start: StartRequired, limit: Limit = MAX_LIMIT,
                 next_cursor: Cursor = None, end: End = None) -> Response:
    """One row per snapshot, newest first; `start` is required."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    canonical = ctx.coin(coin)
    rows, cursor, _ = series_page(
        ctx, query="coin_series", scope=f"coin|{canonical}", params={"coin": canonical}, start=start, end=end,
        limit=limit, cursor=next_cursor, start_required=True,
        to_records=lambda f: records(f, {"id": "id", "createdAt": iso("taken_at"), "coin": "coin", **_COIN_FIGURES}))
    return _page(rows, cursor, snapshot.snapshot_id)


@router.get("/position-metrics/coin/{coin}/segment/{segment}", response_model=schemas.CoinSegmentMetricsPage,
            summary="A coin's positions held by one cohort, over time")
def coin_segment_metrics(
    request: Request, coin: CoinPath,
    segment: Annotated[int, Path(description="Segment (cohort) id, 1-16.")],
    start: StartRequired, limit: Limit = MAX_LIMIT, next_cursor: Cursor = None, end: End = None,
    position_recency_timeframe: Recency = "all",
) -> Response:
    """One row per snapshot, newest first; `start` is required."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    canonical, segment_id = ctx.coin(coin), check_segment(segment)
    rows, cursor, _ = series_page(
        ctx, query="coin_segment_series", scope=f"coin-segment|{canonical}|{segment_id}|{position_recency_timeframe}",
        params={"coin": canonical, "segment_id": segment_id, "age_window": position_recency_timeframe},
        start=start, end=end, limit=limit, cursor=next_cursor, start_required=True,
        to_records=lambda f: records(f, {"createdAt": iso("taken_at"), "coin": "coin",
                                         "segmentId": pl.col("segment_id").cast(pl.Int64), **_GROUP_FIGURES}))
    return _page(rows, cursor, snapshot.snapshot_id)


@router.get("/position-metrics/coin/{coin}/position-size-bucket/{sizeBucketId}",
            response_model=schemas.CoinBucketMetricsPage, summary="A coin's positions of one size bucket, over time")
def coin_bucket_metrics(
    request: Request, coin: CoinPath,
    size_bucket_id: Annotated[int, Path(alias="sizeBucketId", description="Position size bucket, 1 (<$1k) to "
                                        "10 (>$2.5m).")],
    start: StartRequired, limit: Limit = MAX_LIMIT, next_cursor: Cursor = None, end: End = None,
) -> Response:
    """One row per snapshot, newest first; `start` is required."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    canonical, bucket = ctx.coin(coin), check_size_bucket(size_bucket_id)
    rows, cursor, _ = series_page(
        ctx, query="coin_bucket_series", scope=f"coin-bucket|{canonical}|{bucket}",
        params={"coin": canonical, "size_bucket_id": bucket}, start=start, end=end, limit=limit,
        cursor=next_cursor, start_required=True,
        to_records=lambda f: records(f, {"createdAt": iso("taken_at"), "coin": "coin",
                                         "sizeBucketId": pl.col("size_bucket_id").cast(pl.Int64),
                                         **_GROUP_FIGURES}))
    return _page(rows, cursor, snapshot.snapshot_id)


@router.get("/metrics/perp-volume", response_model=schemas.PerpVolumePage,
            summary="Exchange-wide 24h perp volume over time")
def perp_volume(request: Request, start: StartRequired, end: End = None, limit: Limit = MAX_LIMIT,
                next_cursor: Cursor = None) -> Response:
    """The summed 24-hour notional volume of every market at each snapshot, newest first; `start` is required."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    rows, cursor, _ = series_page(
        ctx, query="perp_volume_series", scope="perp-volume", params={}, start=start, end=end, limit=limit,
        cursor=next_cursor, start_required=True,
        to_records=lambda f: records(f, {"id": "id", "createdAt": iso("taken_at"), "volume": "volume"}))
    return _page(rows, cursor, snapshot.snapshot_id)
