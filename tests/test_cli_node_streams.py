"""`hltracker ingest --source hyperliquid-node --path hl/data [--follow]` and `hltracker node verify` on the
files the simulator writes as a node would: a kill -9 mid-follow and a restart end with the same store as
an uninterrupted run; verify prints the match figures and fails on a mismatch."""

from __future__ import annotations

import json
import shutil
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stores import table_contents

from hltracker.sources.hyperliquid_node.streams import hourly_files
from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.node_state import write_abci_state
from hltracker.sources.simulator.node_streams import NodeStreamWriter
from hltracker.sources.simulator.profiles import get_profile
from hltracker.store import open_store
from tests.conftest import cli_process, stop_process

START = datetime(2026, 3, 20, 0, 58, tzinfo=UTC)
STEPS = 36  # six minutes of 10-second steps after the first state file: 37 snapshots


@pytest.fixture(scope="module")
def node_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hl") / "data"
    sim = SimulatedMarket(get_profile("small").with_start(START), seed=8)
    writer = NodeStreamWriter(sim, root)
    sim.step(10_000)  # the anchor's marks are in this step's blocks
    for i in range(STEPS + 1):
        if i % 18 == 0:
            write_abci_state(sim, root / "periodic_abci_states", "rmp", height=writer.height())
        if i < STEPS:
            sim.step(10_000)
    return root


def _run(*args: str, timeout: float = 300) -> tuple[int, str]:
    proc = cli_process(*args)
    proc.wait(timeout=timeout)
    return proc.returncode, stop_process(proc)


def _landed(db: str) -> int:
    with open_store(db, read_only=True) as store:
        return store.snapshot_count()


def test_ingest_replays_the_streams_and_reports_the_checks(node_data, tmp_path):
    db = str(tmp_path / "n.duckdb")
    code, out = _run("ingest", "--source", "hyperliquid-node", "--path", str(node_data), "--database", db)
    assert code == 0, out
    assert "landed 37, already there 0, rejected 0" in " ".join(out.split())
    assert out.count("positions of equal size") == 2
    with open_store(db, read_only=True) as store:
        assert store.load_state().taken_at == datetime(2026, 3, 20, 1, 4, 10, tzinfo=UTC)


def test_kill_9_during_follow_then_restart_ends_like_an_uninterrupted_run(node_data, tmp_path):
    clean = str(tmp_path / "clean.duckdb")
    t = time.monotonic()
    code, out = _run("ingest", "--source", "hyperliquid-node", "--path", str(node_data), "--database", clean)
    duration = time.monotonic() - t
    assert code == 0, out
    crashed = str(tmp_path / "crashed.duckdb")
    args = ("ingest", "--source", "hyperliquid-node", "--path", str(node_data), "--follow", "--database", crashed)
    child = cli_process(*args)
    time.sleep(duration * 0.6)
    assert child.poll() is None, "the follower ended: it should wait for more blocks"
    child.send_signal(signal.SIGKILL)
    child.wait()
    partial = _landed(crashed)
    assert 0 < partial < 37, partial
    again = cli_process(*args)
    # the backfill's progress bar is printed when it is done: then the follower only waits for blocks
    lines = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not any("37/37" in line for line in lines):
        lines.append(again.stdout.readline())
    out = "".join(lines) + stop_process(again)
    assert f"landed {37 - partial}, already there {partial}, rejected 0" in " ".join(out.split()), out
    left, right = table_contents(clean, drop_wall_clock=True), table_contents(crashed, drop_wall_clock=True)
    assert left.keys() == right.keys()
    for name in left:
        assert left[name].equals(right[name]), f"table {name} differs"


def test_node_verify_prints_the_match(node_data):
    code, out = _run("node", "verify", str(node_data))
    assert code == 0, out
    assert "the replay matches the state file" in out and "size_mismatch" in out


def test_node_verify_fails_when_the_streams_lose_a_fill(node_data, tmp_path):
    root = shutil.copytree(node_data, tmp_path / "data")
    folder = root / "node_fills_by_block" / "hourly"
    first = min(int(p.stem) for p in (root / "periodic_abci_states").rglob("*.rmp"))
    for _, path in hourly_files(folder):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            block = json.loads(line)
            if block["events"] and block["block_number"] > first:
                block["events"] = block["events"][1:]  # one fill lost: the replay diverges
                lines[i] = json.dumps(block)
                path.write_text("\n".join(lines) + "\n")
                break
        else:
            continue
        break
    code, out = _run("node", "verify", str(root))
    assert code == 1 and "Traceback" not in out, out
    assert "does not match" in out or "cannot replay" in out
