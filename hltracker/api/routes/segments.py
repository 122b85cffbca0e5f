"""Cohorts (seed 003): the 16 segments, a segment's summary, its bias history, liquidation risk by asset."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import check_segment, ctx_of
from hltracker.api.errors import bad_request
from hltracker.api.params import AgeWindow, Cursor, End, Start, time_window
from hltracker.api.responses import iso, json_response, records
from hltracker.api.routes.series import series_page
from hltracker.exports import sample_snapshots
from hltracker.model.cohorts import COHORTS_BY_ID
from hltracker.model.wire import iso_ms, segment_object

router = APIRouter(tags=["Cohorts"])

SegmentPath = Annotated[int, Path(alias="segmentId", description="Segment (cohort) id, 1-16 (GET /segments).")]
HISTORY_COLUMNS = ["timestamp", "bias", "exposureRatio", "openValue", "openLongValue", "openShortValue",
                   "activePerpEquity"]
DEFAULT_HISTORY = timedelta(days=60)  # bias history without `start`: 60 days at 2-hour spacing
DEFAULT_SPACING = timedelta(hours=2)


@router.get("/segments", response_model=list[schemas.Segment], summary="The 16 cohorts and their rules")
def segments(request: Request) -> Response:
    """Every segment (cohort) with its id, name, category (size or pnl), emoji and criteria."""
    return json_response([segment_object(i) for i in sorted(COHORTS_BY_ID)])


_TOP_ASSET_FIELDS = {
    "coin": "coin", "totalValue": "total_value", "totalLongValue": "total_long_value",
    "totalShortValue": "total_short_value", "count": "count", "countLong": "count_long",
    "countShort": "count_short", "bias": "bias",
}


@router.get("/segments/{segmentId}/summary", response_model=schemas.SegmentSummary,
            summary="A cohort's current open-perp summary and top assets")
def segment_summary(
    request: Request, segment_id: SegmentPath,
    position_age: Annotated[AgeWindow, Query(alias="positionAge", description="Only wallets that opened at least "
                                             "one still-open position within this window.")] = "all",
) -> Response:
    """The cohort definition, its open positions' bias and exposure, trader counts (now and 24 hours
    earlier) and its top 10 coins by open value, at the latest snapshot."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    sid = check_segment(segment_id)
    now = _segment_row(ctx, snapshot.snapshot_id, sid, position_age)
    past = ctx.store.query("snapshot_nearest", at=snapshot.taken_at - timedelta(hours=24))
    then = _segment_row(ctx, int(past["snapshot_id"][0]), sid, position_age)
    top = ctx.store.query("segment_top_assets", segment_id=sid, age_window=position_age)
    long_count = now["count_open_positions_long"]
    body = {
        "segment": segment_object(sid),
        "positionAge": position_age,
        "createdAt": iso_ms(snapshot.taken_at),
        "openPerpsSummary": {
            "perpBias": now["bias"],
            "exposureRatio": now["exposure_ratio"],
            "countOpenPositions": now["count_open_positions"],
            "countTradersInPosition": now["count_traders_in_position"],
            "countTradersInProfit": now["count_traders_in_profit"],
            "totalValue": now["open_value"],
            "totalLongValue": now["open_long_value"],
            "totalActivePerpEquity": now["active_perp_equity"],
            "bySide": {
                "long": {"count": long_count, "value": now["open_long_value"]},
                "short": {"count": now["count_open_positions"] - long_count, "value": now["open_short_value"]},
            },
            "totalPerpEquity": now["perp_equity"],
            "countAssets": now["count_assets"],
        },
        "summary": {
            "countTraders": now["count_traders"],
            "countTradersInPosition": now["count_traders_in_position"],
            "perpBias": now["bias"],
            "positionValue": now["open_value"],
            "positionLongValue": now["open_long_value"],
            "positionShortValue": now["open_short_value"],
            "exposureRatio": now["exposure_ratio"],
            "activePerpEquity": now["active_perp_equity"],
            "perpEquity": now["perp_equity"],
        },
        "countTraders24HoursAgo": then["count_traders"],
        "topAssets": records(top, _TOP_ASSET_FIELDS),
    }
    return json_response(body, snapshot.snapshot_id)


def _segment_row(ctx, snapshot_id: int, segment_id: int, window: str) -> dict:
    rows = ctx.store.query("segment_series_at", snapshot_id=snapshot_id, age_window=window)
    return rows.filter(pl.col("segment_id") == segment_id).row(0, named=True)


_HISTORY_ROW = [iso("taken_at"), pl.col("bias"), pl.col("exposure_ratio"), pl.col("open_value"),
                pl.col("open_long_value"), pl.col("open_short_value"), pl.col("active_perp_equity")]


def _history(frame: pl.DataFrame) -> list[list]:
    return [list(r) for r in frame.select(_HISTORY_ROW).iter_rows()] if frame.height else []


@router.get("/segments/{segmentId}/bias-history", response_model=schemas.BiasHistory,
            response_model_exclude_unset=True, summary="A cohort's bias and exposure over time")
def bias_history(
    request: Request, segment_id: SegmentPath,
    start: Start = None, end: End = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Rows per page (needs start); default and "
                                       "max 1000.")] = None,
    next_cursor: Cursor = None,
    position_recency_timeframe: Annotated[AgeWindow, Query(alias="positionRecencyTimeframe", description="Only "
                                          "wallets that opened a still-open position within this window.")] = "all",
) -> Response:
    """Without `start`: the last 60 days at 2-hour spacing. With `start`: every snapshot in [start, end],
    newest first, paginated (`nextCursor`, `pageStart`, `pageEnd`)."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    sid = check_segment(segment_id)
    window = position_recency_timeframe
    head = {"segment": segment_object(sid)}
    if not start:
        if end or limit is not None or next_cursor:
            raise bad_request("'start' query param is required for 'end', 'nextCursor' and 'limit' query params")
        finish = snapshot.taken_at
        begin = finish - DEFAULT_HISTORY
        samples = sample_snapshots(ctx.store, snapshot, DEFAULT_SPACING, DEFAULT_HISTORY)
        rows = ctx.store.query("segment_series", segment_id=sid, age_window=window, start=begin - DEFAULT_SPACING,
                               end=finish, before=None, limit=10_000_000)
        figures = {r[0]: list(r[1:]) for r in rows.select("snapshot_id", *_HISTORY_ROW[1:]).iter_rows()}
        history = [[iso_ms(s.label), *figures[s.snapshot_id]] for s in samples if s.snapshot_id in figures]
        body = {**head, "positionRecencyTimeframe": window, "start": iso_ms(begin), "end": iso_ms(finish),
                "historySnapshotStructure": HISTORY_COLUMNS, "history": history}
        return json_response(body, snapshot.snapshot_id)
    begin, finish = time_window(start, end, start_required=True)
    history, cursor, page = series_page(
        ctx, query="segment_series", scope=f"bias|{sid}|{window}", params={"segment_id": sid, "age_window": window},
        start=start, end=end, limit=limit or 1000, cursor=next_cursor, start_required=True, to_records=_history)
    body = {
        **head, "nextCursor": cursor, "positionRecencyTimeframe": window,
        "start": iso_ms(begin), "end": iso_ms(finish),
        "pageStart": iso_ms(page["taken_at"][0]) if page.height else None,
        "pageEnd": iso_ms(page["taken_at"][-1]) if page.height else None,
        "historySnapshotStructure": HISTORY_COLUMNS, "history": history,
    }
    return json_response(body, snapshot.snapshot_id)


@router.get("/{segmentId}/assets/liquidation-risk", response_model=schemas.LiquidationRiskPage,
            summary="Share of each coin's open interest close to liquidation, for one cohort")
def liquidation_risk(
    request: Request, segment_id: SegmentPath,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="Items to return, at most 500.")] = 500,
) -> Response:
    """Per coin held by the cohort: total value, value of positions at liquidationProgress >= 75
    (`riskValue`) and `percentRisk` = 100 x riskValue / totalValue; riskiest first."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    sid = check_segment(segment_id)
    items = ctx.store.query("liquidation_risk", segment_id=sid, limit=limit, offset=offset)
    total = ctx.store.query("liquidation_risk_count", segment_id=sid)["count"][0]
    body = {"totalCount": int(total), "items": records(items, {
        "coin": "coin", "totalValue": "total_value", "riskValue": "risk_value", "percentRisk": "percent_risk"})}
    return json_response(body, snapshot.snapshot_id)
