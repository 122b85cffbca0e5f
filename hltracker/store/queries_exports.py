"""Named read queries used only by the export file builders (`hltracker/exports/`).

Same conventions as `queries.py` (whose `QUERIES` includes these): `$name` parameters, a `--` comment
on the first line saying what the query returns, portable SQL for DuckDB and PostgreSQL.

The exports sample a history at fixed UTC boundaries (every 2 or 12 hours): the builder picks the
snapshot ids in Python from `snapshots_between`, then reads the figures of exactly those snapshots
with one `..._at_snapshots` query (`snapshot_id = ANY($snapshot_ids)`), zero-filled like the series
queries of `queries.py` (filled rows get the ids of `layout.FILLED_ROW_OFFSET`).
"""

from __future__ import annotations

from hltracker.model.cohorts import PNL_COHORT_IDS, SIZE_COHORT_IDS
from hltracker.model.outputs import POSITION_FIGURES
from hltracker.store.layout import FILLED_ROW_OFFSET, ROW_ID_BASE

_SEGMENT_IDS: tuple[int, ...] = tuple(sorted(SIZE_COHORT_IDS + PNL_COHORT_IDS))
_SEGMENT_FIGURES_ZERO = (
    "open_value", "open_long_value", "open_short_value", "active_perp_equity", "perp_equity", "count_traders",
    "count_traders_in_position", "count_traders_in_profit", "count_open_positions", "count_open_positions_long",
    "count_assets",
)


def _zeros(columns) -> str:
    return ",\n    ".join(f"COALESCE(r.{c}, 0) AS {c}" for c in columns)


def _filled_id(k: str) -> str:
    return f"COALESCE(r.id, s.snapshot_id * {ROW_ID_BASE} + {FILLED_ROW_OFFSET} + {k}) AS id"


_SEGMENTS = "(VALUES " + ", ".join(f"({i})" for i in _SEGMENT_IDS) + ") AS g(segment_id)"

EXPORT_QUERIES: dict[str, str] = {
    "coin_series_at_snapshots": f"""-- one coin's position figures at the given snapshots, newest first; zeros when none
SELECT
    {_filled_id("999")},
    s.snapshot_id,
    s.taken_at,
    CAST($coin AS VARCHAR) AS coin,
    r.dex,
    {_zeros(POSITION_FIGURES)}
FROM snapshots s
LEFT JOIN coin_series r ON r.snapshot_id = s.snapshot_id AND r.coin = $coin
WHERE s.snapshot_id = ANY($snapshot_ids)
ORDER BY s.taken_at DESC""",
    "coin_segment_series_at_snapshots": f"""-- one coin x every cohort x age window at the given snapshots, by segment
SELECT
    {_filled_id("g.segment_id")},
    s.snapshot_id,
    s.taken_at,
    CAST($coin AS VARCHAR) AS coin,
    CAST(g.segment_id AS SMALLINT) AS segment_id,
    CAST($age_window AS VARCHAR) AS age_window,
    {_zeros(POSITION_FIGURES)}
FROM {_SEGMENTS}
CROSS JOIN snapshots s
LEFT JOIN coin_segment_series r
    ON r.snapshot_id = s.snapshot_id AND r.coin = $coin AND r.age_window = $age_window AND r.segment_id = g.segment_id
WHERE s.snapshot_id = ANY($snapshot_ids)
ORDER BY g.segment_id, s.taken_at DESC""",
    "segment_series_at_snapshots": f"""-- every cohort x wallet-age window at the given snapshots, by segment
SELECT
    {_filled_id("g.segment_id")},
    s.snapshot_id,
    s.taken_at,
    CAST(g.segment_id AS SMALLINT) AS segment_id,
    CAST($age_window AS VARCHAR) AS age_window,
    r.bias,
    r.exposure_ratio,
    {_zeros(_SEGMENT_FIGURES_ZERO)}
FROM {_SEGMENTS}
CROSS JOIN snapshots s
LEFT JOIN segment_series r
    ON r.snapshot_id = s.snapshot_id AND r.age_window = $age_window AND r.segment_id = g.segment_id
WHERE s.snapshot_id = ANY($snapshot_ids)
ORDER BY g.segment_id, s.taken_at DESC""",
    "wallet_equity_daily": """-- the summed wallet equity at the last snapshot of each UTC day up to `end`, oldest first
SELECT w.* FROM wallet_equity_series w
JOIN (
    SELECT MAX(taken_at) AS taken_at FROM wallet_equity_series
    WHERE taken_at <= $end
    GROUP BY CAST(taken_at AT TIME ZONE 'UTC' AS DATE)
) d ON d.taken_at = w.taken_at
ORDER BY w.taken_at""",
    "market_at": """-- one market at a snapshot (none when the coin was not listed)
SELECT * FROM markets WHERE snapshot_id = $snapshot_id AND coin = $coin""",
}
