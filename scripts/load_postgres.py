"""Load test: `hltracker serve` on PostgreSQL while `hltracker ingest --follow` keeps landing snapshots.

    python scripts/load_postgres.py --seconds 20 [--concurrency 32] [--days 1] [--step 900] [--interval 2]

Starts a throwaway PostgreSQL server, backfills `--days` of simulator history with `hltracker ingest`,
creates an API key, starts `hltracker serve --workers 2` (rate limit off) and a second `hltracker ingest
--follow` that lands a snapshot every `--interval` wall-clock seconds. Once the first live snapshot has
landed it drives `--concurrency` keep-alive clients at the hot /api/external routes for `--seconds`.

Prints: requests, requests per second, latency percentiles (overall and per route), errors by status,
the snapshot ids the answers carried (`X-Snapshot-Id`) against the snapshots ingest landed meanwhile
(store count before and after), and freshness: from a snapshot's `landed_at` (the ingest clock just
before its write) to its commit becoming visible (polling `Store.last_snapshot()`), from there to the
first answer carrying it, and how late after the commit a request could still start and get an older
snapshot. Exits 1 on any error, on a traceback in a child's log or when a child died. The children and
the database are torn down on exit, Ctrl-C and SIGTERM included.

Client, server, ingest and PostgreSQL share the machine: read the figures as relative. With the default
step and interval the live simulator moves 900 simulated seconds per 2 wall-clock seconds, so the latest
snapshots soon lie in the future and the series routes (`end` defaults to now) leave them out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from hltracker.store import Store, open_store
from hltracker.testing.postgres_server import ThrowawayPostgres

API = "/api/external"


@dataclass(frozen=True)
class Sample:
    """One request: its route, outcome, latency and the snapshot its answer was about."""

    route: str
    status: str  # "200", "503", ... or the exception's class name
    latency: float  # seconds
    started: float  # wall clock (time.time()), comparable with the store's landed_at
    ended: float
    snapshot_id: int | None


# --- child processes ---


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hltracker.cli", *args]


def run_cli(*args: str) -> str:
    """Run an `hltracker` command to completion; its stdout (raises with its output when it fails)."""
    done = subprocess.run(cli(*args), capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    if done.returncode != 0:
        raise RuntimeError(f"hltracker {args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def spawn(stack: contextlib.ExitStack, args: list[str], log: Path, env: dict[str, str] | None = None):
    """Start a child in its own session (Ctrl-C reaches only us, and we stop it) logging to `log`."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "COLUMNS": "120", **(env or {})})
    stack.callback(stop, proc)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGINT to the child's process group (uvicorn workers included), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def wait_healthy(base: str, server: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode}) before answering {API}/health:\n{tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}{API}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{API}/health did not answer 200 within {timeout:g} s:\n{tail(log)}")


def wait_for_landing(store: Store, above: int, follower: subprocess.Popen, log: Path, timeout: float = 120.0) -> int:
    """Block until the store holds more than `above` snapshots; the new count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if follower.poll() is not None:
            raise RuntimeError(f"ingest --follow exited ({follower.returncode}) before landing:\n{tail(log)}")
        count = store.snapshot_count()
        if count > above:
            return count
        time.sleep(0.1)
    raise RuntimeError(f"ingest --follow landed nothing within {timeout:g} s:\n{tail(log)}")


# --- load ---


def hot_routes(start: str) -> list[str]:
    return [
        f"{API}/positions/coins",
        f"{API}/positions/heatmap?openedWithin=all",
        f"{API}/segments/1/summary",
        f"{API}/position-metrics/general",
        f"{API}/position-metrics/coin/BTC?start={start}",
        f"{API}/segments",
        f"{API}/metrics/perp-volume?start={start}",
    ]


async def client(http: httpx.AsyncClient, routes: list[str], offset: int, until: float,
                 samples: list[Sample]) -> None:
    """Request the routes round-robin (from `offset`) until `until` (perf_counter)."""
    i = offset
    while time.perf_counter() < until:
        route = routes[i % len(routes)]
        i += 1
        started, t0 = time.time(), time.perf_counter()
        try:
            response = await http.get(route)
            status, header = str(response.status_code), response.headers.get("x-snapshot-id")
        except httpx.HTTPError as exc:
            status, header = type(exc).__name__, None
        latency = time.perf_counter() - t0
        samples.append(Sample(route, status, latency, started, started + latency, int(header) if header else None))


async def drive(base: str, key: str, routes: list[str], seconds: float, concurrency: int) -> list[Sample]:
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, limits=limits,
                                 timeout=30) as http:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(client(http, routes, i, until, samples) for i in range(concurrency)))
    return samples


# --- report ---


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))]


def watch_commits(store: Store, stop: threading.Event, committed: dict[int, float], every: float = 0.02) -> None:
    """Poll the store's last snapshot until `stop`: when (wall clock) each became visible to readers."""
    while not stop.is_set():
        last = store.last_snapshot()
        if last is not None:
            committed.setdefault(last.snapshot_id, time.time())
        stop.wait(every)


def freshness(samples: list[Sample], committed: dict[int, float]) -> tuple[list[float], list[float]]:
    """Per snapshot committed during the run: seconds from its commit to the first answer carrying it (or a
    newer one), and to the start of the last request after its commit that still got an older one (0 if none)."""
    tagged = [s for s in samples if s.snapshot_id is not None]
    first, stale = [], []
    for sid, at in sorted(committed.items()):
        served = [s.ended for s in tagged if s.snapshot_id >= sid]
        if served:
            first.append(min(served) - at)
        older = [s.started for s in tagged if s.snapshot_id < sid and s.started >= at]
        stale.append(max(older) - at if older else 0.0)
    return first, stale


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    return f"p50 {percentile(ordered, 50) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms" if ordered else "none"


def report(samples: list[Sample], seconds: float, landed_at: dict[int, float], committed: dict[int, float],
           landed: int) -> int:
    """Print the figures; the number of errors."""
    latencies = sorted(s.latency * 1000 for s in samples)
    errors = Counter(s.status for s in samples if s.status != "200")
    seen = {s.snapshot_id for s in samples if s.snapshot_id is not None}
    print(f"requests          {len(samples)}")
    print(f"requests/s        {len(samples) / seconds:.0f}")
    print("latency ms        " + "  ".join(f"{name} {percentile(latencies, q):.1f}"
                                          for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))))
    print(f"errors            {sum(errors.values())}" + (f"  {dict(errors)}" if errors else ""))
    by_route: dict[str, list[float]] = {}
    for s in samples:
        by_route.setdefault(s.route.split("?")[0].removeprefix(API), []).append(s.latency * 1000)
    for route, values in sorted(by_route.items()):
        values.sort()
        print(f"  {route:<28}{len(values):>6} requests  p50 {percentile(values, 50):7.1f}  "
              f"p99 {percentile(values, 99):7.1f}  max {values[-1]:7.1f} ms")
    print(f"snapshots landed  {landed} during the run (store count after - before)")
    print(f"snapshot ids seen {len(seen)} distinct" + (f" ({min(seen)}..{max(seen)})" if seen else ""))
    write = [committed[sid] - at for sid, at in landed_at.items() if sid in committed]
    first, stale = freshness(samples, {sid: at for sid, at in committed.items() if sid in landed_at})
    print(f"landing           landed_at -> visible in the store: {ms(write)} ({len(write)} snapshots)")
    print(f"visible -> served first answer carrying it: {ms(first)} ({len(first)} snapshots)")
    print(f"stale answers     last request after the commit still answered an older one: {ms(stale)}")
    return sum(errors.values())


def child_problems(logs: dict[str, Path], children: dict[str, subprocess.Popen]) -> list[str]:
    """Tracebacks in the children's logs, and children that died during the run."""
    problems = []
    for name, log in logs.items():
        if any(mark in tail(log, 10**7) for mark in ("Traceback", "ERROR", "store error")):
            problems.append(f"the {name} log holds an error:\n{tail(log)}")
    for name, proc in children.items():
        if proc.poll() is not None:
            problems.append(f"{name} exited early with code {proc.returncode}")
    return problems


# --- main ---


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration (default 20)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive clients (default 32)")
    parser.add_argument("--days", type=float, default=1.0, help="simulated days to backfill (default 1)")
    parser.add_argument("--step", type=int, default=900, help="simulated seconds per snapshot (default 900)")
    parser.add_argument("--interval", type=float, default=2.0, help="wall-clock seconds between live snapshots")
    parser.add_argument("--profile", default="small", help="simulator profile (default small)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    return parser.parse_args()


def run(args: argparse.Namespace, url: str, work: Path, stack: contextlib.ExitStack) -> int:
    ingest = ("ingest", "--source", "simulator", "--profile", args.profile, "--days", str(args.days),
              "--step", str(args.step), "--database", url)
    t0 = time.perf_counter()
    backfill = run_cli(*ingest).strip().splitlines()
    print(f"backfill: {backfill[-1] if backfill else '?'} ({time.perf_counter() - t0:.1f} s)", flush=True)
    key = run_cli("keys", "create", "--name", "load", "--database", url).strip().splitlines()[-1]
    store = stack.enter_context(open_store(url, read_only=True, pool_size=2))
    start = store.first_snapshot().taken_at.date().isoformat()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = {"serve": work / "serve.log", "ingest --follow": work / "follow.log"}
    server = spawn(stack, cli("serve", "--database", url, "--workers", str(args.workers), "--port", str(port)),
                   logs["serve"], {"HLTRACKER_RATE_LIMIT": "0"})
    wait_healthy(base, server, logs["serve"])
    follower = spawn(stack, cli(*ingest, "--follow", "--interval", str(args.interval)), logs["ingest --follow"])
    t0 = time.perf_counter()
    before = wait_for_landing(store, store.snapshot_count(), follower, logs["ingest --follow"])
    print(f"serving {base} ({args.workers} workers); ingest --follow landed its first live snapshot after "
          f"{time.perf_counter() - t0:.1f} s ({before} snapshots), then one every {args.interval:g} s", flush=True)
    print(f"driving {args.concurrency} clients for {args.seconds:g} s ...", flush=True)

    committed: dict[int, float] = {}
    stop_watch = threading.Event()
    watcher = threading.Thread(target=watch_commits, args=(store, stop_watch, committed), daemon=True)
    watcher.start()
    try:
        samples = asyncio.run(drive(base, key, hot_routes(start), args.seconds, args.concurrency))
    finally:
        stop_watch.set()
        watcher.join()
    after = store.snapshot_count()
    recent = store.query("recent_snapshots", limit=after - before + 1)
    landed_at = {sid: at.timestamp() for sid, at in zip(recent["snapshot_id"], recent["landed_at"], strict=True)
                 if sid > before}
    errors = report(samples, args.seconds, landed_at, committed, after - before)
    problems = child_problems(logs, {"serve": server, "ingest --follow": follower})
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if errors or problems else 0


def main() -> int:
    args = parse_args()
    # Ctrl-C and SIGTERM both raise KeyboardInterrupt, so the `with` blocks below tear everything down.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with (ThrowawayPostgres() as server, tempfile.TemporaryDirectory(prefix="hltracker-load-") as work,
          contextlib.ExitStack() as stack):  # left in reverse: children stopped, logs deleted, database stopped
        url = server.create_database("load")
        try:
            return run(args, url, Path(work), stack)
        except KeyboardInterrupt:
            print("interrupted: tearing down", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
