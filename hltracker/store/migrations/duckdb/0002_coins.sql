-- 0002 coins: every coin any landed snapshot listed, kept by the landing so the API's coin lookup
-- (`coins_known`) reads a few hundred rows instead of scanning every market row of every snapshot.
CREATE TABLE coins (
    coin VARCHAR PRIMARY KEY,
    dex VARCHAR,
    first_snapshot_id BIGINT NOT NULL  -- the snapshot that listed the coin first
);

INSERT INTO coins (coin, dex, first_snapshot_id)
SELECT coin, arg_min(dex, snapshot_id), MIN(snapshot_id) FROM markets WHERE coin IS NOT NULL GROUP BY coin;
