"""Scaling PostgreSQL out with Citus: which table is distributed by which column, and the SQL that does it.

    python -m hltracker.store.citus > distribute.sql     # then, on the Citus coordinator:
    psql "$HLTRACKER_DATABASE_URL" -v ON_ERROR_STOP=1 -f distribute.sql

hltracker does not need Citus, and nothing in the code path changes with it: run `hltracker ingest`
against the coordinator once (it creates and migrates the schema like on any PostgreSQL), run the
printed statements there once, and carry on. The store, the migrations and the named queries of
queries.py are the same; Citus plans them over the shards.

The choices (`DISTRIBUTION` below, one reason a table):
- The history that grows without bound and is read one coin at a time (`markets` and the per-coin
  series) is distributed by `coin`, in one colocation group: the per-coin queries pin `coin = $coin`
  (in the join condition of their outer join onto the series), so Citus routes each to one shard, and
  a single-shard query may use any SQL, outer joins with reference tables included.
- Positions and wallets, the big tables, are distributed by `address` in a second colocation group:
  a wallet's rows share a shard, and `/positions` (open UNION ALL closed, the address at the same
  place in both branches) pushes down to each shard pair. Fills, fundings and trades join that group: /fills,
  /fundings and /closed-trades name their wallets, so they route to those wallets' shards; the liquidation listing and
  a lookup by trade hash fan out to every shard.
- Small tables are reference tables (a full copy on every node): `snapshots`, which every series
  query joins, the one-row-per-snapshot series, the cohort series, and the current tables read across
  all coins by age window or cohort (a local read of one copy beats a fan-out to every shard).
- No table has a PRIMARY KEY or UNIQUE constraint without its distribution column, and there are no
  foreign keys (tests/test_citus_ready.py checks both against the real schema, and runs these
  statements on PostgreSQL with the Citus functions stubbed).

What stays the same: API servers keep no state, so any number of them can point at the coordinator;
ingest still lands a snapshot in one transaction (Citus commits it on every node with two-phase
commit); `COPY` routes rows to shards by the distribution column. What differs: a distribution column
must never be NULL (Citus refuses such a row; the engine never produces one); a landing's commit is not
seen at the same instant on every node, so a multi-shard read made during that commit may mix the two
snapshots' current tables; `NOTIFY` is heard on the coordinator only (API servers connected elsewhere
fall back to polling); and a table a later migration adds needs its own line here.
"""

from __future__ import annotations

# table -> its distribution column; None: a reference table. Every table of the PostgreSQL schema.
DISTRIBUTION: dict[str, str | None] = {
    # bookkeeping
    "schema_migrations": None,  # a handful of rows; written only by migrations
    "api_keys": None,  # a handful of rows; looked up by key hash on every request
    "snapshots": None,  # one row per snapshot; joined by every series query and locked by each landing
    "coins": None,  # one row per coin; read whole (coin lookup), filled from markets by INSERT ... SELECT
    # per coin, kept: grows with every snapshot, read one coin at a time
    "markets": "coin",  # every market of every snapshot; market_at routes by coin
    "coin_series": "coin",  # /position-metrics/coin/{coin}: coin = $coin routes to one shard
    "coin_segment_series": "coin",  # the largest series (coin x cohort x window); read per coin
    "coin_bucket_series": "coin",  # coin x size bucket; read per coin
    # market-wide or per cohort, kept: small rows joined with snapshots over every cohort
    "general_series": None,  # one row per snapshot
    "wallet_equity_series": None,  # one row per snapshot
    "perp_volume_series": None,  # one row per snapshot
    "segment_series": None,  # cohorts x windows per snapshot; outer-joined from snapshots for all cohorts
    # current (the latest snapshot only)
    "wallets": "address",  # every active wallet; read by address
    "wallet_history": "address",  # changed wallets' figures per snapshot; joined with wallets on address
    "open_positions": "address",  # the largest table; read by address, unioned with closed_positions
    "closed_positions": "address",  # appended forever; colocated with open_positions for the union
    "heatmap_coins": None,  # coins x windows rows; read across all coins by age window
    "heatmap_cells": None,  # coins x cohorts x windows rows; read across all coins by age window
    "segment_top_assets": None,  # cohorts x windows x top 10; read by cohort
    "liquidation_risk": None,  # cohorts x coins rows; read by cohort, a page ordered by risk
    "liquidation_bins": "coin",  # 100 bins per coin; read one coin at a time (routes to one shard)
    # fills and the trades rebuilt from them: per wallet, like positions
    "fills": "address",  # appended forever, the largest table; /fills reads 1-10 wallets
    "fundings": "address",  # appended forever, a row per open position per funding hour; /fundings reads 1-10 wallets
    "closed_trades": "address",  # appended forever; /closed-trades and the summary read one wallet
    "open_trades": "address",  # current; read whole by the next landing's engine run
}

# The first table of each colocation group starts it (colocate_with => 'none', so the coin and the
# address groups stay apart although both columns are text); the others join it.
COLOCATION_ANCHORS: dict[str, str] = {"coin": "markets", "address": "wallets"}

_HEADER = """\
-- Citus distribution of the hltracker schema (printed by `python -m hltracker.store.citus`).
--
-- Run once on the Citus coordinator, as the owner of the tables, after the first `hltracker ingest`
-- against the coordinator created and migrated the schema, and best before the data grows:
-- create_distributed_table moves a table's existing rows into its shards while it blocks writes to it.
-- Stop `hltracker ingest` while this runs; with psql: -v ON_ERROR_STOP=1 -f <this file>.
-- A table that already held rows keeps its local copy on the coordinator: Citus says so in a NOTICE,
-- and `SELECT truncate_local_data_after_distributing_table('<table>');` frees it.
--
-- Reference tables (a copy on every node) first, then the tables distributed by coin, then those
-- distributed by address; each group is colocated with its first table, which must come first.
-- There are no foreign keys, so no other order matters."""


def reference_tables() -> list[str]:
    return [t for t, column in DISTRIBUTION.items() if column is None]


def distributed_tables(column: str) -> list[str]:
    """The tables distributed by `column`, the colocation group's anchor first."""
    anchor = COLOCATION_ANCHORS[column]
    return [anchor, *(t for t, c in DISTRIBUTION.items() if c == column and t != anchor)]


def distribution_sql() -> str:
    """The statements a DBA runs once on the Citus coordinator (see the header they start with)."""
    lines = [_HEADER, ""]
    lines += [f"SELECT create_reference_table('{t}');" for t in reference_tables()]
    for column, anchor in COLOCATION_ANCHORS.items():
        lines.append("")
        for table in distributed_tables(column):
            group = "none" if table == anchor else anchor
            lines.append(f"SELECT create_distributed_table('{table}', '{column}', colocate_with => '{group}');")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(distribution_sql(), end="")
