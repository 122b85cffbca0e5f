"""Beyond the seeds: liveness (`/health`, no key needed) and when the next snapshot is expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from statistics import median

from fastapi import APIRouter, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import ApiContext, ctx_of
from hltracker.api.responses import json_response
from hltracker.model.wire import iso_ms

router = APIRouter(tags=["Status"])  # public
secured_router = APIRouter(tags=["Status"])
RECENT = 11  # snapshots whose gaps give the expected interval
STALE_AFTER_INTERVALS = 3


def expected_interval(ctx: ApiContext) -> timedelta | None:
    """The configured snapshot interval, else the median gap between the recent snapshots."""
    if ctx.settings.snapshot_interval_seconds:
        return timedelta(seconds=ctx.settings.snapshot_interval_seconds)
    recent = ctx.store.query("recent_snapshots", limit=RECENT)["taken_at"].to_list()
    gaps = [a - b for a, b in pairwise(recent)]
    return median(gaps) if gaps else None


@router.get("/health", response_model=schemas.Health, summary="Liveness and data freshness (no API key)")
def health(request: Request) -> Response:
    """`ok` while snapshots keep landing, `stale` when none landed for 3 expected intervals, `empty` before
    the first; always 200 while the server runs (a load balancer's liveness probe)."""
    ctx = ctx_of(request)
    snapshot = ctx.watcher.current
    now = datetime.now(UTC)
    if snapshot is None:
        return json_response({"status": "empty", "lastSnapshotAt": None, "lastLandedAt": None, "lagSeconds": None,
                              "snapshotId": None})
    interval = expected_interval(ctx)
    lag = (now - snapshot.taken_at).total_seconds()
    stale = interval is not None and now - snapshot.landed_at > STALE_AFTER_INTERVALS * interval
    return json_response({
        "status": "stale" if stale else "ok",
        "lastSnapshotAt": iso_ms(snapshot.taken_at),
        "lastLandedAt": iso_ms(snapshot.landed_at),
        "lagSeconds": round(lag, 3),
        "snapshotId": snapshot.snapshot_id,
    })


@secured_router.get("/hypertracker/state/status", response_model=schemas.StateStatus,
            summary="When the last snapshot landed and when the next is expected")
def state_status(request: Request) -> Response:
    """`lastUpdate`: the latest snapshot's time; `nextUpdate`: that plus the expected interval;
    `nextUpdateThreshold`: the time after which the data should be considered late (one more interval)."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    interval = expected_interval(ctx)
    next_at = snapshot.taken_at + interval if interval else None
    return json_response({
        "lastUpdate": iso_ms(snapshot.taken_at),
        "nextUpdate": iso_ms(next_at) if next_at else None,
        "nextUpdateThreshold": iso_ms(next_at + interval) if next_at else None,
        "lastLandedAt": iso_ms(snapshot.landed_at),
        "snapshotId": snapshot.snapshot_id,
        "intervalSeconds": interval.total_seconds() if interval else None,
    })
