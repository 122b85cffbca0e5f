"""Benchmark (not a test): ingest cost of one snapshot, against merely loading its frames into Arrow.

    python scripts/bench_ingest.py --profile mainnet --steps 3

Simulates genesis plus `--steps` steps, ingests all but the last snapshot into a fresh DuckDB store
(the history a live store has), writes the last one as snapshot files, then measures that snapshot in a
fresh child process so peak memory is this snapshot's alone:
  load   pyarrow reads the frames' Parquet files into Arrow tables (the floor: data in memory)
  read   the snapshot-files source reads and validates the same snapshot (what ingest does first)
  engine engine.run on it, with the state resumed from the store
  store  landing the result in DuckDB (one transaction)
and prints the ratio (read + engine + store) / load.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def _peak_rss_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e6
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def measure(folder: Path, database: Path) -> dict:
    """Run in the child: time load / read / engine / store for the snapshot in `folder`."""
    import pyarrow.parquet as pq

    from hltracker.engine import run
    from hltracker.sources.snapshot_files import read_snapshot
    from hltracker.store import open_store

    t = time.perf_counter()
    tables = {p.stem: pq.read_table(p) for p in sorted(folder.glob("*.parquet"))}
    load_s = time.perf_counter() - t
    rows = {name: tab.num_rows for name, tab in tables.items()}
    del tables
    t = time.perf_counter()
    snap = read_snapshot(folder)
    read_s = time.perf_counter() - t
    with open_store(database) as store:
        state = store.load_state()
        t = time.perf_counter()
        result = run(snap, state)
        engine_s = time.perf_counter() - t
        t = time.perf_counter()
        store.land(result, source=snap.source, height=snap.height, extra=dict(snap.extra),
                   landed_at=datetime.now(UTC))
        store_s = time.perf_counter() - t
    return {"rows": rows, "load_s": load_s, "read_s": read_s, "engine_s": engine_s, "store_s": store_s,
            "peak_gb": _peak_rss_gb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="mainnet")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.database)))
        return

    from hltracker.ingest import Ingestor
    from hltracker.sources.simulator import SimulatorSource
    from hltracker.sources.snapshot_files import write_snapshot
    from hltracker.store import open_store

    work = Path(tempfile.mkdtemp(prefix="hltracker-bench-"))
    database = work / "bench.duckdb"
    snaps = SimulatorSource(args.profile, seed=args.seed, steps=args.steps).snapshots()
    with open_store(database) as store:
        ingestor = Ingestor(store)
        for i in range(args.steps):
            snap = next(snaps)
            before = (ingestor.report.engine_seconds, ingestor.report.store_seconds)
            ingestor.offer(snap)
            print(f"history snapshot {i}: {snap.positions.height:,} positions, engine "
                  f"{ingestor.report.engine_seconds - before[0]:.2f} s, store "
                  f"{ingestor.report.store_seconds - before[1]:.2f} s", flush=True)
    last = next(snaps)
    folder = write_snapshot(last, work / "snapshots")
    out = subprocess.run([sys.executable, __file__, "--measure", str(folder), "--database", str(database)],
                         check=True, capture_output=True, text=True)
    m = json.loads(out.stdout.strip().splitlines()[-1])
    total = m["read_s"] + m["engine_s"] + m["store_s"]
    print(f"\nmeasured snapshot ({args.profile}, step {args.steps}): "
          + ", ".join(f"{n} {r:,}" for n, r in m["rows"].items()))
    print(f"load into Arrow    {m['load_s']:8.3f} s   (Parquet -> Arrow tables, the floor)")
    print(f"read + validate    {m['read_s']:8.3f} s")
    print(f"engine             {m['engine_s']:8.3f} s")
    print(f"store (DuckDB)     {m['store_s']:8.3f} s")
    print(f"total              {total:8.3f} s   ratio to load {total / m['load_s']:.1f}x")
    print(f"peak memory        {m['peak_gb']:8.2f} GB (child process: read, state, engine, landing)")
    print(f"work folder        {work}")


if __name__ == "__main__":
    main()
