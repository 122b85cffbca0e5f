"""Benchmark: seconds from starting `hltracker demo` to its first answered API request.

    python scripts/bench_demo_startup.py [--days 3] [--runs 3]

Starts the demo as a user would (a child process), reads the key it prints, polls
`/api/external/positions/coins` until it answers 200, and prints the seconds it took, per run and the
median. The issue's target: under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(days: float) -> float:
    port = _free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "hltracker.cli", "demo", "--days", str(days), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"})
    try:
        key = None
        while key is None:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("the demo exited before printing its key")
            found = re.search(r"API key: (hlt_\S+)", line)
            key = found.group(1) if found else None
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/external/positions/coins",
                              headers={"Authorization": f"Bearer {key}"}, timeout=10)
                if r.status_code == 200:
                    return time.monotonic() - t0
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    seconds = []
    for i in range(args.runs):
        seconds.append(one_run(args.days))
        print(f"run {i + 1}: first answer after {seconds[-1]:.1f} s", flush=True)
    print(f"median {statistics.median(seconds):.1f} s over {args.runs} runs ({args.days:g} days of history); "
          f"target < 60 s, ratio {statistics.median(seconds) / 60:.2f} of the target")


if __name__ == "__main__":
    main()
