-- 0003 wallet_history: each wallet's all-time perp PnL over time, for period PnL (leaderboards).
-- A row is written only when a wallet's all-time PnL differs from the previous snapshot's (or it is new), not
-- for every wallet at every snapshot: at mainnet scale (1M wallets) most wallets do not trade between
-- two snapshots. A wallet's figure at snapshot S is its latest row with snapshot_id <= S.
CREATE TABLE wallet_history (
    snapshot_id BIGINT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    address VARCHAR NOT NULL,
    all_time_pnl DOUBLE
);

-- A store landed before this migration starts its history at its latest snapshot.
INSERT INTO wallet_history (snapshot_id, taken_at, address, all_time_pnl)
SELECT snapshot_id, taken_at, address, all_time_pnl FROM wallets WHERE address IS NOT NULL;
