"""Production serving over PostgreSQL, as its operator runs it: `hltracker ingest --follow` in one process,
`hltracker serve --workers 2` in another, both against one database of a throwaway server.

- the workers answer while ingest lands snapshots (no error, ever);
- every worker serves a new snapshot within a few seconds of its landing although their polling
  interval is 60 s: they hear the landing through LISTEN/NOTIFY and drop their cached responses;
- the store hears a landing made through another connection (`wait_for_landing`).
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
from conftest import cli_process, free_port, stop_process

from hltracker.ingest import Ingestor
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import open_store

P = "/api/external"
START = "2026-11-20T00:00:00Z"


def _snapshot_ids(base: str, headers: dict, n: int) -> list[int]:
    """`n` requests on fresh connections (so both workers take some), each one's X-Snapshot-Id."""
    ids = []
    for _ in range(n):
        r = httpx.get(f"{base}{P}/positions/coins", headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        ids.append(int(r.headers["x-snapshot-id"]))
    return ids


def test_two_workers_serve_while_a_separate_ingest_lands_snapshots(postgres_server):
    url = postgres_server.create_database("production")
    backfill = cli_process("ingest", "--profile", "small", "--start", START, "--days", "0.05", "--database", url)
    out = backfill.communicate(timeout=300)[0]
    assert backfill.returncode == 0, out
    keys = cli_process("keys", "create", "--database", url)
    key = re.search(r"hlt_[A-Za-z0-9_-]{43}", keys.communicate(timeout=60)[0]).group(0)
    headers = {"Authorization": f"Bearer {key}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = cli_process("serve", "--database", url, "--port", str(port), "--workers", "2",
                 env={"HLTRACKER_POLL_SECONDS": "60", "HLTRACKER_RATE_LIMIT": "0"})
    ingest = None
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}{P}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and serve.poll() is None, "serve did not start"
            time.sleep(0.2)
        with open_store(url, read_only=True) as store:
            first = store.last_snapshot().snapshot_id
            assert set(_snapshot_ids(base, headers, 10)) == {first}

            ingest = cli_process("ingest", "--profile", "small", "--start", START, "--follow", "--interval", "1",
                          "--database", url)
            seen: set[int] = set()
            # Requests all along the landings: every one answers 200. The loop ends on what it waits for (4
            # landings, 3 snapshots served), not on a time budget; the ceiling only stops a broken ingest.
            ceiling = time.monotonic() + 600
            while store.last_snapshot().snapshot_id < first + 4 or len(seen) < 3:
                assert time.monotonic() < ceiling and ingest.poll() is None, (
                    f"ingest landed {store.last_snapshot().snapshot_id - first} snapshots, "
                    f"workers served {sorted(seen)}")
                seen |= set(_snapshot_ids(base, headers, 5))
                for path in ("/positions/heatmap", "/segments/1/summary", "/position-metrics/general"):
                    r = httpx.get(f"{base}{P}{path}", headers=headers, timeout=30)
                    assert r.status_code == 200, (path, r.text)
            ingest_out = stop_process(ingest)
            assert "Traceback" not in ingest_out, ingest_out
            last = store.last_snapshot().snapshot_id
        # every worker moved to the last snapshot long before its 60 s poll: it heard the NOTIFY
        deadline = time.monotonic() + 30  # far below the 60 s poll, so only a NOTIFY explains the move
        while set(ids := _snapshot_ids(base, headers, 20)) != {last}:
            assert time.monotonic() < deadline, f"workers still serve {sorted(set(ids))}, last landed {last}"
            time.sleep(0.2)
    finally:
        if ingest is not None:
            stop_process(ingest)
        serve_out = stop_process(serve)
    assert "Traceback" not in serve_out, serve_out


def test_the_store_hears_a_landing_made_by_another_connection(postgres_server):
    url = postgres_server.create_database("notify")
    source = SimulatorSource(profile="small", seed=1, steps=1, step=timedelta(hours=1),
                             start=datetime(2026, 11, 18, tzinfo=UTC))
    snapshots = list(source.snapshots())
    with open_store(url) as writer, open_store(url, read_only=True) as reader:
        Ingestor(writer).ingest(snapshots[:1])
        assert not reader.wait_for_landing(0.3)  # nothing new: waits out the timeout
        heard: list[tuple[bool, float]] = []
        started = time.monotonic()
        listening = threading.Thread(target=lambda: heard.append((reader.wait_for_landing(30),
                                                                   time.monotonic() - started)))
        listening.start()
        time.sleep(0.5)  # the listener is waiting before the landing commits
        Ingestor(writer).ingest(snapshots[1:])
        listening.join(timeout=40)
    assert heard and heard[0][0], "the landing was not heard (wait_for_landing waited out its 30 s)"


def test_serve_refuses_a_postgres_database_that_was_never_migrated(postgres_server):
    url = postgres_server.create_database("unmigrated")
    proc = cli_process("serve", "--database", url, "--port", str(free_port()), "--workers", "2")
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode != 0
    assert "not an hltracker database" in out and "hltracker ingest" in out, out
