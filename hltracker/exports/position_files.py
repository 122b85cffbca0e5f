"""The per-coin exports of the open positions themselves: `open-positions` (CSV), `open-positions-json`
and `positions`, every open position of the coin, largest value first (docs/exports.md).
"""

from __future__ import annotations

import polars as pl

from hltracker.exports.base import dumps
from hltracker.model.wire import iso_ms
from hltracker.store import SnapshotInfo, Store

# The CSV header (seeds/000, "CSV content preview") -> the `open_positions` column it comes from.
OPEN_POSITION_COLUMNS: dict[str, str] = {
    "id": "id",
    "address": "address",
    "coin": "coin",
    "side": "side",
    "dex": "dex",
    "size": "size",
    "value": "value",
    "entryPrice": "entry_price",
    "unrealizedPnl": "unrealized_pnl",
    "funding": "funding",
    "liquidationPrice": "liquidation_price",
    "liquidationProgress": "liquidation_progress",
    "crossLeverage": "cross_leverage",
    "isolatedLeverage": "isolated_leverage",
    "openTime": "open_time",
    "profile_totalEquity": "profile_total_equity",
    "profile_perpEquity": "profile_perp_equity",
    "profile_countOpenPositions": "profile_count_open_positions",
    "profile_pnl": "profile_pnl",
    "profile_balance": "profile_balance",
    "profile_perpPnlSegmentId": "pnl_segment_id",
    "profile_sizeSegmentId": "size_segment_id",
}
_ISO_MS = "%Y-%m-%dT%H:%M:%S%.3fZ"  # what model.wire.iso_ms writes, as a Polars format


def open_position_records(positions: pl.DataFrame) -> pl.DataFrame:
    """The rows of `open_positions_by_coin` as the export columns, in order, `openTime` as ISO text."""
    return positions.select(
        pl.col("open_time").dt.convert_time_zone("UTC").dt.strftime(_ISO_MS).alias("openTime")
        if csv_name == "openTime" else pl.col(column).alias(csv_name)
        for csv_name, column in OPEN_POSITION_COLUMNS.items()
    )


def open_positions_csv(store: Store, snapshot: SnapshotInfo, coin: str) -> bytes:
    """`open-positions`: the CSV file (null liquidation price or progress: an empty cell)."""
    records = open_position_records(store.query("open_positions_by_coin", coin=coin))
    return records.write_csv().encode()


def open_positions_json(store: Store, snapshot: SnapshotInfo, coin: str) -> bytes:
    """`open-positions-json`: the same records as a JSON list of objects."""
    return dumps(open_position_records(store.query("open_positions_by_coin", coin=coin)).to_dicts())


def positions(store: Store, snapshot: SnapshotInfo, coin: str) -> bytes:
    """`positions`: the same records under `{"coin", "createdAt", "positions"}`."""
    frame = store.query("open_positions_by_coin", coin=coin)
    # A current table: label the file with the snapshot the rows really come from (a newer one may
    # have landed since `snapshot` was read).
    created_at = frame["taken_at"][0] if frame.height else snapshot.taken_at
    return dumps({"coin": coin, "createdAt": iso_ms(created_at), "positions": open_position_records(frame).to_dicts()})
