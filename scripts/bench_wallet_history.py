"""How much `wallet_history` (changed wallets only) grows per snapshot, against a row per wallet.

Ingests `--steps` snapshots of a simulator profile into a fresh DuckDB file and prints, per snapshot,
the wallets, the history rows written and their ratio, then the leaderboard build time over the result.

    .venv/bin/python scripts/bench_wallet_history.py [--profile small] [--steps 8] [--step-minutes 15]

Figures and ratios are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.progress import Progress

from hltracker.exports.leaderboard_files import perp_pnl_board
from hltracker.ingest import Ingestor
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="small")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--step-minutes", type=float, default=15)
    args = parser.parse_args()
    src = SimulatorSource(profile=args.profile, seed=0, steps=args.steps, step=timedelta(minutes=args.step_minutes),
                          start=datetime(2026, 11, 18, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "bench.duckdb") as store:
        ingestor = Ingestor(store)
        with Progress() as bar:
            task = bar.add_task(f"ingesting {args.steps + 1} {args.profile} snapshots", total=args.steps + 1)
            for snap in src.snapshots():
                ingestor.offer(snap)
                bar.advance(task)
        last = store.last_snapshot()
        print(f"{'snapshot':>8} {'wallets':>9} {'history rows':>13} {'share':>7}")
        total_rows = total_wallets = 0
        for snapshot_id in range(1, last.snapshot_id + 1):
            info = store.query("snapshot_at", snapshot_id=snapshot_id)
            wallets = int(info["wallet_count"][0])
            rows = store.query("wallet_history_count_at", snapshot_id=snapshot_id)["count"][0]
            print(f"{snapshot_id:8d} {wallets:9d} {rows:13d} {rows / wallets:7.2f}")
            if snapshot_id > 1:
                total_rows, total_wallets = total_rows + rows, total_wallets + wallets
        if total_wallets:
            print(f"after the first snapshot: {total_rows / total_wallets:.2f} rows per wallet per snapshot "
                  f"({total_rows} against {total_wallets} for a row per wallet)")
        started = time.perf_counter()
        board = perp_pnl_board(store, last)
        print(f"leaderboard build: {board.height} wallets in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
