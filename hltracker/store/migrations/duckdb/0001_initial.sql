-- 0001 initial schema (DuckDB). Column names and types follow hltracker/model (MARKETS_SCHEMA and
-- outputs.OUTPUT_SCHEMAS); tests/test_store.py checks that they agree. Polars -> SQL: Int16 SMALLINT,
-- Int32 INTEGER, Int64 BIGINT, Float64 DOUBLE, String VARCHAR, Boolean BOOLEAN, Datetime(ms, UTC) TIMESTAMPTZ.
-- The per-snapshot tables carry no index or key: rows arrive in time order, so DuckDB's zone maps on
-- snapshot_id and taken_at prune as well as an index would, and appends stay fast.

-- One row per landed snapshot; snapshot_id counts 1, 2, 3, ... in taken_at order.
CREATE TABLE snapshots (
    snapshot_id BIGINT PRIMARY KEY,
    taken_at TIMESTAMPTZ NOT NULL UNIQUE,
    source VARCHAR NOT NULL,
    height BIGINT,
    extra VARCHAR NOT NULL,  -- JSON object of source-specific facts
    landed_at TIMESTAMPTZ NOT NULL,
    position_count BIGINT NOT NULL,  -- open positions at the snapshot
    wallet_count BIGINT NOT NULL  -- wallets at the snapshot
);

-- API keys, stored hashed (the key itself is shown once, at creation).
CREATE TABLE api_keys (
    key_hash VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

-- Every market of every snapshot (MARKETS_SCHEMA), kept: mark prices and 24h volumes over time.
CREATE TABLE markets (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin VARCHAR,
    dex VARCHAR,
    mark_price DOUBLE,
    oracle_price DOUBLE,
    mid_price DOUBLE,
    premium DOUBLE,
    funding_rate DOUBLE,
    open_interest DOUBLE,
    day_ntl_volume DOUBLE,
    max_leverage INTEGER,
    sz_decimals INTEGER,
    is_delisted BOOLEAN,
    only_isolated BOOLEAN
);

-- Series (appended per snapshot, kept). id = snapshot_id * 1000000 + row index within the snapshot.
-- coin_series: per coin, the eight position figures (/position-metrics/coin/{coin}).
CREATE TABLE coin_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin VARCHAR,
    dex VARCHAR,
    position_count BIGINT,
    position_count_long BIGINT,
    total_position_value DOUBLE,
    total_position_value_long DOUBLE,
    total_funding DOUBLE,
    total_unrealized_pnl DOUBLE,
    total_position_size DOUBLE,
    total_position_size_long DOUBLE,
    value_close_to_liquidation DOUBLE
);

-- Per coin x cohort x age window; only non-empty groups are stored (queries fill zeros).
CREATE TABLE coin_segment_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin VARCHAR,
    segment_id SMALLINT,
    age_window VARCHAR,
    position_count BIGINT,
    position_count_long BIGINT,
    total_position_value DOUBLE,
    total_position_value_long DOUBLE,
    total_funding DOUBLE,
    total_unrealized_pnl DOUBLE,
    total_position_size DOUBLE,
    total_position_size_long DOUBLE,
    value_close_to_liquidation DOUBLE
);

-- Per coin x position-size bucket; only non-empty groups are stored.
CREATE TABLE coin_bucket_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin VARCHAR,
    size_bucket_id SMALLINT,
    position_count BIGINT,
    position_count_long BIGINT,
    total_position_value DOUBLE,
    total_position_value_long DOUBLE,
    total_funding DOUBLE,
    total_unrealized_pnl DOUBLE,
    total_position_size DOUBLE,
    total_position_size_long DOUBLE,
    value_close_to_liquidation DOUBLE
);

-- Market-wide counts, open interest, perp equity: one row per snapshot.
CREATE TABLE general_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    count BIGINT,
    count_long BIGINT,
    count_short BIGINT,
    open_interest DOUBLE,
    open_interest_long DOUBLE,
    open_interest_short DOUBLE,
    perp_equity DOUBLE,
    count_in_profit BIGINT
);

-- Summed wallet equity by kind: one row per snapshot.
CREATE TABLE wallet_equity_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    total_equity DOUBLE,
    perp_equity DOUBLE,
    spot_equity DOUBLE,
    staking_equity DOUBLE,
    vault_equity DOUBLE
);

-- Summed 24h notional volume over markets: one row per snapshot.
CREATE TABLE perp_volume_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    volume DOUBLE
);

-- Per cohort x wallet-age window: bias history and segment summary figures.
CREATE TABLE segment_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    segment_id SMALLINT,
    age_window VARCHAR,
    bias DOUBLE,
    exposure_ratio DOUBLE,
    open_value DOUBLE,
    open_long_value DOUBLE,
    open_short_value DOUBLE,
    active_perp_equity DOUBLE,
    perp_equity DOUBLE,
    count_traders BIGINT,
    count_traders_in_position BIGINT,
    count_traders_in_profit BIGINT,
    count_open_positions BIGINT,
    count_open_positions_long BIGINT,
    count_assets BIGINT
);

-- Current tables (the latest snapshot only, replaced whole by each landing).
-- wallets: every wallet's current profile and cohorts.
CREATE TABLE wallets (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    address VARCHAR,
    perp_equity DOUBLE,
    spot_equity DOUBLE,
    staking_equity DOUBLE,
    vault_equity DOUBLE,
    total_equity DOUBLE,
    balance DOUBLE,
    all_time_pnl DOUBLE,
    perp_volume_30d DOUBLE,
    count_open_positions INTEGER,
    open_value DOUBLE,
    open_long_value DOUBLE,
    open_short_value DOUBLE,
    unrealized_pnl DOUBLE,
    is_active BOOLEAN,
    size_segment_id SMALLINT,
    pnl_segment_id SMALLINT
);

-- Open lifecycles: what /positions lists as open, and the state the next engine run starts from.
CREATE TABLE open_positions (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    id VARCHAR,
    address VARCHAR,
    coin VARCHAR,
    dex VARCHAR,
    side VARCHAR,
    szi DOUBLE,
    size DOUBLE,
    value DOUBLE,
    entry_price DOUBLE,
    mark_price DOUBLE,
    mid_price DOUBLE,
    premium DOUBLE,
    sz_decimals INTEGER,
    asset_max_leverage INTEGER,
    max_leverage INTEGER,
    leverage_type VARCHAR,
    cross_leverage INTEGER,
    isolated_leverage INTEGER,
    margin_used DOUBLE,
    liquidation_price DOUBLE,
    liquidation_progress DOUBLE,
    unrealized_pnl DOUBLE,
    funding DOUBLE,
    open_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
    profile_total_equity DOUBLE,
    profile_perp_equity DOUBLE,
    profile_count_open_positions INTEGER,
    profile_pnl DOUBLE,
    profile_balance DOUBLE,
    size_segment_id SMALLINT,
    pnl_segment_id SMALLINT,
    size_bucket_id SMALLINT
);

-- Per coin x age window (/heatmap coin totals).
CREATE TABLE heatmap_coins (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin VARCHAR,
    age_window VARCHAR,
    total_value DOUBLE,
    total_long_value DOUBLE,
    total_short_value DOUBLE,
    count BIGINT,
    count_long BIGINT,
    count_short BIGINT,
    bias DOUBLE
);

-- Per coin x cohort x age window (/heatmap cells).
CREATE TABLE heatmap_cells (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin VARCHAR,
    age_window VARCHAR,
    segment_id SMALLINT,
    total_value DOUBLE,
    total_long_value DOUBLE,
    total_short_value DOUBLE,
    count BIGINT,
    count_long BIGINT,
    count_short BIGINT,
    bias DOUBLE
);

-- Per cohort x age window, the top coins by value.
CREATE TABLE segment_top_assets (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    segment_id SMALLINT,
    age_window VARCHAR,
    rank SMALLINT,
    coin VARCHAR,
    total_value DOUBLE,
    total_long_value DOUBLE,
    total_short_value DOUBLE,
    count BIGINT,
    count_long BIGINT,
    count_short BIGINT,
    bias DOUBLE
);

-- Per cohort x coin, value close to liquidation.
CREATE TABLE liquidation_risk (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    segment_id SMALLINT,
    coin VARCHAR,
    total_value DOUBLE,
    risk_value DOUBLE,
    percent_risk DOUBLE
);

-- Per coin, 100 price bins of liquidation value.
CREATE TABLE liquidation_bins (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin VARCHAR,
    price_bin_index SMALLINT,
    price_bin_start DOUBLE,
    price_bin_end DOUBLE,
    liquidation_value DOUBLE,
    liquidation_value_long DOUBLE,
    liquidation_value_short DOUBLE,
    positions_count BIGINT,
    cumulative_value DOUBLE,
    most_impacted_segment SMALLINT,
    most_impacted_pnl_segment SMALLINT
);

-- Lifecycles that ended, appended at the snapshot that saw them end, with their last seen values.
CREATE TABLE closed_positions (
    snapshot_id BIGINT NOT NULL,
    id VARCHAR,
    address VARCHAR,
    coin VARCHAR,
    dex VARCHAR,
    side VARCHAR,
    szi DOUBLE,
    size DOUBLE,
    value DOUBLE,
    entry_price DOUBLE,
    mark_price DOUBLE,
    mid_price DOUBLE,
    premium DOUBLE,
    sz_decimals INTEGER,
    asset_max_leverage INTEGER,
    max_leverage INTEGER,
    leverage_type VARCHAR,
    cross_leverage INTEGER,
    isolated_leverage INTEGER,
    margin_used DOUBLE,
    liquidation_price DOUBLE,
    liquidation_progress DOUBLE,
    unrealized_pnl DOUBLE,
    funding DOUBLE,
    open_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
    profile_total_equity DOUBLE,
    profile_perp_equity DOUBLE,
    profile_count_open_positions INTEGER,
    profile_pnl DOUBLE,
    profile_balance DOUBLE,
    size_segment_id SMALLINT,
    pnl_segment_id SMALLINT,
    size_bucket_id SMALLINT,
    close_time TIMESTAMPTZ,
    closed_by_liquidation BOOLEAN
);
