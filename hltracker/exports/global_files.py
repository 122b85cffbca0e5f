"""The global exports: `segments-bias-charts-data-24h` and `total-wallets-equity-chart-data`
(docs/exports.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hltracker.exports.base import by_snapshot, dumps
from hltracker.exports.coin_files import past_snapshot_id
from hltracker.exports.sampling import sample_snapshots
from hltracker.model.wire import iso_ms, segment_object
from hltracker.store import SnapshotInfo, Store

BIAS_CHART_COLUMNS = [
    "timestamp", "bias", "exposureRatio", "openValue", "openLongValue", "openShortValue", "activePerpEquity",
]
BIAS_CHART_WINDOW = "24h"

# export column -> wallet_equity_series column
EQUITY_COLUMNS: dict[str, str] = {
    "totalWalletsEquity": "total_equity",
    "perpWalletsEquity": "perp_equity",
    "spotWalletsEquity": "spot_equity",
    "stakingWalletsEquity": "staking_equity",
    "vaultWalletsEquity": "vault_equity",
}


def segments_bias_charts(store: Store, snapshot: SnapshotInfo, coin: None = None) -> bytes:
    """`segments-bias-charts-data-24h`: every cohort's bias history (24h window), 2-hour samples over 72 h."""
    samples = sample_snapshots(store, snapshot, every=timedelta(hours=2), span=timedelta(hours=72))
    frame = store.query(
        "segment_series_at_snapshots", age_window=BIAS_CHART_WINDOW, snapshot_ids=[s.snapshot_id for s in samples]
    )
    segments = {}
    for (segment_id,), group in frame.group_by("segment_id", maintain_order=True):
        rows = by_snapshot(group)
        segments[str(segment_id)] = {
            "segment": segment_object(segment_id),
            "columns": BIAS_CHART_COLUMNS,
            "data": [
                [iso_ms(s.label), r["bias"], r["exposure_ratio"], r["open_value"], r["open_long_value"],
                 r["open_short_value"], r["active_perp_equity"]]
                for s in samples
                if (r := rows.get(s.snapshot_id)) is not None
            ],
        }
    return dumps({"createdAt": iso_ms(snapshot.taken_at), "segments": segments})


def total_wallets_equity(store: Store, snapshot: SnapshotInfo, coin: None = None) -> bytes:
    """`total-wallets-equity-chart-data`: the all-time high, 24 hours ago, and the daily history."""
    ath = store.query("wallet_equity_ath")
    past = store.query("wallet_equity_at", snapshot_id=past_snapshot_id(store, snapshot))
    daily = store.query("wallet_equity_daily", end=snapshot.taken_at)
    history = daily.to_dicts()
    if not history or history[-1]["snapshot_id"] != snapshot.snapshot_id:
        history += store.query("wallet_equity_at", snapshot_id=snapshot.snapshot_id).to_dicts()
    return dumps({
        "athData": {"columns": list(EQUITY_COLUMNS), "data": _equity(ath.to_dicts()[0] if ath.height else {})},
        "data24HoursAgo": {"columns": list(EQUITY_COLUMNS), "data": _equity(past.to_dicts()[0] if past.height else {})},
        "history": {
            "columns": ["timestamp", *EQUITY_COLUMNS],
            "data": [[iso_ms(row["taken_at"]), *_equity(row)] for row in history],
        },
    })


def _equity(row: dict[str, Any]) -> list[float | None]:
    return [row.get(column) for column in EQUITY_COLUMNS.values()]
