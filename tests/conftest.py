"""Shared fixtures: a store filled by ingesting the small simulator (built once per test session).

`landed_store_path` is a DuckDB file holding `HISTORY_STEPS + 1` hourly snapshots of the `small`
profile from `HISTORY_START`: two days, so every "24 hours earlier" figure, 2-hour sample and age
window has data. Tests that need their own writable store copy the file (`store_copy`).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hltracker.ingest import Ingestor
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import open_store

HISTORY_START = datetime(2026, 11, 18, tzinfo=UTC)
HISTORY_STEP = timedelta(hours=1)
HISTORY_STEPS = 48


@pytest.fixture(scope="session")
def landed_store_path(tmp_path_factory) -> Path:
    """A DuckDB file with two days of hourly `small` simulator snapshots (do not write to it)."""
    path = tmp_path_factory.mktemp("landed") / "history.duckdb"
    src = SimulatorSource(profile="small", seed=0, steps=HISTORY_STEPS, step=HISTORY_STEP, start=HISTORY_START)
    with open_store(path) as store:
        report = Ingestor(store).ingest(src.snapshots())
    assert report.landed == HISTORY_STEPS + 1 and not report.rejected
    return path


@pytest.fixture
def store_copy(landed_store_path, tmp_path) -> Path:
    """A private copy of the landed store file, free to write to."""
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(landed_store_path, path)
    return path
