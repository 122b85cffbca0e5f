"""Market summaries beyond the seeds (reference notes section 5): the homepage snapshot
(`/state/summary`), a coin's figures per cohort over a week (`/perps/coin/{coin}/segment-metrics`) and
the deprecated all-cohort bias of the last 12 hours (`/segments/bias`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import ApiContext, ctx_of
from hltracker.api.errors import not_found
from hltracker.api.params import AgeWindow
from hltracker.api.responses import json_response, long_share
from hltracker.exports import sample_snapshots
from hltracker.model.windows import AGE_WINDOW_NAMES
from hltracker.model.wire import iso_ms, segment_object

router = APIRouter(tags=["Market Summary"])

_SEGMENT_FIELDS = {
    "countTraders": "count_traders", "countTradersInPosition": "count_traders_in_position",
    "countTradersInProfit": "count_traders_in_profit", "perpBias": "bias", "exposureRatio": "exposure_ratio",
    "openValue": "open_value", "openLongValue": "open_long_value", "openShortValue": "open_short_value",
    "activePerpEquity": "active_perp_equity", "perpEquity": "perp_equity",
    "countOpenPositions": "count_open_positions",
}
_WINDOW_KEYS = {"all": "segments", "24h": "segments24h", "7d": "segments7d", "30d": "segments30d"}


def _segments(ctx: ApiContext, snapshot_id: int, window: str) -> list[dict]:
    rows = ctx.store.query("segment_series_at", snapshot_id=snapshot_id, age_window=window)
    return [{"segmentId": int(r["segment_id"]), **{k: r[c] for k, c in _SEGMENT_FIELDS.items()}}
            for r in rows.iter_rows(named=True)]


@router.get("/state/summary", response_model=schemas.StateSummary, summary="The market at the latest snapshot")
def state_summary(request: Request) -> Response:
    """Wallet counts (now and 24 hours earlier), every cohort's figures for each position-age window,
    open positions and interest, and the 24h perp volume, at the latest snapshot."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    past = ctx.store.query("snapshot_nearest", at=snapshot.taken_at - timedelta(hours=24))
    general = ctx.store.query("general_at", snapshot_id=snapshot.snapshot_id)
    volume = ctx.store.query("perp_volume_at", snapshot_id=snapshot.snapshot_id)
    body = {
        "createdAt": iso_ms(snapshot.taken_at),
        "countTraders": snapshot.wallet_count,
        "countActiveTraders": int(ctx.store.query("active_wallet_count")["count"][0]),
        "countTraders24HoursAgo": int(past["wallet_count"][0]),
        **{_WINDOW_KEYS[w]: _segments(ctx, snapshot.snapshot_id, w) for w in AGE_WINDOW_NAMES},
        "perpPositionsMetrics": {
            "count": int(general["count"][0]) if general.height else 0,
            "openInterest": float(general["open_interest"][0]) if general.height else 0.0,
        },
        "perpVolume": float(volume["volume"][0]) if volume.height else None,
    }
    return json_response(body, snapshot.snapshot_id)


@router.get("/perps/coin/{coin}/segment-metrics", response_model=schemas.PerpsCoinSegmentMetrics,
            summary="A main-exchange coin's figures per cohort: now, then every 12 hours over 7 days")
def coin_segment_metrics(
    request: Request,
    coin: Annotated[str, Path(max_length=64, description="A main-exchange coin, case-insensitive (BTC).")],
    position_recency_timeframe: Annotated[AgeWindow, Query(alias="positionRecencyTimeframe", description="Count "
                                          "only positions opened within this window.")] = "all",
) -> Response:
    """For each of the 16 cohorts, `metrics[0]` is the latest snapshot and the rest the 12-hour samples of
    the `segment-metrics` export (docs/exports.md), newest first. HIP-3 coins are a 404, as HyperTracker."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    canonical = ctx.coin(coin)
    if ":" in canonical:
        raise not_found(f"{canonical} not found")
    samples = sample_snapshots(ctx.store, snapshot, every=timedelta(hours=12), span=timedelta(days=7))
    frame = ctx.store.query("coin_segment_series_at_snapshots", coin=canonical, age_window=position_recency_timeframe,
                            snapshot_ids=[s.snapshot_id for s in samples])
    segments = []
    for (segment_id,), group in frame.group_by("segment_id", maintain_order=True):
        rows = {r["snapshot_id"]: r for r in group.iter_rows(named=True)}
        segments.append({"segment": segment_object(int(segment_id)), "metrics": [
            {"timestamp": iso_ms(s.label), "positionCount": r["position_count"],
             "positionCountLong": r["position_count_long"], "totalPositionValue": r["total_position_value"],
             "totalPositionValueLong": r["total_position_value_long"],
             "bias": long_share(r["total_position_value_long"], r["total_position_value"])}
            for s in samples if (r := rows.get(s.snapshot_id)) is not None]})
    body = {"coin": canonical, "positionRecencyTimeframe": position_recency_timeframe, "segments": segments}
    return json_response(body, snapshot.snapshot_id)


BIAS_SPAN = timedelta(hours=12)
BIAS_STEP = timedelta(hours=2)
BIAS_COLUMNS = ["timestamp", "bias", "exposureRatio", "openValue", "openLongValue", "openShortValue",
                "activePerpEquity"]


@router.get("/segments/bias", response_model=schemas.SegmentsBias, deprecated=True,
            summary="Deprecated: every cohort's bias over the last 12 hours at 2-hour samples")
def segments_bias(request: Request) -> Response:
    """Per cohort (all positions), the latest snapshot then the 2-hour samples of the last 12 hours, newest
    first, as rows of `historySnapshotStructure`. Superseded by `/segments/{segmentId}/bias-history`."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    samples = sample_snapshots(ctx.store, snapshot, every=BIAS_STEP, span=BIAS_SPAN)
    frame = ctx.store.query("segment_series_at_snapshots", age_window="all",
                            snapshot_ids=[s.snapshot_id for s in samples])
    segments = []
    for (segment_id,), group in frame.group_by("segment_id", maintain_order=True):
        rows = {r["snapshot_id"]: r for r in group.iter_rows(named=True)}
        history = [[iso_ms(s.label), r["bias"], r["exposure_ratio"], r["open_value"], r["open_long_value"],
                    r["open_short_value"], r["active_perp_equity"]]
                   for s in samples if (r := rows.get(s.snapshot_id)) is not None]
        segments.append({"segment": segment_object(int(segment_id)), "history": history})
    body = {"start": iso_ms(snapshot.taken_at - BIAS_SPAN), "end": iso_ms(snapshot.taken_at),
            "historySnapshotStructure": BIAS_COLUMNS, "segments": segments}
    return json_response(body, snapshot.snapshot_id)

