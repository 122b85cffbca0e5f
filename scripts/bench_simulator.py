"""Benchmark (not a test): simulator genesis, step and snapshot times and peak memory for a profile.

    python scripts/bench_simulator.py --profile mainnet --steps 8
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from hltracker.sources.simulator import SimulatedMarket, get_profile
from hltracker.sources.simulator.frames import snapshot_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="mainnet")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t = time.perf_counter()
    sim = SimulatedMarket(get_profile(args.profile), seed=args.seed)
    genesis = time.perf_counter() - t
    steps, snaps = [], []
    for _ in range(args.steps):
        t = time.perf_counter()
        sim.step()
        steps.append(time.perf_counter() - t)
        t = time.perf_counter()
        snap = snapshot_of(sim, args.profile)
        snaps.append(time.perf_counter() - t)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"profile {args.profile}: {snap.accounts.height:,} wallets, {snap.positions.height:,} positions, "
          f"{snap.markets.height} markets, {snap.fills.height:,} fills in the last step")
    print(f"genesis            {genesis:8.2f} s")
    print(f"step (median)      {statistics.median(steps):8.3f} s   max {max(steps):.3f} s")
    print(f"snapshot (median)  {statistics.median(snaps):8.3f} s   max {max(snaps):.3f} s")
    print(f"peak memory        {peak_gb:8.2f} GB  (target < 4 GB)")


if __name__ == "__main__":
    main()
