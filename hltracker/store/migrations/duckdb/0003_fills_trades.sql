-- 0003 fills and trades (DuckDB): the snapshot's fills (STORED_FILLS_SCHEMA), the trades rebuilt from
-- them that went flat (CLOSED_TRADES_SCHEMA), both appended and kept whole, and the trades still open
-- (OPEN_TRADES_SCHEMA, replaced by each landing: where the next run continues them). Columns follow
-- hltracker/model/outputs.py after the key columns of hltracker/store/layout.py (tests/test_store.py checks).
-- fills.id = snapshot_id * 1000000 + index in time order: it grows with time across snapshots.

CREATE TABLE fills (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    time TIMESTAMPTZ,
    address VARCHAR,
    coin VARCHAR,
    dex VARCHAR,
    side VARCHAR,
    px DOUBLE,
    sz DOUBLE,
    start_position DOUBLE,
    dir VARCHAR,
    closed_pnl DOUBLE,
    fee DOUBLE,
    crossed BOOLEAN,
    tid BIGINT,
    is_liquidation BOOLEAN,
    liquidated_user VARCHAR,
    liquidation_mark_px DOUBLE,
    liquidation_method VARCHAR,
    trade_hash VARCHAR,
    flip_trade_hash VARCHAR
);

CREATE TABLE closed_trades (
    snapshot_id BIGINT NOT NULL,
    hash VARCHAR,
    address VARCHAR,
    coin VARCHAR,
    dex VARCHAR,
    direction VARCHAR,
    open_time TIMESTAMPTZ,
    close_time TIMESTAMPTZ,
    size DOUBLE,
    max_size DOUBLE,
    entry_price DOUBLE,
    exit_price DOUBLE,
    closed_pnl DOUBLE,
    fees DOUBLE,
    funding DOUBLE,
    net_pnl DOUBLE,
    volume DOUBLE,
    fill_count BIGINT,
    liquidated BOOLEAN
);

CREATE TABLE open_trades (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    hash VARCHAR,
    address VARCHAR,
    coin VARCHAR,
    dex VARCHAR,
    direction VARCHAR,
    open_time TIMESTAMPTZ,
    size DOUBLE,
    max_size DOUBLE,
    entry_size DOUBLE,
    entry_notional DOUBLE,
    exit_size DOUBLE,
    exit_notional DOUBLE,
    closed_pnl DOUBLE,
    fees DOUBLE,
    funding DOUBLE,
    fill_count BIGINT
);

-- No index, as for the other appended tables (0001): fills land in time order and closed trades in
-- close-time order, so DuckDB's zone maps on time / close_time prune every read to its window (each
-- fill query bounds time: one day, a liquidation window, a trade's open to close), appends stay fast,
-- and no ART index over the whole history has to fit in memory.
