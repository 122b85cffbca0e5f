-- 0004 fundings (PostgreSQL): the table of DuckDB migration 0005, same name, same columns in the same
-- order. Citus: distributed by address, colocated with wallets and fills (store/citus.py).
-- fundings.id = snapshot_id * 1000000 + index in time order: it grows with time across snapshots.

CREATE TABLE fundings (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    time TIMESTAMPTZ,
    address TEXT COLLATE "C",
    coin TEXT COLLATE "C",
    dex TEXT COLLATE "C",
    usdc DOUBLE PRECISION,
    szi DOUBLE PRECISION,
    funding_rate DOUBLE PRECISION
);

-- /fundings: 1-10 wallets in a window of up to a month, paged by id (a plain index: tests/test_citus_ready.py).
CREATE INDEX fundings_address_time ON fundings (address, time, id);
