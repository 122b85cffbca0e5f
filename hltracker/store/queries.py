"""The named read queries: every read of the API, exports and dashboard goes through one of these.

`QUERIES[name]` is SQL with `$name` parameters (DuckDB's native named parameters; the PostgreSQL
backend translates them). Each query's first line is a `--` comment saying what it returns. Every
parameter a query names must be passed; optional filters are passed as None and the SQL reads
`CAST($x AS <type>) IS NULL OR ...` (PostgreSQL cannot tell the type of a bare `$x IS NULL`).
Timestamps are timezone-aware UTC.

Conventions:
- Time series come newest first, one row per snapshot, keyset-paginated on `taken_at`:
  `start <= taken_at <= end`, `taken_at < before` (the cursor: the last `taken_at` of the previous
  page, or None for the first page), at most `limit` rows.
- The engine stores only non-empty groups; the per-coin x segment, x size-bucket, coin and segment
  series and the segment/bucket breakdowns fill the missing groups with zero rows (null bias), with the
  ids of `layout.FILLED_ROW_OFFSET`: `snapshot_id * 1000000 + 999000 + segment or bucket id`, or
  `+ 999999` for a coin row. Such an id is unique within one series, not across series.
- Sorting on a nullable column says `NULLS LAST` explicitly: the backends' defaults differ.
- SQL here stays portable between DuckDB and PostgreSQL: no `epoch()`, no list functions, no `SELECT *
  EXCLUDE`; `= ANY($list)` and `CAST('infinity' AS TIMESTAMPTZ)` work on both.
"""

from __future__ import annotations

from hltracker.model.cohorts import PNL_COHORT_IDS, SIZE_COHORT_IDS
from hltracker.model.outputs import (
    CLOSED_POSITIONS_SCHEMA,
    CLOSED_TRADES_SCHEMA,
    OPEN_POSITIONS_SCHEMA,
    POSITION_FIGURES,
    STORED_FILLS_SCHEMA,
)
from hltracker.model.size_buckets import SIZE_BUCKET_IDS
from hltracker.store.layout import FILLED_ROW_OFFSET, ROW_ID_BASE

SEGMENT_IDS: tuple[int, ...] = tuple(sorted(SIZE_COHORT_IDS + PNL_COHORT_IDS))

# The keyset page of snapshots a time series shows (alias `s`).
_PAGE = """page AS (
    SELECT snapshot_id, taken_at FROM snapshots
    WHERE {range}
    ORDER BY taken_at DESC
    LIMIT $limit
)"""
_RANGE = "taken_at >= $start AND taken_at <= $end AND taken_at < COALESCE($before, CAST('infinity' AS TIMESTAMPTZ))"
_SNAPSHOT_COLUMNS = "snapshot_id, taken_at, source, height, extra, landed_at, position_count, wallet_count"

_SEGMENT_FIGURES_ZERO = (
    "open_value", "open_long_value", "open_short_value", "active_perp_equity", "perp_equity", "count_traders",
    "count_traders_in_position", "count_traders_in_profit", "count_open_positions", "count_open_positions_long",
    "count_assets",
)
_SEGMENT_FIGURES_NULL = ("bias", "exposure_ratio")  # ratios: null for an empty cohort


def _range(alias: str = "") -> str:
    return _RANGE.replace("taken_at", f"{alias}taken_at")


def _zeros(columns, alias: str = "r") -> str:
    return ",\n    ".join(f"COALESCE({alias}.{c}, 0) AS {c}" for c in columns)


def _plain(columns, alias: str = "r") -> str:
    return ",\n    ".join(f"{alias}.{c}" for c in columns)


def _filled_id(k: str) -> str:
    return f"COALESCE(r.id, s.snapshot_id * {ROW_ID_BASE} + {FILLED_ROW_OFFSET} + {k}) AS id"


def _values(name: str, ids: tuple[int, ...]) -> str:
    rows = ", ".join(f"({i})" for i in ids)
    return f"(VALUES {rows}) AS g({name})"


def _snapshot(snapshot_id: str = "$snapshot_id") -> str:
    return f"(SELECT snapshot_id, taken_at FROM snapshots WHERE snapshot_id = {snapshot_id}) s"


def _coin_segment_rows(where: str) -> str:
    """One coin x every cohort x an age window at the snapshots `where` picks (alias `s`), zero-filled."""
    return f"""
SELECT
    {_filled_id("g.segment_id")},
    s.snapshot_id,
    s.taken_at,
    CAST($coin AS VARCHAR) AS coin,
    CAST(g.segment_id AS SMALLINT) AS segment_id,
    CAST($age_window AS VARCHAR) AS age_window,
    {_zeros(POSITION_FIGURES)}
FROM {_values("segment_id", SEGMENT_IDS)}
CROSS JOIN snapshots s
LEFT JOIN coin_segment_series r
    ON r.snapshot_id = s.snapshot_id AND r.coin = $coin AND r.age_window = $age_window AND r.segment_id = g.segment_id
WHERE {where}
ORDER BY g.segment_id, s.taken_at DESC"""


def _segment_rows(where: str) -> str:
    """Every cohort x a wallet-age window at the snapshots `where` picks, zero-filled (null ratios when empty)."""
    return f"""
SELECT
    {_filled_id("g.segment_id")},
    s.snapshot_id,
    s.taken_at,
    CAST(g.segment_id AS SMALLINT) AS segment_id,
    CAST($age_window AS VARCHAR) AS age_window,
    {_plain(_SEGMENT_FIGURES_NULL)},
    {_zeros(_SEGMENT_FIGURES_ZERO)}
FROM {_values("segment_id", SEGMENT_IDS)}
CROSS JOIN snapshots s
LEFT JOIN segment_series r
    ON r.snapshot_id = s.snapshot_id AND r.age_window = $age_window AND r.segment_id = g.segment_id
WHERE {where}
ORDER BY g.segment_id, s.taken_at DESC"""


_ONE_SNAPSHOT = "s.snapshot_id = $snapshot_id"
_SOME_SNAPSHOTS = "s.snapshot_id = ANY($snapshot_ids)"


def _plain_series(table: str, where: str = "TRUE") -> str:
    return f"""
SELECT * FROM {table}
WHERE {where} AND {_range()}
ORDER BY taken_at DESC
LIMIT $limit"""


_POSITION_COLUMNS = ", ".join(OPEN_POSITIONS_SCHEMA.names())
_LIFECYCLE_COLUMNS = ", ".join(f"p.{c}" for c in CLOSED_POSITIONS_SCHEMA.names())

QUERIES: dict[str, str] = {
    # --- snapshots ---
    "latest_snapshot": f"""-- the snapshot landed last (none when the store is empty)
SELECT {_SNAPSHOT_COLUMNS} FROM snapshots ORDER BY snapshot_id DESC LIMIT 1""",
    "snapshot_at": f"""-- the snapshot with this id
SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE snapshot_id = $snapshot_id""",
    "snapshots_between": f"""-- every snapshot with start <= taken_at <= end, oldest first
SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE taken_at >= $start AND taken_at <= $end ORDER BY taken_at""",
    "snapshot_nearest": f"""-- the snapshot nearest to `at`, the earlier on a tie ("24 hours earlier" of past fields)
SELECT {_SNAPSHOT_COLUMNS} FROM (
    (SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE taken_at <= $at ORDER BY taken_at DESC LIMIT 1)
    UNION ALL
    (SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE taken_at > $at ORDER BY taken_at LIMIT 1)
) c
ORDER BY GREATEST(taken_at - $at, $at - taken_at), taken_at
LIMIT 1""",
    # --- time series, newest first, keyset on taken_at ---
    "coin_series": f"""-- one coin's position figures per snapshot (/position-metrics/coin/{{coin}}); zeros when none
WITH {_PAGE.format(range=_range())}
SELECT
    COALESCE(r.id, s.snapshot_id * {ROW_ID_BASE} + {FILLED_ROW_OFFSET} + 999) AS id,
    s.snapshot_id,
    s.taken_at,
    CAST($coin AS VARCHAR) AS coin,
    r.dex,
    {_zeros(POSITION_FIGURES)}
FROM page s
LEFT JOIN coin_series r ON r.snapshot_id = s.snapshot_id AND r.coin = $coin AND {_range("r.")}
ORDER BY s.taken_at DESC""",
    "coin_segment_series": f"""-- one coin x cohort x age window per snapshot; zeros when the cohort held none of it
WITH {_PAGE.format(range=_range())}
SELECT
    {_filled_id("$segment_id")},
    s.snapshot_id,
    s.taken_at,
    CAST($coin AS VARCHAR) AS coin,
    CAST($segment_id AS SMALLINT) AS segment_id,
    CAST($age_window AS VARCHAR) AS age_window,
    {_zeros(POSITION_FIGURES)}
FROM page s
LEFT JOIN coin_segment_series r
    ON r.snapshot_id = s.snapshot_id AND r.coin = $coin AND r.segment_id = $segment_id
    AND r.age_window = $age_window AND {_range("r.")}
ORDER BY s.taken_at DESC""",
    "coin_bucket_series": f"""-- one coin x position-size bucket per snapshot; zeros where the bucket was empty
WITH {_PAGE.format(range=_range())}
SELECT
    {_filled_id("$size_bucket_id")},
    s.snapshot_id,
    s.taken_at,
    CAST($coin AS VARCHAR) AS coin,
    CAST($size_bucket_id AS SMALLINT) AS size_bucket_id,
    {_zeros(POSITION_FIGURES)}
FROM page s
LEFT JOIN coin_bucket_series r
    ON r.snapshot_id = s.snapshot_id AND r.coin = $coin AND r.size_bucket_id = $size_bucket_id AND {_range("r.")}
ORDER BY s.taken_at DESC""",
    "segment_series": f"""-- one cohort x wallet-age window per snapshot (bias history); zeros, null ratios when empty
WITH {_PAGE.format(range=_range())}
SELECT
    {_filled_id("$segment_id")},
    s.snapshot_id,
    s.taken_at,
    CAST($segment_id AS SMALLINT) AS segment_id,
    CAST($age_window AS VARCHAR) AS age_window,
    {_plain(_SEGMENT_FIGURES_NULL)},
    {_zeros(_SEGMENT_FIGURES_ZERO)}
FROM page s
LEFT JOIN segment_series r
    ON r.snapshot_id = s.snapshot_id AND r.segment_id = $segment_id AND r.age_window = $age_window AND {_range("r.")}
ORDER BY s.taken_at DESC""",
    "general_series": "-- market-wide counts, open interest, perp equity per snapshot"
    + _plain_series("general_series"),
    "wallet_equity_series": "-- summed wallet equity by kind per snapshot" + _plain_series("wallet_equity_series"),
    "perp_volume_series": "-- summed 24h notional volume per snapshot" + _plain_series("perp_volume_series"),
    # --- the rows of one snapshot ---
    "coin_rows_at": """-- every coin with open positions at a snapshot, largest first (/positions/coins)
SELECT * FROM coin_series WHERE snapshot_id = $snapshot_id ORDER BY total_position_value DESC, coin""",
    "coin_segment_rows_at": "-- one coin at a snapshot, every cohort (zeros for the empty ones), by segment id"
    + _coin_segment_rows(_ONE_SNAPSHOT),
    "coin_bucket_rows_at": f"""-- one coin at a snapshot, every size bucket (zeros for the empty ones), by bucket id
SELECT
    {_filled_id("g.size_bucket_id")},
    s.snapshot_id,
    s.taken_at,
    CAST($coin AS VARCHAR) AS coin,
    CAST(g.size_bucket_id AS SMALLINT) AS size_bucket_id,
    {_zeros(POSITION_FIGURES)}
FROM {_values("size_bucket_id", SIZE_BUCKET_IDS)}
CROSS JOIN {_snapshot()}
LEFT JOIN coin_bucket_series r
    ON r.snapshot_id = s.snapshot_id AND r.coin = $coin AND r.size_bucket_id = g.size_bucket_id
ORDER BY g.size_bucket_id""",
    "segment_series_at": "-- every cohort at a snapshot for one wallet-age window (zeros, null ratios when empty)"
    + _segment_rows(_ONE_SNAPSHOT),
    "wallet_equity_at": """-- the summed wallet equity at a snapshot
SELECT * FROM wallet_equity_series WHERE snapshot_id = $snapshot_id""",
    "wallet_equity_ath": """-- the all-time high of each wallet-equity column on its own (nulls when empty)
SELECT
    MAX(total_equity) AS total_equity,
    MAX(perp_equity) AS perp_equity,
    MAX(spot_equity) AS spot_equity,
    MAX(staking_equity) AS staking_equity,
    MAX(vault_equity) AS vault_equity
FROM wallet_equity_series""",
    "markets_at": """-- every market at a snapshot, by coin
SELECT * FROM markets WHERE snapshot_id = $snapshot_id ORDER BY coin""",
    # --- the latest snapshot (current tables) ---
    "markets_latest": """-- every market at the latest snapshot, by coin
SELECT * FROM markets WHERE snapshot_id = (SELECT MAX(snapshot_id) FROM snapshots) ORDER BY coin""",
    "heatmap_coins": """-- per-coin totals of the heatmap for one age window, largest first
SELECT * FROM heatmap_coins WHERE age_window = $age_window ORDER BY total_value DESC, coin""",
    "heatmap_cells": """-- the coin x cohort cells of the heatmap for one age window
SELECT * FROM heatmap_cells WHERE age_window = $age_window ORDER BY coin, segment_id""",
    "segment_top_assets": """-- a cohort's top coins by value for one wallet-age window, by rank
SELECT * FROM segment_top_assets WHERE segment_id = $segment_id AND age_window = $age_window ORDER BY rank""",
    "liquidation_risk": """-- a cohort's coins by share of value close to liquidation, riskiest first, one page
SELECT * FROM liquidation_risk WHERE segment_id = $segment_id
ORDER BY percent_risk DESC NULLS LAST, coin
LIMIT $limit OFFSET $offset""",
    "liquidation_risk_count": """-- how many coins `liquidation_risk` lists for a cohort
SELECT COUNT(*) AS count FROM liquidation_risk WHERE segment_id = $segment_id""",
    "liquidation_bins": """-- one coin's liquidation heatmap: 100 price bins, lowest price first
SELECT * FROM liquidation_bins WHERE coin = $coin ORDER BY price_bin_index""",
    "open_positions_by_coin": """-- every open position of one coin, largest first (the open-positions CSV)
SELECT * FROM open_positions WHERE coin = $coin ORDER BY value DESC, id""",
    "wallet": """-- one wallet's current profile (none when unknown)
SELECT * FROM wallets WHERE address = $address""",
    "coins_known": """-- every coin any stored snapshot listed, with its dex (the API resolves coin names against it)
SELECT coin, dex FROM coins ORDER BY coin""",
    "recent_snapshots": f"""-- the last `limit` snapshots, newest first (snapshot cadence for the state status)
SELECT {_SNAPSHOT_COLUMNS} FROM snapshots ORDER BY snapshot_id DESC LIMIT $limit""",
    # --- lifecycles: the `positions_by_<column>_<order>` family below ---
    # --- sampled history for the export files: the builder picks snapshot ids (exports/sampling.py) ---
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
    "coin_segment_series_at_snapshots": "-- one coin x every cohort x age window at the given snapshots, by segment"
    + _coin_segment_rows(_SOME_SNAPSHOTS),
    "segment_series_at_snapshots": "-- every cohort x wallet-age window at the given snapshots, by segment"
    + _segment_rows(_SOME_SNAPSHOTS),
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
    # --- api keys ---
    "api_key": """-- one API key by its hash (none when unknown)
SELECT key_hash, name, created_at, revoked_at FROM api_keys WHERE key_hash = $key_hash""",
    "api_keys": """-- every API key, oldest first
SELECT key_hash, name, created_at, revoked_at FROM api_keys ORDER BY created_at, key_hash""",
}

# `GET /positions` ordered by one figure: `positions_by_<column>_<asc|desc>`, keyset-paginated on
# (column, id) in the same direction. The columns are never null, so the keyset needs no null handling.
POSITION_ORDER_COLUMNS: tuple[str, ...] = ("open_time", "unrealized_pnl", "value", "size", "funding", "updated_at")


def _positions_ordered(column: str, direction: str) -> str:
    op = ">" if direction == "asc" else "<"
    return f"""-- lifecycles alive in [start, end] (null: unbounded), filtered, by {column} {direction} then id
SELECT {_LIFECYCLE_COLUMNS} FROM (
    SELECT {_POSITION_COLUMNS}, CAST(NULL AS TIMESTAMPTZ) AS close_time, FALSE AS closed_by_liquidation
    FROM open_positions
    UNION ALL
    SELECT {_POSITION_COLUMNS}, close_time, closed_by_liquidation
    FROM closed_positions
) p
WHERE (CAST($end AS TIMESTAMPTZ) IS NULL OR p.open_time <= $end)
    AND (CAST($start AS TIMESTAMPTZ) IS NULL OR p.close_time IS NULL OR p.close_time >= $start)
    AND (CAST($coin AS VARCHAR) IS NULL OR p.coin = $coin)
    AND (CAST($addresses AS VARCHAR[]) IS NULL OR p.address = ANY($addresses))
    AND (CAST($open AS BOOLEAN) IS NULL OR (p.close_time IS NULL) = $open)
    AND (CAST($segment_id AS SMALLINT) IS NULL OR p.size_segment_id = $segment_id OR p.pnl_segment_id = $segment_id)
    AND (CAST($after_id AS VARCHAR) IS NULL OR p.{column} {op} $after_value
         OR (p.{column} = $after_value AND p.id {op} $after_id))
ORDER BY p.{column} {direction.upper()}, p.id {direction.upper()}
LIMIT $limit"""


for _column in POSITION_ORDER_COLUMNS:
    for _direction in ("asc", "desc"):
        QUERIES[f"positions_by_{_column}_{_direction}"] = _positions_ordered(_column, _direction)



# --- fills and closed trades (api/routes/fills.py and api/routes/closed_trades.py) ---
# Fills page on their `id`, which grows with time (layout.py); a trade keyset is (close_time, hash).
# "A wallet's own liquidation" is a liquidation fill whose liquidated user is the fill's own address.

_FILL_COLUMNS = ", ".join(("id", *STORED_FILLS_SCHEMA.names()))
_TRADE_COLUMNS = ", ".join(CLOSED_TRADES_SCHEMA.names())
_LIQUIDATION_FILTERS = """is_liquidation AND liquidated_user = address
    AND time >= $start AND time <= $end
    AND (CAST($coin AS VARCHAR) IS NULL OR coin = $coin)
    AND (CAST($address AS VARCHAR) IS NULL OR address = $address)
    AND (CAST($side AS VARCHAR) IS NULL OR side = $side)"""

QUERIES.update({
    "fills_of_wallets": f"""-- fills of some wallets in [start, end], filtered, oldest first, after the cursor's id
SELECT {_FILL_COLUMNS} FROM fills
WHERE address = ANY($addresses) AND time >= $start AND time <= $end
    AND (CAST($coins AS VARCHAR[]) IS NULL OR coin = ANY($coins))
    AND (CAST($side AS VARCHAR) IS NULL OR side = $side)
    AND (CAST($dir AS VARCHAR) IS NULL OR dir = $dir)
    AND (CAST($after_id AS BIGINT) IS NULL OR id > $after_id)
ORDER BY id
LIMIT $limit""",
    "liquidation_fills_newest": f"""-- own liquidation fills in [start, end], filtered, newest first, before the cursor
SELECT {_FILL_COLUMNS} FROM fills
WHERE {_LIQUIDATION_FILTERS}
    AND (CAST($after_id AS BIGINT) IS NULL OR id < $after_id)
ORDER BY id DESC
LIMIT $limit""",
    "liquidation_fills_oldest": f"""-- own liquidation fills in [start, end], filtered, oldest first, after the cursor
SELECT {_FILL_COLUMNS} FROM fills
WHERE {_LIQUIDATION_FILTERS}
    AND (CAST($after_id AS BIGINT) IS NULL OR id > $after_id)
ORDER BY id
LIMIT $limit""",
    "closed_trades_of_wallet": f"""-- a wallet's trades closed in [start, end], newest close first, after the cursor
SELECT {_TRADE_COLUMNS} FROM closed_trades
WHERE address = $address AND close_time >= $start AND close_time <= $end
    AND (CAST($coin AS VARCHAR) IS NULL OR coin = $coin)
    AND (CAST($after_hash AS VARCHAR) IS NULL OR close_time < $after_time
         OR (close_time = $after_time AND hash < $after_hash))
ORDER BY close_time DESC, hash DESC
LIMIT $limit""",
    "closed_trades_since": f"""-- a wallet's trades closed at or after `since`, newest close first, at most `limit`
SELECT {_TRADE_COLUMNS} FROM closed_trades
WHERE address = $address AND close_time >= $since
ORDER BY close_time DESC, hash DESC
LIMIT $limit""",
    "closed_trade": f"""-- one closed trade by its hash (none when unknown or still open)
SELECT {_TRADE_COLUMNS} FROM closed_trades WHERE hash = $hash""",
    "trade_fills": f"""-- one trade's fills (a flip's is in both trades), open to close, oldest first, after the cursor
SELECT {_FILL_COLUMNS} FROM fills
WHERE (trade_hash = $hash OR flip_trade_hash = $hash) AND time >= $open_time AND time <= $close_time
    AND (CAST($after_id AS BIGINT) IS NULL OR id > $after_id)
ORDER BY id
LIMIT $limit""",
})
# =====================================================================================================
# Wallets and leaderboards (routes/wallets.py, routes/leaderboards.py): the current `wallets` profile,
# the wallet's riskiest open position, and `wallet_history` (a row per wallet whose all-time PnL changed
# at a snapshot; its figure at snapshot S is its latest row with snapshot_id <= S).
# =====================================================================================================

# orderBy of /wallets -> the column of `_WALLET_ROWS`; `address` breaks ties, so pages never overlap.
WALLET_ORDER_COLUMNS: tuple[str, ...] = (
    "address", "total_equity", "earliest_activity_at", "all_time_pnl", "perp_equity", "perp_bias", "open_value",
    "unrealized_pnl", "closest_liq_progress", "count_open_positions", "exposure_ratio",
)

_WALLET_ROWS = """SELECT
    w.address, w.total_equity, w.perp_equity, w.spot_equity, w.staking_equity, w.vault_equity, w.balance,
    w.all_time_pnl, w.perp_volume_30d, w.count_open_positions, w.open_value, w.open_long_value,
    w.open_short_value, w.unrealized_pnl, w.size_segment_id, w.pnl_segment_id,
    CASE WHEN w.perp_equity > 0 THEN (w.open_long_value - w.open_short_value) / w.perp_equity END AS perp_bias,
    CASE WHEN w.perp_equity > 0 THEN w.open_value / w.perp_equity END AS exposure_ratio,
    l.coin AS closest_liq_coin,
    l.liquidation_progress AS closest_liq_progress,
    f.first_seen AS earliest_activity_at
FROM wallets w
LEFT JOIN (
    SELECT address, coin, liquidation_progress,
        ROW_NUMBER() OVER (PARTITION BY address ORDER BY liquidation_progress DESC, coin) AS n
    FROM open_positions WHERE liquidation_progress IS NOT NULL
) l ON l.address = w.address AND l.n = 1
LEFT JOIN (SELECT address, MIN(taken_at) AS first_seen FROM wallet_history GROUP BY address) f
    ON f.address = w.address
WHERE w.is_active AND w.address IS NOT NULL
    AND (CAST($addresses AS VARCHAR[]) IS NULL OR w.address = ANY($addresses))
    AND (CAST($segment_ids AS SMALLINT[]) IS NULL OR w.size_segment_id = ANY($segment_ids)
         OR w.pnl_segment_id = ANY($segment_ids))
    AND (CAST($has_open_positions AS BOOLEAN) IS NULL OR (w.count_open_positions > 0) = $has_open_positions)"""

QUERIES["wallets_count"] = """-- how many active wallets /wallets lists under the filters
SELECT COUNT(*) AS count FROM wallets w
WHERE w.is_active AND w.address IS NOT NULL
    AND (CAST($addresses AS VARCHAR[]) IS NULL OR w.address = ANY($addresses))
    AND (CAST($segment_ids AS SMALLINT[]) IS NULL OR w.size_segment_id = ANY($segment_ids)
         OR w.pnl_segment_id = ANY($segment_ids))
    AND (CAST($has_open_positions AS BOOLEAN) IS NULL OR (w.count_open_positions > 0) = $has_open_positions)"""

for _column in WALLET_ORDER_COLUMNS:
    for _direction in ("asc", "desc"):
        QUERIES[f"wallets_by_{_column}_{_direction}"] = (
            f"-- one page of active wallets with their profile, by {_column} {_direction} (nulls last), "
            "then address\n"
            f"SELECT * FROM ({_WALLET_ROWS}) r\n"
            f"ORDER BY r.{_column} {_direction.upper()} NULLS LAST, r.address\nLIMIT $limit OFFSET $offset"
        )

QUERIES["wallet_pnl_as_of"] = """-- every wallet's all-time perp PnL as of snapshot $now_id, minus its
-- baselines for the periods: the figure at the latest row <= $day_id / $week_id / $month_id,
-- or, for a wallet first seen after that snapshot, its first row (first_seen says when)
WITH marks AS (
    SELECT address,
        MAX(snapshot_id) AS now_id,
        MIN(snapshot_id) AS first_id,
        COALESCE(MAX(CASE WHEN snapshot_id <= $day_id THEN snapshot_id END), MIN(snapshot_id)) AS day_id,
        COALESCE(MAX(CASE WHEN snapshot_id <= $week_id THEN snapshot_id END), MIN(snapshot_id)) AS week_id,
        COALESCE(MAX(CASE WHEN snapshot_id <= $month_id THEN snapshot_id END), MIN(snapshot_id)) AS month_id
    FROM wallet_history WHERE snapshot_id <= $now_id GROUP BY address
)
SELECT m.address,
    n.all_time_pnl AS pnl_all_time,
    n.all_time_pnl - d.all_time_pnl AS pnl_day,
    n.all_time_pnl - k.all_time_pnl AS pnl_week,
    n.all_time_pnl - o.all_time_pnl AS pnl_month,
    f.taken_at AS first_seen
FROM marks m
JOIN wallet_history n ON n.address = m.address AND n.snapshot_id = m.now_id
JOIN wallet_history f ON f.address = m.address AND f.snapshot_id = m.first_id
JOIN wallet_history d ON d.address = m.address AND d.snapshot_id = m.day_id
JOIN wallet_history k ON k.address = m.address AND k.snapshot_id = m.week_id
JOIN wallet_history o ON o.address = m.address AND o.snapshot_id = m.month_id
ORDER BY m.address"""

QUERIES["wallet_history_of"] = """-- one wallet's history rows (a row where its all-time PnL changed), oldest first
SELECT snapshot_id, taken_at, address, all_time_pnl FROM wallet_history WHERE address = $address ORDER BY snapshot_id"""

QUERIES["wallet_profiles"] = """-- every wallet's current figures the leaderboards show, by address
SELECT address, perp_equity, total_equity, all_time_pnl, perp_volume_30d, open_value, open_long_value,
    open_short_value, size_segment_id, pnl_segment_id,
    CASE WHEN perp_equity > 0 THEN (open_long_value - open_short_value) / perp_equity END AS perp_bias,
    CASE WHEN perp_equity > 0 THEN open_value / perp_equity END AS exposure_ratio
FROM wallets WHERE address IS NOT NULL ORDER BY address"""

QUERIES["biggest_positions"] = """-- open positions opened at or after $opened_after, largest value first,
-- one page, with the holder's profile
SELECT p.*, w.total_equity AS wallet_total_equity, w.perp_equity AS wallet_perp_equity,
    w.all_time_pnl AS wallet_pnl, w.open_value AS wallet_open_value
FROM open_positions p
JOIN wallets w ON w.address = p.address
WHERE p.open_time >= $opened_after
ORDER BY p.value DESC, p.id
LIMIT $limit OFFSET $offset"""

QUERIES["biggest_positions_count"] = """-- how many open positions were opened at or after $opened_after
SELECT COUNT(*) AS count FROM open_positions WHERE open_time >= $opened_after"""

# --- the market summary (routes/summary.py) ---
QUERIES["general_at"] = """-- the market-wide counts and open interest at a snapshot
SELECT * FROM general_series WHERE snapshot_id = $snapshot_id"""
QUERIES["perp_volume_at"] = """-- the summed 24h notional volume at a snapshot
SELECT * FROM perp_volume_series WHERE snapshot_id = $snapshot_id"""
QUERIES["active_wallet_count"] = """-- how many wallets are active at the latest snapshot
SELECT COUNT(*) AS count FROM wallets WHERE is_active"""
QUERIES["wallet_history_count_at"] = """-- how many wallet_history rows a snapshot wrote (bench_wallet_history.py)
SELECT COUNT(*) AS count FROM wallet_history WHERE snapshot_id = $snapshot_id"""

# --- funding payments (routes/fundings.py): page on their `id`, which grows with time (layout.py) ---
QUERIES["fundings_of_wallets"] = """-- funding payments of some wallets in [start, end], oldest first, after the cursor
SELECT id, time, address, coin, dex, usdc, szi, funding_rate FROM fundings
WHERE address = ANY($addresses) AND time >= $start AND time <= $end
    AND (CAST($coins AS VARCHAR[]) IS NULL OR coin = ANY($coins))
    AND (CAST($after_id AS BIGINT) IS NULL OR id > $after_id)
ORDER BY id
LIMIT $limit"""
