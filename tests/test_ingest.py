"""Ingest end to end: simulator and snapshot files into a real store, through the real CLI, on both
backends (a DuckDB file and a PostgreSQL database of a throwaway server).

- re-ingesting lands nothing new (and leaves every table as it was);
- a malformed snapshot is rejected with its reason, nothing of it lands, the next one is taken;
- a child process killed mid-ingest and restarted ends with the same store as an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stores import table_contents

from hltracker.engine import next_state, run
from hltracker.ingest import Ingestor, paced, simulator_start
from hltracker.model import Snapshot
from hltracker.sources.simulator import SimulatorSource
from hltracker.sources.snapshot_files import write_snapshot
from hltracker.store import open_store

START = "2026-03-20T00:00:00Z"
T0 = datetime(2026, 3, 20, tzinfo=UTC)
LANDED = datetime(2026, 11, 21, tzinfo=UTC)


@lru_cache(maxsize=2)
def _snapshots(seed: int = 5, steps: int = 3) -> tuple[Snapshot, ...]:
    return tuple(SimulatorSource("small", seed=seed, steps=steps).snapshots())


def _tables(url: str) -> dict[str, pl.DataFrame]:
    """Every table's full contents in a canonical order (`landed_at` is wall-clock, so left out)."""
    return table_contents(url, drop_wall_clock=True)


def _assert_same_store(a: str, b: str) -> None:
    left, right = _tables(a), _tables(b)
    assert left.keys() == right.keys()
    for name in left:
        assert left[name].equals(right[name]), f"table {name} differs"


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "1000"}  # no wrapping of long paths in the report
    return subprocess.run([sys.executable, "-m", "hltracker.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env, **kw)


def test_ingest_lands_each_snapshot_once_and_reingest_changes_nothing(new_store_url):
    db = new_store_url()
    with open_store(db) as store:
        report = Ingestor(store, clock=lambda: LANDED).ingest(_snapshots())
        assert (report.landed, report.skipped, report.rejected) == (4, 0, [])
        assert store.snapshot_count() == 4
        assert store.load_state().taken_at == _snapshots()[-1].taken_at
    before = _tables(db)
    with open_store(db) as store:
        again = Ingestor(store, clock=lambda: LANDED + timedelta(days=1)).ingest(_snapshots())
        assert (again.landed, again.skipped) == (0, 4)
    after = _tables(db)
    assert before.keys() == after.keys()
    for name in before:
        assert before[name].equals(after[name]), name


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(st.integers(0, 3), st.integers(0, 3))
def test_running_the_same_snapshot_twice_lands_nothing_new(new_store_url, upto, repeat):
    """Property: after landing snapshots 0..upto, offering any of them again (or its engine result) is a no-op."""
    db = new_store_url("prop")
    snaps = _snapshots()
    with open_store(db) as store:
        ingestor = Ingestor(store, clock=lambda: LANDED)
        ingestor.ingest(snaps[: upto + 1])
        count, state = store.snapshot_count(), store.load_state()
        assert ingestor.offer(snaps[min(repeat, upto)]) is False
        result = run(snaps[upto], _state_before(snaps, upto))
        assert store.land(result, source="simulator", height=None, extra={}, landed_at=LANDED) is None
        assert store.snapshot_count() == count
        assert store.load_state().open_positions.equals(state.open_positions)


def _state_before(snaps: tuple[Snapshot, ...], upto: int):
    state = None
    for snap in snaps[:upto]:
        state = next_state(run(snap, state))
    return state


def _broken(snap: Snapshot, how: str) -> Snapshot:
    m, p = snap.markets, snap.positions
    if how == "missing column":
        p = p.drop("entry_price")
    elif how == "wrong type":
        p = p.with_columns(pl.col("leverage").cast(pl.Float64))
    elif how == "NaN price":
        m = m.with_columns(pl.when(pl.col("coin") == "BTC").then(float("nan")).otherwise("mark_price")
                           .alias("mark_price"))
    elif how == "negative price":
        m = m.with_columns(pl.when(pl.col("coin") == "ETH").then(-1.0).otherwise("oracle_price")
                           .alias("oracle_price"))
    elif how == "duplicate address x coin":
        p = pl.concat([p, p.head(1)])
    elif how == "unknown market":
        p = p.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("NOPE")).otherwise("coin").alias("coin"))
    return Snapshot(taken_at=snap.taken_at, source=snap.source, markets=m, accounts=snap.accounts, positions=p,
                    fills=snap.fills, height=snap.height, extra=snap.extra)


REASONS = {
    "missing column": "missing column 'entry_price'",
    "wrong type": "positions.leverage: expected Int32",
    "NaN price": "markets.mark_price",
    "negative price": "markets.oracle_price",
    "duplicate address x coin": "duplicate address",
    "unknown market": "unknown market",
}


@pytest.mark.parametrize("how", list(REASONS))
def test_a_malformed_snapshot_is_rejected_whole_and_the_next_one_lands(new_store_url, how):
    s0, s1, s2, _ = _snapshots()
    db = new_store_url()
    with open_store(db) as store:
        ingestor = Ingestor(store, clock=lambda: LANDED)
        ingestor.ingest([s0])
    before = _tables(db)
    with open_store(db) as store:
        ingestor = Ingestor(store, clock=lambda: LANDED)
        assert ingestor.offer(_broken(s1, how)) is False
        [rejected] = ingestor.report.rejected
        assert any(REASONS[how] in problem for problem in rejected.problems), rejected.problems
        assert s1.taken_at.isoformat() in rejected.where
    after = _tables(db)
    for name in before:
        assert before[name].equals(after[name]), f"{name} changed by a rejected snapshot"
    with open_store(db) as store:
        ingestor = Ingestor(store, clock=lambda: LANDED)
        assert ingestor.offer(s2) is True  # the next snapshot is taken, from the last landed state
        assert store.snapshot_count() == 2
        # s1 never landed, so s2's lifecycles follow s0 directly: every s0 position still open keeps its id
        ids0 = set(ingestor.state.open_positions["id"]) & set(run(s0, None).open_positions["id"])
        assert len(ids0) > 0.8 * s0.positions.height


def test_cli_ingests_snapshot_files_reporting_the_malformed_folder(tmp_path, new_store_url):
    snaps = _snapshots()
    root = tmp_path / "snaps"
    folders = [write_snapshot(s, root) for s in snaps]
    (folders[2] / "positions.parquet").write_bytes(b"not parquet")  # a damaged dump
    db = new_store_url("files")
    done = _cli("ingest", "--source", "snapshot-files", "--path", str(root), "--database", db)
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "landed 3, already there 0, rejected 1" in out
    assert folders[2].name in out and "does not match its sha256" in out
    with open_store(db) as store:
        assert store.snapshot_count() == 3
        assert not store.has_snapshot(snaps[2].taken_at)
    # the same folder again: nothing new
    again = _cli("ingest", "--source", "snapshot-files", "--path", str(root), "--database", db)
    assert "landed 0, already there 3, rejected 1" in " ".join(again.stdout.split())


def test_cli_simulator_backfill_then_resume_with_more_days(new_store_url):
    db = new_store_url("sim")
    first = _cli("ingest", "--profile", "small", "--days", "0.125", "--start", START, "--database", db)
    assert first.returncode == 0, first.stderr
    assert "landed 13, already there 0" in " ".join(first.stdout.split())
    more = _cli("ingest", "--profile", "small", "--days", "0.25", "--database", db)
    assert "landed 12, already there 13" in " ".join(more.stdout.split())
    wrong = _cli("ingest", "--profile", "small", "--days", "0.25", "--start", "2026-01-01T00:00Z",
                 "--database", db)
    assert wrong.returncode != 0 and "began at 2026-03-20T00:00:00+00:00" in wrong.stderr + wrong.stdout
    with open_store(db) as store:
        assert store.snapshot_count() == 25
        assert store.first_snapshot("simulator").taken_at == T0
        assert store.last_snapshot().taken_at == T0 + timedelta(hours=6)


def test_crash_mid_ingest_then_restart_ends_like_an_uninterrupted_run(new_store_url):
    args = ("ingest", "--profile", "small", "--seed", "3", "--days", "0.25", "--start", START)
    clean = new_store_url("clean")
    t = time.monotonic()
    assert _cli(*args, "--database", clean).returncode == 0
    duration = time.monotonic() - t

    crashed = new_store_url("crashed")
    kills = 0
    for fraction in (0.55, 0.8):
        child = subprocess.Popen([sys.executable, "-m", "hltracker.cli", *args, "--database", crashed],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * fraction)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
    assert kills >= 1, "the child finished before it could be killed; the test proved nothing"
    with open_store(crashed) as store:
        partial = store.snapshot_count()
    finish = _cli(*args, "--database", crashed)
    assert finish.returncode == 0, finish.stderr
    assert f"already there {partial}" in " ".join(finish.stdout.split())
    _assert_same_store(clean, crashed)


def test_follow_keeps_ticking_until_interrupted(new_store_url):
    db = new_store_url("live")
    child = subprocess.Popen([sys.executable, "-m", "hltracker.cli", "ingest", "--profile", "small", "--days", "0.02",
                              "--start", START, "--follow", "--interval", "0.2", "--database", db],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 120
    lines = []
    while time.monotonic() < deadline and sum("this run" in line for line in lines) < 3:
        lines.append(child.stdout.readline())
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    assert sum("this run" in line for line in lines) >= 3, lines
    assert "stopped" in out
    with open_store(db) as store:
        assert store.snapshot_count() >= 2 + 3  # backfill (genesis + 1 step) and three live steps


def test_paced_yields_the_backfill_at_once_then_one_item_per_interval():
    slept = []
    clock = iter(range(100))
    items = list(paced(range(5), after=2, interval=10.0, sleep=slept.append, monotonic=lambda: next(clock)))
    assert items == [0, 1, 2, 3, 4]
    assert len(slept) == 2 and all(s > 0 for s in slept)


def test_simulator_start_resumes_the_stored_run_or_ends_the_backfill_now(tmp_path):
    step = timedelta(minutes=15)
    now = datetime(2026, 11, 21, 10, 7, 30, tzinfo=UTC)
    with open_store(tmp_path / "empty.duckdb") as store:
        assert simulator_start(store, None, 2, step, now) == datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
        assert simulator_start(store, T0, 2, step, now) == T0

