-- 0002 fills and trades (PostgreSQL): the tables of DuckDB migration 0003, same names, same columns in
-- the same order. Citus: all three are distributed by address, colocated with wallets (store/citus.py).
-- fills.id = snapshot_id * 1000000 + index in time order: it grows with time across snapshots.

CREATE TABLE fills (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    time TIMESTAMPTZ,
    address TEXT COLLATE "C",
    coin TEXT COLLATE "C",
    dex TEXT COLLATE "C",
    side TEXT COLLATE "C",
    px DOUBLE PRECISION,
    sz DOUBLE PRECISION,
    start_position DOUBLE PRECISION,
    dir TEXT COLLATE "C",
    closed_pnl DOUBLE PRECISION,
    fee DOUBLE PRECISION,
    crossed BOOLEAN,
    tid BIGINT,
    is_liquidation BOOLEAN,
    liquidated_user TEXT COLLATE "C",
    liquidation_mark_px DOUBLE PRECISION,
    liquidation_method TEXT COLLATE "C",
    trade_hash TEXT COLLATE "C",
    flip_trade_hash TEXT COLLATE "C"
);

CREATE TABLE closed_trades (
    snapshot_id BIGINT NOT NULL,
    hash TEXT COLLATE "C",
    address TEXT COLLATE "C",
    coin TEXT COLLATE "C",
    dex TEXT COLLATE "C",
    direction TEXT COLLATE "C",
    open_time TIMESTAMPTZ,
    close_time TIMESTAMPTZ,
    size DOUBLE PRECISION,
    max_size DOUBLE PRECISION,
    entry_price DOUBLE PRECISION,
    exit_price DOUBLE PRECISION,
    closed_pnl DOUBLE PRECISION,
    fees DOUBLE PRECISION,
    funding DOUBLE PRECISION,
    net_pnl DOUBLE PRECISION,
    volume DOUBLE PRECISION,
    fill_count BIGINT,
    liquidated BOOLEAN
);

CREATE TABLE open_trades (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    hash TEXT COLLATE "C",
    address TEXT COLLATE "C",
    coin TEXT COLLATE "C",
    dex TEXT COLLATE "C",
    direction TEXT COLLATE "C",
    open_time TIMESTAMPTZ,
    size DOUBLE PRECISION,
    max_size DOUBLE PRECISION,
    entry_size DOUBLE PRECISION,
    entry_notional DOUBLE PRECISION,
    exit_size DOUBLE PRECISION,
    exit_notional DOUBLE PRECISION,
    closed_pnl DOUBLE PRECISION,
    fees DOUBLE PRECISION,
    funding DOUBLE PRECISION,
    fill_count BIGINT
);

-- One index per access path of the fill and trade queries (queries.py, "fills and closed trades"); plain
-- indexes only (no partial or expression index: tests/test_citus_ready.py).
CREATE INDEX fills_address_time ON fills (address, time, id);  -- /fills: 1-10 wallets, one day
CREATE INDEX fills_liquidations ON fills (is_liquidation, id);  -- /fills/liquidation, newest or oldest first
CREATE INDEX fills_liquidations_coin ON fills (is_liquidation, coin, id);
CREATE INDEX fills_trade ON fills (trade_hash, id);  -- /closed-trades/{hash}/fills
CREATE INDEX fills_flip_trade ON fills (flip_trade_hash, id);
CREATE INDEX closed_trades_address_time ON closed_trades (address, close_time, hash);  -- /closed-trades, summary
CREATE INDEX closed_trades_hash ON closed_trades (hash);  -- /closed-trades/{hash}
