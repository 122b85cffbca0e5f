"""Benchmark: replaying a node's streams (fills per second) and one live snapshot at mainnet scale.

    python scripts/bench_node_replay.py [--profile mainnet] [--steps 4] [--seed 1]

The simulator's `mainnet` profile (1M wallets, ~200k positions) runs `--steps` 15-minute steps with the
node stream writer attached (one block per second: 900 blocks a step, every stream). The replay then
reads those files from the anchor (the simulator's state before the steps) to the end, block by block,
as the live source does; one live snapshot of the final ledger is built at its marks.

Printed: fills and blocks replayed per CPU second (one Python thread: the replay is sequential by nature;
CPU seconds, so that a busy machine does not distort them; wall seconds beside),
against an estimate of mainnet's peak fill rate, and the seconds one live snapshot costs. The mainnet
estimate: the reference notes put mainnet at 5-12 M fills a day (derived from ~250 MB/h of fill files);
12 M a day is 139 fills/s on average, and a cascade minute (such as October 2025's liquidations) runs at
perhaps ten times the day's average, so ~1,400 fills/s is taken as the peak to keep up with. The
simulator's own mainnet profile trades far less (it simulates positions, not market-making flow), and
its rate is printed too. A block costs something even when empty: mainnet makes ~13 blocks/s, so the
blocks-per-second figure must stay well above that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from hltracker.sources.hyperliquid_node.anchor import ledger_from_simulator
from hltracker.sources.hyperliquid_node.blocks import NodeBlocks
from hltracker.sources.hyperliquid_node.ledger_frames import ledger_snapshot
from hltracker.sources.hyperliquid_node.replay import Replay
from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.node_streams import NodeStreamWriter
from hltracker.sources.simulator.profiles import get_profile

PEAK_FILLS_PER_S = 12_000_000 / 86_400 * 10  # see the module docstring
MAINNET_BLOCKS_PER_S = 13


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="mainnet")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-node-replay-"))
    try:
        t = time.perf_counter()
        sim = SimulatedMarket(get_profile(args.profile), seed=args.seed)
        writer = NodeStreamWriter(sim, root)
        anchor = ledger_from_simulator(sim, writer.height())
        print(f"genesis + anchor: {time.perf_counter() - t:.1f} s ({len(anchor.positions):,} positions, "
              f"{len(anchor.wallets):,} wallets)")
        t = time.perf_counter()
        sim_fills = 0
        for _ in range(args.steps):
            sim.step()
            sim_fills += len(sim.last_fills.tid)
        sim_seconds = args.steps * sim.step_ms / 1000
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        print(f"simulated {args.steps} steps with the writer: {time.perf_counter() - t:.1f} s, {sim_fills:,} fills, "
              f"{size / 1e6:.1f} MB of streams")

        replay = Replay(anchor)
        blocks = NodeBlocks(root, after=anchor.height)
        n_blocks = 0
        t, cpu = time.perf_counter(), time.process_time()
        while (block := blocks.next()) is not None:
            replay.apply(block)
            n_blocks += 1
        wall, seconds = time.perf_counter() - t, time.process_time() - cpu
        fundings = sum(1 for _ in replay.fundings)
        fills_per_s = replay.fills_applied / seconds
        print(f"replay: {n_blocks:,} blocks, {replay.fills_applied:,} fills and {fundings:,} funding deltas in "
              f"{seconds:.2f} CPU s ({wall:.2f} s wall): {fills_per_s:,.0f} fills/s counting only fills, "
              f"{(replay.fills_applied + fundings) / seconds:,.0f} events/s, {n_blocks / seconds:,.0f} blocks/s "
              "(read, parse and apply, 4 streams)")
        print(f"  vs mainnet's estimated peak {PEAK_FILLS_PER_S:,.0f} fills/s: {fills_per_s / PEAK_FILLS_PER_S:.1f} x; "
              f"vs {MAINNET_BLOCKS_PER_S} blocks/s: {n_blocks / seconds / MAINNET_BLOCKS_PER_S:.0f} x")
        print(f"  the simulator's {args.profile} profile trades {sim_fills / sim_seconds:,.1f} fills/s of chain time")

        t, cpu = time.perf_counter(), time.process_time()
        snap = ledger_snapshot(replay.ledger, replay.ledger.time_ms, *replay.take_rows(), replay.marks_from,
                               replay.marks_ms, None, source="bench")
        print(f"one live snapshot: {time.process_time() - cpu:.2f} CPU s ({time.perf_counter() - t:.2f} s wall; "
              f"{snap.positions.height:,} positions, {snap.accounts.height:,} accounts, {snap.fills.height:,} fills, "
              f"{snap.fundings.height:,} fundings)")
        t, cpu = time.perf_counter(), time.process_time()
        replay.ledger.copy()
        print(f"one ledger copy: {time.process_time() - cpu:.2f} CPU s ({time.perf_counter() - t:.2f} s wall)")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
