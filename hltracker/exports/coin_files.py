"""The per-coin JSON exports built from the series tables: position metrics, the breakdowns by size
bucket and by cohort, the per-cohort metrics, and the liquidation heatmap (docs/exports.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hltracker.exports.base import by_snapshot, dumps, long_share, number
from hltracker.exports.sampling import sample_snapshots
from hltracker.model.size_buckets import SIZE_BUCKETS_BY_ID
from hltracker.model.wire import iso_ms, segment_object
from hltracker.store import SnapshotInfo, Store

POSITION_METRICS_COLUMNS = [
    "coin", "timestamp", "positionCount", "positionCountLong", "totalPositionValue", "totalPositionValueLong",
]
SEGMENT_METRICS_COLUMNS = [
    "timestamp", "positionCount", "positionCountLong", "totalPositionValue", "totalPositionValueLong", "bias",
]
PAST = timedelta(hours=24)

Row = dict[str, Any]


# --- position-metrics ---

def position_metrics(store: Store, snapshot: SnapshotInfo, coin: str) -> bytes:
    """`position-metrics`: the latest snapshot, then 2-hour samples over 14 days; rows omit `coin`."""
    samples = sample_snapshots(store, snapshot, every=timedelta(hours=2), span=timedelta(days=14))
    ids = [s.snapshot_id for s in samples]
    rows = by_snapshot(store.query("coin_series_at_snapshots", coin=coin, snapshot_ids=ids))
    data = [
        [iso_ms(s.label), r["position_count"], r["position_count_long"], r["total_position_value"],
         r["total_position_value_long"]]
        for s in samples
        if (r := rows.get(s.snapshot_id)) is not None
    ]
    return dumps({"coin": coin, "metrics": {"columns": POSITION_METRICS_COLUMNS, "data": data}})


# --- the breakdowns: now and 24 hours earlier ---

def past_snapshot_id(store: Store, snapshot: SnapshotInfo) -> int:
    """The stored snapshot nearest to 24 hours before `snapshot` (itself when there is no history)."""
    past = store.query("snapshot_nearest", at=snapshot.taken_at - PAST)
    return past["snapshot_id"][0] if past.height else snapshot.snapshot_id


def _now_and_past(
    store: Store, snapshot: SnapshotInfo, rows_at: Callable[[int], list[Row]], key: str
) -> list[tuple[Row, Row]]:
    """Each group's row at `snapshot` with the same group's row at the snapshot 24 hours earlier."""
    past = {r[key]: r for r in rows_at(past_snapshot_id(store, snapshot))}
    return [(row, past[row[key]]) for row in rows_at(snapshot.snapshot_id)]


def _breakdown_figures(now: Row, past: Row) -> Row:
    return {
        "positionCount": now["position_count"],
        "pastPositionCount": past["position_count"],
        "totalPositionValue": now["total_position_value"],
        "pastTotalPositionValue": past["total_position_value"],
        "totalPositionValueLong": now["total_position_value_long"],
        "valueCloseToLiquidation": now["value_close_to_liquidation"],
        "bias": long_share(now["total_position_value_long"], now["total_position_value"]),
    }


def breakdown_by_size(store: Store, snapshot: SnapshotInfo, coin: str) -> bytes:
    """`position-breakdown-by-size`: the 10 size buckets of the coin's positions, now and 24 hours earlier."""

    def rows_at(snapshot_id: int) -> list[Row]:
        return store.query("coin_bucket_rows_at", snapshot_id=snapshot_id, coin=coin).to_dicts()

    items = []
    for now, past in _now_and_past(store, snapshot, rows_at, "size_bucket_id"):
        bucket = SIZE_BUCKETS_BY_ID[now["size_bucket_id"]]
        items.append({
            "sizeSegmentId": bucket.id,
            "size": bucket.label,
            "minSize": number(bucket.min_size),
            "maxSize": number(bucket.max_size),
            **_breakdown_figures(now, past),
        })
    return dumps({"coin": coin, "createdAt": iso_ms(snapshot.taken_at), "breakdownBySize": items})


def breakdown_by_cohort(age_window: str) -> Callable[[Store, SnapshotInfo, str], bytes]:
    """`position-breakdown-by-cohort[-24h|-7d|-30d]`: the 16 cohorts' share of the coin, positions in the window."""

    def build(store: Store, snapshot: SnapshotInfo, coin: str) -> bytes:
        def rows_at(snapshot_id: int) -> list[Row]:
            frame = store.query("coin_segment_rows_at", snapshot_id=snapshot_id, coin=coin, age_window=age_window)
            return frame.to_dicts()

        items = [
            {"segmentId": now["segment_id"], "segment": segment_object(now["segment_id"]),
             **_breakdown_figures(now, past)}
            for now, past in _now_and_past(store, snapshot, rows_at, "segment_id")
        ]
        return dumps({"coin": coin, "createdAt": iso_ms(snapshot.taken_at), "breakdownByCohort": items})

    return build


# --- segment-metrics ---

def segment_metrics(age_window: str) -> Callable[[Store, SnapshotInfo, str], bytes]:
    """`segment-metrics[-24h|-7d|-30d]`: per cohort, the latest snapshot then 12-hour samples over 7 days."""

    def build(store: Store, snapshot: SnapshotInfo, coin: str) -> bytes:
        samples = sample_snapshots(store, snapshot, every=timedelta(hours=12), span=timedelta(days=7))
        frame = store.query(
            "coin_segment_series_at_snapshots", coin=coin, age_window=age_window,
            snapshot_ids=[s.snapshot_id for s in samples],
        )
        data = []
        for (segment_id,), group in frame.group_by("segment_id", maintain_order=True):
            rows = by_snapshot(group)
            data.append({
                "segment": segment_object(segment_id),
                "metrics": {"columns": SEGMENT_METRICS_COLUMNS, "data": [
                    _segment_metrics_row(s.label, r) for s in samples if (r := rows.get(s.snapshot_id)) is not None
                ]},
            })
        return dumps({"coin": coin, "createdAt": iso_ms(snapshot.taken_at), "data": data})

    return build


def _segment_metrics_row(label, r: Row) -> list:
    return [
        iso_ms(label), r["position_count"], r["position_count_long"], r["total_position_value"],
        r["total_position_value_long"], long_share(r["total_position_value_long"], r["total_position_value"]),
    ]


# --- liquidation-heatmap ---

def liquidation_heatmap(store: Store, snapshot: SnapshotInfo, coin: str) -> bytes:
    """`liquidation-heatmap`: the coin's 100 liquidation price bins (none when it has no positions)."""
    bins = store.query("liquidation_bins", coin=coin)
    # A current table: if a newer snapshot landed since `snapshot` was read, label the file with the
    # snapshot the bins really come from.
    snapshot_id, taken_at = snapshot.snapshot_id, snapshot.taken_at
    if bins.height:
        snapshot_id, taken_at = bins["snapshot_id"][0], bins["taken_at"][0]
    market = store.query("market_at", snapshot_id=snapshot_id, coin=coin)
    heatmap = [
        {
            "coin": coin,
            "priceBinIndex": b["price_bin_index"],
            "priceBinStart": b["price_bin_start"],
            "priceBinEnd": b["price_bin_end"],
            "liquidationValue": b["liquidation_value"],
            "positionsCount": b["positions_count"],
            "mostImpactedSegment": b["most_impacted_segment"],
            "liquidationValueLong": b["liquidation_value_long"],
            "liquidationValueShort": b["liquidation_value_short"],
            "cumulativeValue": b["cumulative_value"],
            "mostImpactedPnlSegment": b["most_impacted_pnl_segment"],
        }
        for b in bins.iter_rows(named=True)
    ]
    return dumps({
        "coin": coin,
        "createdAt": iso_ms(taken_at),
        "markPrice": market["mark_price"][0] if market.height else None,
        "heatmap": heatmap,
    })
