"""Which table holds which frame, and the key columns the store adds in front of the frame's own.

Backend-neutral: the DuckDB backend lands frames with it, the PostgreSQL backend too, and
the migrations of both must create exactly these columns (tests/test_store.py checks the DDL).

Five kinds of table (model/outputs.py):
- `markets` and the series tables keep every snapshot's rows; series rows carry a row `id`;
- the current tables hold the latest snapshot's rows only (`open_trades` among them);
- `closed_positions` is appended, keyed by the snapshot that saw each lifecycle end;
- `fills`, `fundings` and `closed_trades` are appended and kept whole; a fill's (or funding payment's) `id` is
  `snapshot_id * ROW_ID_BASE + its index in time order`, so ids grow with time across snapshots (each
  snapshot's fills are later than the previous snapshot) and one id orders and pages fills (and fundings).

Row ids of series tables: `snapshot_id * ROW_ID_BASE + row index` (the frame's order). Rows the read
queries fill in for groups the engine did not store (it stores only non-empty groups) get ids in the
top range of their snapshot, `snapshot_id * ROW_ID_BASE + FILLED_ROW_OFFSET + k`, so a stored frame
may hold at most `FILLED_ROW_OFFSET` rows per snapshot.
"""

from __future__ import annotations

import polars as pl

from hltracker.model.outputs import CURRENT_TABLES, OUTPUT_SCHEMAS, SERIES_TABLES, TRADE_TABLES
from hltracker.model.schemas import MARKETS_SCHEMA
from hltracker.model.snapshot import schema_problems

ROW_ID_BASE = 1_000_000
FILLED_ROW_OFFSET = 999_000  # + segment or size-bucket id; + 999 for a filled coin_series row

SERIES_KEYS = ("id", "snapshot_id", "taken_at")
SNAPSHOT_KEYS = ("snapshot_id", "taken_at")
CLOSED_KEYS = ("snapshot_id",)
FILL_KEYS = ("id", "snapshot_id")
ID_PAGED_TABLES = ("fills", "fundings")  # rows keyed by FILL_KEYS, at most ROW_ID_BASE per snapshot

FRAME_TABLES: dict[str, pl.Schema] = {"markets": MARKETS_SCHEMA, **OUTPUT_SCHEMAS}
APPENDED_TABLES: tuple[str, ...] = ("markets", *SERIES_TABLES, "closed_positions", *TRADE_TABLES)
REPLACED_TABLES: tuple[str, ...] = CURRENT_TABLES


# Run by both backends inside the landing transaction, after the snapshot's markets are written.
REGISTER_COINS = """INSERT INTO coins (coin, dex, first_snapshot_id)
SELECT coin, MIN(dex), $snapshot_id FROM markets WHERE snapshot_id = $snapshot_id AND coin IS NOT NULL GROUP BY coin
ON CONFLICT (coin) DO NOTHING"""


# Also run by both backends inside the landing transaction: keep the previous snapshot's wallet figures
# before the current tables are replaced, then append to wallet_history the wallets whose all-time PnL
# changed (or that are new). Only changed wallets: a row per wallet per snapshot would be 1M rows every
# snapshot at mainnet scale; most wallets do not trade between two snapshots (docs/api.md, leaderboards).
WALLET_HISTORY_KEEP_PREVIOUS = """CREATE TEMP TABLE _previous_wallets AS
SELECT address, all_time_pnl FROM wallets"""
WALLET_HISTORY_APPEND = """INSERT INTO wallet_history (snapshot_id, taken_at, address, all_time_pnl)
SELECT CAST($snapshot_id AS BIGINT), CAST($taken_at AS TIMESTAMPTZ), n.address, n.all_time_pnl
FROM wallets n
LEFT JOIN _previous_wallets o ON o.address = n.address
WHERE n.address IS NOT NULL AND (o.address IS NULL OR o.all_time_pnl IS DISTINCT FROM n.all_time_pnl)"""
WALLET_HISTORY_DONE = "DROP TABLE _previous_wallets"


def key_columns(table: str) -> tuple[str, ...]:
    """The columns the store adds in front of the frame's columns in `table`."""
    if table in SERIES_TABLES:
        return SERIES_KEYS
    if table in ("closed_positions", "closed_trades"):
        return CLOSED_KEYS
    if table in ID_PAGED_TABLES:
        return FILL_KEYS
    if table in FRAME_TABLES:
        return SNAPSHOT_KEYS
    raise KeyError(table)


def table_columns(table: str) -> tuple[str, ...]:
    """Every column of `table`, in order: the key columns, then the frame's."""
    return (*key_columns(table), *FRAME_TABLES[table].names())


def frame_problems(table: str, frame: pl.DataFrame) -> list[str]:
    """How `frame` differs from the schema of `table`: names and dtypes (order is free: writes go by name)."""
    return schema_problems(table, frame, FRAME_TABLES[table])
