-- 0001 initial schema (PostgreSQL): the tables of the DuckDB migrations 0001 and 0002, same names, same
-- columns in the same order (tests/test_store.py checks both against hltracker/model). Polars -> SQL:
-- Int16 SMALLINT, Int32 INTEGER, Int64 BIGINT, Float64 DOUBLE PRECISION, String TEXT COLLATE "C",
-- Boolean BOOLEAN, Datetime(ms, UTC) TIMESTAMPTZ.
--
-- Text sorts by code point (COLLATE "C") whatever the database's locale, so ORDER BY coin gives the
-- order DuckDB gives, and both backends answer the API identically.
--
-- Citus-ready (hltracker/store/citus.py says which table goes where and prints the statements): no
-- table has a unique constraint or key that would have to include a distribution column, and there
-- are no foreign keys. The big per-coin tables are distributed by `coin`, positions and wallets by
-- `address`; the small ones become reference tables.

-- One row per landed snapshot; snapshot_id counts 1, 2, 3, ... in taken_at order.
CREATE TABLE snapshots (
    snapshot_id BIGINT PRIMARY KEY,
    taken_at TIMESTAMPTZ NOT NULL UNIQUE,
    source TEXT COLLATE "C" NOT NULL,
    height BIGINT,
    extra TEXT COLLATE "C" NOT NULL,  -- JSON object of source-specific facts
    landed_at TIMESTAMPTZ NOT NULL,
    position_count BIGINT NOT NULL,  -- open positions at the snapshot
    wallet_count BIGINT NOT NULL  -- wallets at the snapshot
);

-- API keys, stored hashed (the key itself is shown once, at creation).
CREATE TABLE api_keys (
    key_hash TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

-- Every market of every snapshot (MARKETS_SCHEMA), kept: mark prices and 24h volumes over time.
CREATE TABLE markets (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin TEXT COLLATE "C",
    dex TEXT COLLATE "C",
    mark_price DOUBLE PRECISION,
    oracle_price DOUBLE PRECISION,
    mid_price DOUBLE PRECISION,
    premium DOUBLE PRECISION,
    funding_rate DOUBLE PRECISION,
    open_interest DOUBLE PRECISION,
    day_ntl_volume DOUBLE PRECISION,
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
    coin TEXT COLLATE "C",
    dex TEXT COLLATE "C",
    position_count BIGINT,
    position_count_long BIGINT,
    total_position_value DOUBLE PRECISION,
    total_position_value_long DOUBLE PRECISION,
    total_funding DOUBLE PRECISION,
    total_unrealized_pnl DOUBLE PRECISION,
    total_position_size DOUBLE PRECISION,
    total_position_size_long DOUBLE PRECISION,
    value_close_to_liquidation DOUBLE PRECISION
);

-- Per coin x cohort x age window; only non-empty groups are stored (queries fill zeros).
CREATE TABLE coin_segment_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin TEXT COLLATE "C",
    segment_id SMALLINT,
    age_window TEXT COLLATE "C",
    position_count BIGINT,
    position_count_long BIGINT,
    total_position_value DOUBLE PRECISION,
    total_position_value_long DOUBLE PRECISION,
    total_funding DOUBLE PRECISION,
    total_unrealized_pnl DOUBLE PRECISION,
    total_position_size DOUBLE PRECISION,
    total_position_size_long DOUBLE PRECISION,
    value_close_to_liquidation DOUBLE PRECISION
);

-- Per coin x position-size bucket; only non-empty groups are stored.
CREATE TABLE coin_bucket_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin TEXT COLLATE "C",
    size_bucket_id SMALLINT,
    position_count BIGINT,
    position_count_long BIGINT,
    total_position_value DOUBLE PRECISION,
    total_position_value_long DOUBLE PRECISION,
    total_funding DOUBLE PRECISION,
    total_unrealized_pnl DOUBLE PRECISION,
    total_position_size DOUBLE PRECISION,
    total_position_size_long DOUBLE PRECISION,
    value_close_to_liquidation DOUBLE PRECISION
);

-- Market-wide counts, open interest, perp equity: one row per snapshot.
CREATE TABLE general_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    count BIGINT,
    count_long BIGINT,
    count_short BIGINT,
    open_interest DOUBLE PRECISION,
    open_interest_long DOUBLE PRECISION,
    open_interest_short DOUBLE PRECISION,
    perp_equity DOUBLE PRECISION,
    count_in_profit BIGINT
);

-- Summed wallet equity by kind: one row per snapshot.
CREATE TABLE wallet_equity_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    total_equity DOUBLE PRECISION,
    perp_equity DOUBLE PRECISION,
    spot_equity DOUBLE PRECISION,
    staking_equity DOUBLE PRECISION,
    vault_equity DOUBLE PRECISION
);

-- Summed 24h notional volume over markets: one row per snapshot.
CREATE TABLE perp_volume_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    volume DOUBLE PRECISION
);

-- Per cohort x wallet-age window: bias history and segment summary figures.
CREATE TABLE segment_series (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    segment_id SMALLINT,
    age_window TEXT COLLATE "C",
    bias DOUBLE PRECISION,
    exposure_ratio DOUBLE PRECISION,
    open_value DOUBLE PRECISION,
    open_long_value DOUBLE PRECISION,
    open_short_value DOUBLE PRECISION,
    active_perp_equity DOUBLE PRECISION,
    perp_equity DOUBLE PRECISION,
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
    address TEXT COLLATE "C",
    perp_equity DOUBLE PRECISION,
    spot_equity DOUBLE PRECISION,
    staking_equity DOUBLE PRECISION,
    vault_equity DOUBLE PRECISION,
    total_equity DOUBLE PRECISION,
    balance DOUBLE PRECISION,
    all_time_pnl DOUBLE PRECISION,
    perp_volume_30d DOUBLE PRECISION,
    count_open_positions INTEGER,
    open_value DOUBLE PRECISION,
    open_long_value DOUBLE PRECISION,
    open_short_value DOUBLE PRECISION,
    unrealized_pnl DOUBLE PRECISION,
    is_active BOOLEAN,
    size_segment_id SMALLINT,
    pnl_segment_id SMALLINT
);

-- Open lifecycles: what /positions lists as open, and the state the next engine run starts from.
CREATE TABLE open_positions (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    id TEXT COLLATE "C",
    address TEXT COLLATE "C",
    coin TEXT COLLATE "C",
    dex TEXT COLLATE "C",
    side TEXT COLLATE "C",
    szi DOUBLE PRECISION,
    size DOUBLE PRECISION,
    value DOUBLE PRECISION,
    entry_price DOUBLE PRECISION,
    mark_price DOUBLE PRECISION,
    mid_price DOUBLE PRECISION,
    premium DOUBLE PRECISION,
    sz_decimals INTEGER,
    asset_max_leverage INTEGER,
    max_leverage INTEGER,
    leverage_type TEXT COLLATE "C",
    cross_leverage INTEGER,
    isolated_leverage INTEGER,
    margin_used DOUBLE PRECISION,
    liquidation_price DOUBLE PRECISION,
    liquidation_progress DOUBLE PRECISION,
    unrealized_pnl DOUBLE PRECISION,
    funding DOUBLE PRECISION,
    open_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
    profile_total_equity DOUBLE PRECISION,
    profile_perp_equity DOUBLE PRECISION,
    profile_count_open_positions INTEGER,
    profile_pnl DOUBLE PRECISION,
    profile_balance DOUBLE PRECISION,
    size_segment_id SMALLINT,
    pnl_segment_id SMALLINT,
    size_bucket_id SMALLINT
);

-- Per coin x age window (/heatmap coin totals).
CREATE TABLE heatmap_coins (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin TEXT COLLATE "C",
    age_window TEXT COLLATE "C",
    total_value DOUBLE PRECISION,
    total_long_value DOUBLE PRECISION,
    total_short_value DOUBLE PRECISION,
    count BIGINT,
    count_long BIGINT,
    count_short BIGINT,
    bias DOUBLE PRECISION
);

-- Per coin x cohort x age window (/heatmap cells).
CREATE TABLE heatmap_cells (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin TEXT COLLATE "C",
    age_window TEXT COLLATE "C",
    segment_id SMALLINT,
    total_value DOUBLE PRECISION,
    total_long_value DOUBLE PRECISION,
    total_short_value DOUBLE PRECISION,
    count BIGINT,
    count_long BIGINT,
    count_short BIGINT,
    bias DOUBLE PRECISION
);

-- Per cohort x age window, the top coins by value.
CREATE TABLE segment_top_assets (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    segment_id SMALLINT,
    age_window TEXT COLLATE "C",
    rank SMALLINT,
    coin TEXT COLLATE "C",
    total_value DOUBLE PRECISION,
    total_long_value DOUBLE PRECISION,
    total_short_value DOUBLE PRECISION,
    count BIGINT,
    count_long BIGINT,
    count_short BIGINT,
    bias DOUBLE PRECISION
);

-- Per cohort x coin, value close to liquidation.
CREATE TABLE liquidation_risk (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    segment_id SMALLINT,
    coin TEXT COLLATE "C",
    total_value DOUBLE PRECISION,
    risk_value DOUBLE PRECISION,
    percent_risk DOUBLE PRECISION
);

-- Per coin, 100 price bins of liquidation value.
CREATE TABLE liquidation_bins (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    coin TEXT COLLATE "C",
    price_bin_index SMALLINT,
    price_bin_start DOUBLE PRECISION,
    price_bin_end DOUBLE PRECISION,
    liquidation_value DOUBLE PRECISION,
    liquidation_value_long DOUBLE PRECISION,
    liquidation_value_short DOUBLE PRECISION,
    positions_count BIGINT,
    cumulative_value DOUBLE PRECISION,
    most_impacted_segment SMALLINT,
    most_impacted_pnl_segment SMALLINT
);

-- Lifecycles that ended, appended at the snapshot that saw them end, with their last seen values.
CREATE TABLE closed_positions (
    snapshot_id BIGINT NOT NULL,
    id TEXT COLLATE "C",
    address TEXT COLLATE "C",
    coin TEXT COLLATE "C",
    dex TEXT COLLATE "C",
    side TEXT COLLATE "C",
    szi DOUBLE PRECISION,
    size DOUBLE PRECISION,
    value DOUBLE PRECISION,
    entry_price DOUBLE PRECISION,
    mark_price DOUBLE PRECISION,
    mid_price DOUBLE PRECISION,
    premium DOUBLE PRECISION,
    sz_decimals INTEGER,
    asset_max_leverage INTEGER,
    max_leverage INTEGER,
    leverage_type TEXT COLLATE "C",
    cross_leverage INTEGER,
    isolated_leverage INTEGER,
    margin_used DOUBLE PRECISION,
    liquidation_price DOUBLE PRECISION,
    liquidation_progress DOUBLE PRECISION,
    unrealized_pnl DOUBLE PRECISION,
    funding DOUBLE PRECISION,
    open_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
    profile_total_equity DOUBLE PRECISION,
    profile_perp_equity DOUBLE PRECISION,
    profile_count_open_positions INTEGER,
    profile_pnl DOUBLE PRECISION,
    profile_balance DOUBLE PRECISION,
    size_segment_id SMALLINT,
    pnl_segment_id SMALLINT,
    size_bucket_id SMALLINT,
    close_time TIMESTAMPTZ,
    closed_by_liquidation BOOLEAN
);

-- Every coin any landed snapshot listed (the API's coin lookup), kept by the landing.
CREATE TABLE coins (
    coin TEXT COLLATE "C" PRIMARY KEY,
    dex TEXT COLLATE "C",
    first_snapshot_id BIGINT NOT NULL  -- the snapshot that listed the coin first
);

-- Indexes: one per access path of hltracker/store/queries.py.
-- Series by key and time: the page of snapshots joins each series on (key..., snapshot_id), and the
-- breakdowns at one snapshot look rows up by the same columns.
CREATE INDEX markets_snapshot_coin ON markets (snapshot_id, coin);
CREATE INDEX coin_series_coin_snapshot ON coin_series (coin, snapshot_id);
CREATE INDEX coin_series_snapshot ON coin_series (snapshot_id);  -- /positions/coins: every coin at one snapshot
CREATE INDEX coin_segment_series_key ON coin_segment_series (coin, age_window, segment_id, snapshot_id);
CREATE INDEX coin_bucket_series_key ON coin_bucket_series (coin, size_bucket_id, snapshot_id);
CREATE INDEX segment_series_key ON segment_series (segment_id, age_window, snapshot_id);
CREATE INDEX general_series_time ON general_series (taken_at);
CREATE INDEX wallet_equity_series_time ON wallet_equity_series (taken_at);
CREATE INDEX wallet_equity_series_snapshot ON wallet_equity_series (snapshot_id);
CREATE INDEX perp_volume_series_time ON perp_volume_series (taken_at);

-- Current tables: looked up by the API's filters.
CREATE INDEX wallets_address ON wallets (address);
CREATE INDEX open_positions_coin ON open_positions (coin, value DESC);
CREATE INDEX open_positions_address ON open_positions (address);
CREATE INDEX heatmap_coins_window ON heatmap_coins (age_window);
CREATE INDEX heatmap_cells_window ON heatmap_cells (age_window, coin, segment_id);
CREATE INDEX segment_top_assets_key ON segment_top_assets (segment_id, age_window, rank);
CREATE INDEX liquidation_risk_segment ON liquidation_risk (segment_id);
CREATE INDEX liquidation_bins_coin ON liquidation_bins (coin, price_bin_index);

-- Lifecycles (/positions): the time window (open_time, close_time), then address, coin and cohort,
-- each with the default order (open_time, id) so a filtered page reads in index order.
CREATE INDEX closed_positions_open_time ON closed_positions (open_time, id);
CREATE INDEX closed_positions_close_time ON closed_positions (close_time);
CREATE INDEX closed_positions_address ON closed_positions (address, open_time, id);
CREATE INDEX closed_positions_coin ON closed_positions (coin, open_time, id);
CREATE INDEX closed_positions_size_segment ON closed_positions (size_segment_id, open_time, id);
CREATE INDEX closed_positions_pnl_segment ON closed_positions (pnl_segment_id, open_time, id);
