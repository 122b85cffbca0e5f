-- 0005 fundings (DuckDB): the snapshot's funding payments (FUNDINGS_SCHEMA of hltracker/model/schemas.py),
-- appended and kept whole, as fills are (0003). Columns follow hltracker/model/outputs.py after the key
-- columns of hltracker/store/layout.py (tests/test_store.py checks).
-- fundings.id = snapshot_id * 1000000 + index in time order: it grows with time across snapshots.

CREATE TABLE fundings (
    id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    time TIMESTAMPTZ,
    address VARCHAR,
    coin VARCHAR,
    dex VARCHAR,
    usdc DOUBLE,
    szi DOUBLE,
    funding_rate DOUBLE
);

-- No index, as for fills (0003): payments land in time order, so zone maps on time prune every /fundings
-- read to its window.
