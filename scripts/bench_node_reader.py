"""Benchmark (not a test): the hyperliquid-node reader on a simulated node state file.

    python scripts/bench_node_reader.py [--profile mainnet] [--format rmp] [--out DIR]

Renders the profile's genesis state as a node's state file (the evidenced layout, with `locus.ust` for
every wallet as real files have), then reads it back in a fresh child
process (so that the peak RSS is the reader's, not the simulator's): file size, read time, rows per
second, peak RSS above the interpreter's baseline and tracemalloc's peak (a second, traced read), each
against the file size. For scale, a second child decodes the whole file at once with `msgpack.unpack`.
A real mainnet file is ~1.1 GB, most of it sections the reader skips (books, EVM state), so these
ratios, on a file of clearinghouses only, are the reader's worst case.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def _rss_mb() -> float:
    """Peak RSS of this process so far. Linux keeps `ru_maxrss` across exec (a child spawned by a big
    parent starts at the parent's peak), so the process's own high-water mark is read when there is one."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB (macOS: bytes)


def _child_read(path: Path, markets: Path | None) -> dict:
    import polars as pl

    from hltracker.sources.hyperliquid_node import read_state_file

    frame = pl.read_parquet(markets) if markets else None
    markets_from = (lambda: frame) if frame is not None else None
    baseline = _rss_mb()
    t = time.perf_counter()
    snap = read_state_file(path, markets_from)
    seconds = time.perf_counter() - t
    peak = _rss_mb()
    tracemalloc.start()
    read_state_file(path, markets_from)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"seconds": seconds, "baseline_mb": baseline, "peak_rss_mb": peak, "traced_peak_mb": traced,
            "positions": snap.positions.height, "accounts": snap.accounts.height, "markets": snap.markets.height}


def _child_decode(path: Path) -> dict:
    import msgpack

    baseline = _rss_mb()
    t = time.perf_counter()
    with open(path, "rb") as f:
        doc = msgpack.unpack(f, raw=False)
    seconds = time.perf_counter() - t
    del doc
    return {"seconds": seconds, "baseline_mb": baseline, "peak_rss_mb": _rss_mb()}


def _run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="mainnet")
    parser.add_argument("--format", default="rmp", choices=["rmp", "json"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="keep the state file here (default: a temporary folder)")
    parser.add_argument("--child-read", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-decode", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--markets", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_read:
        print(json.dumps(_child_read(args.child_read, args.markets)))
        return
    if args.child_decode:
        print(json.dumps(_child_decode(args.child_decode)))
        return

    from hltracker.sources.simulator import SimulatedMarket, get_profile
    from hltracker.sources.simulator.frames import markets_frame
    from hltracker.sources.simulator.node_state import write_abci_state

    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp)
        t = time.perf_counter()
        sim = SimulatedMarket(get_profile(args.profile), seed=args.seed)
        genesis = time.perf_counter() - t
        t = time.perf_counter()
        path = write_abci_state(sim, root, args.format)
        render = time.perf_counter() - t
        markets = root / "markets.parquet"
        markets_frame(sim).write_parquet(markets)
        del sim
        size_mb = path.stat().st_size / 2**20
        read = _run_child("--child-read", str(path), "--markets", str(markets))
        decode = _run_child("--child-decode", str(path)) if args.format == "rmp" else None

    rows = read["positions"] + read["accounts"]
    grown = read["peak_rss_mb"] - read["baseline_mb"]
    print(f"profile {args.profile}, {args.format}: {read['positions']:,} positions, "
          f"{read['accounts']:,} accounts, {read['markets']} markets (genesis {genesis:.1f} s, render+write "
          f"{render:.1f} s)")
    print(f"file size              {size_mb:9.1f} MB")
    print(f"read time              {read['seconds']:9.2f} s    {size_mb / read['seconds']:.0f} MB/s, "
          f"{rows / read['seconds']:,.0f} rows/s (positions + accounts)")
    print(f"peak RSS               {read['peak_rss_mb']:9.1f} MB   (+{grown:.1f} MB over the {read['baseline_mb']:.0f} "
          f"MB after imports; {grown / size_mb:.2f} x file size)")
    print(f"tracemalloc peak       {read['traced_peak_mb']:9.1f} MB   ({read['traced_peak_mb'] / size_mb:.3f} x file "
          "size; Polars' own buffers are not traced)")
    if decode:
        dgrown = decode["peak_rss_mb"] - decode["baseline_mb"]
        print(f"msgpack.unpack whole   {decode['seconds']:9.2f} s    +{dgrown:.1f} MB RSS "
              f"({dgrown / size_mb:.2f} x file size)")
        print(f"streaming read / whole decode: time {read['seconds'] / decode['seconds']:.2f}, "
              f"RSS growth {grown / dgrown:.2f}")


if __name__ == "__main__":
    main()
