"""Benchmark-style measurement (not a test): the calibration report's figures over simulated days.

    python scripts/calibration_over_time.py --profile mainnet --days 1,3,7 --step-minutes 60

Prints every figure of `hltracker simulate --report` at genesis and after each given day, as the ratio to
the seed's figure with the report's tolerance (`*` marks a figure outside it). Every rate of the model
is per unit of time, so a coarser step (`--step-minutes`) measures the same market in fewer steps.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from hltracker.sources.simulator import SimulatedMarket, get_profile
from hltracker.sources.simulator.frames import snapshot_of
from hltracker.sources.simulator.report import calibration_figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="small")
    parser.add_argument("--days", default="1,3,7", help="comma-separated simulated days to report")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--step-minutes", type=float, default=None, help="default: the profile's step")
    args = parser.parse_args()
    profile = get_profile(args.profile)
    if args.step_minutes:
        profile = profile.with_step(timedelta(minutes=args.step_minutes))
    days = sorted(float(d) for d in args.days.split(","))

    t = time.perf_counter()
    sim = SimulatedMarket(profile, seed=args.seed)
    figures = {0.0: calibration_figures(snapshot_of(sim, profile.name), profile.position_scale)}
    per_day = timedelta(days=1) / profile.step
    steps = 0
    for day in days:
        while steps < round(day * per_day):
            sim.step()
            steps += 1
        figures[day] = calibration_figures(snapshot_of(sim, profile.name), profile.position_scale)
    print(f"profile {profile.name}, seed {args.seed}, step {profile.step}, {steps} steps in "
          f"{time.perf_counter() - t:.0f} s; cells: ours / seed ± tolerance (* outside)")
    print(f"{'figure':60s} {'seed':>10s} " + " ".join(f"{f'day {d:g}':>13s}" for d in figures))
    for i, f in enumerate(figures[0.0]):
        cells = " ".join(f"{r[i].ratio:6.3f}±{r[i].tolerance:4.2f}{' ' if r[i].within else '*'}"
                         for r in figures.values())
        print(f"{(f.group + ' / ' + f.name)[:60]:60s} {f.seed:10.4g} {cells}")
    print("outside their tolerance: " + ", ".join(f"day {d:g}: {sum(not f.within for f in r)} of {len(r)}"
                                                  for d, r in figures.items()))


if __name__ == "__main__":
    main()
