"""Benchmark: hot latest-snapshot routes of `hltracker serve` against a bare ASGI app (DESIGN 7).

    python scripts/bench_api.py [--seconds 10] [--connections 32] [--database PATH]

Fills a store with a day of hourly `small` snapshots (unless --database names a filled one), starts
the real server (uvicorn, one worker, rate limit off) and a bare ASGI app that answers the same bytes
with no auth, routing or cache, then drives keep-alive HTTP/1.1 connections at the hot routes for a
fixed time. Prints requests per second, latency percentiles, errors, and the ratio to the bare app.
Client and server share the machine, so compare the ratio rather than the absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HOT_ROUTES = [
    "/api/external/positions/coins",
    "/api/external/positions/heatmap?openedWithin=all",
    "/api/external/segments/9/summary",
    "/api/external/9/assets/liquidation-risk?limit=50",
    "/api/external/position-metrics/coin/BTC?start=2026-01-01T00:00:00Z&limit=100",
]


def bare_app_factory():
    """An ASGI app answering, for each hot route, the bytes hltracker answered: the floor for that answer."""
    folder = Path(os.environ["BARE_BODIES"])
    bodies = {route.encode(): (folder / f"{i}.json").read_bytes() for i, route in enumerate(HOT_ROUTES)}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        query = scope["query_string"]
        body = bodies[scope["raw_path"] + (b"?" + query if query else b"")]
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", *args, "--port", str(port), "--log-level", "warning"],
                            env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


async def _connection(port: int, key: str, paths: list[str], until: float, latencies: list[float],
                      errors: list[int], offset: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.perf_counter() < until:
            path = paths[i % len(paths)]
            i += 1
            request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n").encode()
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def drive(port: int, key: str, paths: list[str], seconds: float, connections: int) -> dict:
    latencies: list[float] = []
    errors: list[int] = []

    async def main():
        # warm up: fill the response cache
        await asyncio.gather(*(_connection(port, key, paths, time.perf_counter() + 1.0, [], [], i)
                               for i in range(len(paths))))
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_connection(port, key, paths, until, latencies, errors, i)
                               for i in range(connections)))

    asyncio.run(main())
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [float("nan")] * 99
    return {"rps": len(latencies) / seconds, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "errors": len(errors),
            "requests": len(latencies)}


def _fill_store(path: Path) -> None:
    from hltracker.ingest import Ingestor
    from hltracker.sources.simulator import SimulatorSource
    from hltracker.store import open_store

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    src = SimulatorSource(profile="small", seed=0, steps=24, step=timedelta(hours=1), start=start)
    with open_store(path) as store:
        Ingestor(store).ingest(src.snapshots())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database", type=Path, default=None)
    args = parser.parse_args()

    import httpx

    from hltracker.api.auth import hash_key, new_key
    from hltracker.store import open_store

    work = Path(tempfile.mkdtemp(prefix="hltracker-bench-"))
    database = args.database or work / "bench.duckdb"
    if args.database is None:
        print("filling a store with a day of hourly small snapshots ...", flush=True)
        _fill_store(database)
    key = new_key()
    with open_store(database) as store:
        store.add_api_key(hash_key(key), "bench", datetime.now(UTC))

    env = {"HLTRACKER_DATABASE_URL": str(database), "HLTRACKER_RATE_LIMIT": "0", "HLTRACKER_SECRET": "bench",
           "HLTRACKER_EXPORT_DIR": str(work / "exports")}
    port = _free_port()
    server = _start(["--factory", "hltracker.api:app_from_env"], env, port)
    try:
        for i, route in enumerate(HOT_ROUTES):
            answer = httpx.get(f"http://127.0.0.1:{port}{route}", headers={"Authorization": f"Bearer {key}"})
            (work / f"{i}.json").write_bytes(answer.content)
        ours = drive(port, key, HOT_ROUTES, args.seconds, args.connections)
    finally:
        server.terminate()
        server.wait()
    bare_port = _free_port()
    bare = _start(["--factory", "bench_api:bare_app_factory", "--app-dir", str(Path(__file__).parent)],
                  {"BARE_BODIES": str(work)}, bare_port)
    try:
        floor = drive(bare_port, key, HOT_ROUTES, args.seconds, args.connections)
    finally:
        bare.terminate()
        bare.wait()

    print(f"{'server':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, r in (("hltracker (hot routes)", ours), ("bare ASGI (same bodies)", floor)):
        print(f"{name:<28}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['errors']:>8}")
    print(f"ratio hltracker / bare: {ours['rps'] / floor['rps']:.2f}")


if __name__ == "__main__":
    main()
