"""The simulator with varying steps: a backfill at a coarse step, then live steps (`SimulatorSource(live_step=...)`)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from hltracker.model import Snapshot, validate_snapshot
from hltracker.sources.simulator import SimulatedMarket, SimulatorSource, get_profile
from hltracker.sources.simulator.frames import markets_frame, snapshot_of

START = datetime(2026, 3, 20, 22, 0, tzinfo=UTC)  # the history crosses midnight (funding, day checkpoint)
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def _live_run(n: int, seed: int = 4) -> list[Snapshot]:
    src = SimulatorSource(profile="small", seed=seed, steps=3, step=timedelta(hours=1), start=START,
                          live_step=timedelta(seconds=10))
    return list(itertools.islice(src.snapshots(), n))


@pytest.fixture(scope="module")
def live_run() -> list[Snapshot]:
    return _live_run(12)


def _net_lots(snap: Snapshot) -> pl.DataFrame:
    return snap.positions.join(snap.markets.select("coin", "sz_decimals"), on="coin").group_by("coin").agg(
        (pl.col("szi") * 10.0 ** pl.col("sz_decimals")).round().cast(pl.Int64).sum().alias("net"))


def test_history_steps_then_live_steps(live_run):
    got = [s.taken_at - START for s in live_run]
    want = [timedelta(hours=h) for h in range(4)] + [timedelta(hours=3, seconds=10 * i) for i in range(1, 9)]
    assert got == want
    assert [s.height for s in live_run] == list(range(12))


def test_every_snapshot_is_valid_and_balanced(live_run):
    for prev, cur in itertools.pairwise(live_run):
        validate_snapshot(cur)
        assert _net_lots(cur).filter(pl.col("net") != 0).height == 0, cur.taken_at
        # This step's fills lie in (previous snapshot, this snapshot].
        if cur.fills.height:
            assert cur.fills["time"].min() > prev.taken_at and cur.fills["time"].max() <= cur.taken_at
    assert any(s.fills.height for s in live_run[4:]), "ten-second steps never trade"


def test_live_step_needs_history_steps_and_is_described():
    with pytest.raises(ValueError, match="live_step"):
        SimulatorSource(live_step=timedelta(seconds=10))
    with pytest.raises(ValueError, match="live_step"):
        SimulatorSource(steps=3, live_step=timedelta(0))
    info = SimulatorSource(steps=72, step=timedelta(hours=1), live_step=timedelta(seconds=10)).describe()
    assert info["steps"] == 72 and info["step"] == "1:00:00" and info["live_step"] == "0:00:10"
    assert SimulatorSource(steps=5).describe()["live_step"] is None


def test_without_live_step_the_source_stops_after_its_steps():
    assert len(list(SimulatorSource(profile="small", seed=1, steps=2).snapshots())) == 3


def test_live_source_is_deterministic(live_run):
    again = _live_run(7)
    for x, y in zip(live_run[:7], again, strict=True):
        assert x.taken_at == y.taken_at
        for name, df in x.frames().items():
            assert df.equals(y.frames()[name], null_equal=True), name


IRREGULAR_MS = [HOUR_MS, 10_000, 420_000, 1, 2 * DAY_MS, 10_000, 3 * HOUR_MS, 10_000]


def _irregular(seed: int) -> list[Snapshot]:
    """Snapshots after steps of an hour, seconds, a millisecond and two days, in no pattern."""
    sim = SimulatedMarket(get_profile("small"), seed=seed)
    out = [snapshot_of(sim, "small")]
    for ms in IRREGULAR_MS:
        sim.step(ms)
        out.append(snapshot_of(sim, "small"))
    return out


def test_varying_steps_are_deterministic_valid_and_balanced():
    a, b = _irregular(21), _irregular(21)
    start = a[0].taken_at
    assert [s.taken_at - start for s in a] == [timedelta(milliseconds=int(t)) for t in np.cumsum([0, *IRREGULAR_MS])]
    for x, y in zip(a, b, strict=True):
        validate_snapshot(x)
        assert _net_lots(x).filter(pl.col("net") != 0).height == 0
        vol = x.markets["day_ntl_volume"].to_numpy()
        assert np.isfinite(vol).all() and (vol >= 0).all()
        for name, df in x.frames().items():
            assert df.equals(y.frames()[name], null_equal=True), name


def test_day_volume_is_the_notional_traded_in_the_last_24_hours_across_the_switch():
    """Hourly history, then ten-minute steps: the 24h window straddles both (bucket edges line up here)."""
    src = SimulatorSource(profile="small", seed=6, steps=26, step=timedelta(hours=1),
                          live_step=timedelta(minutes=10))
    snaps = list(itertools.islice(src.snapshots(), 1 + 26 + 30))
    now = snaps[-1].taken_at
    fills = pl.concat([s.fills for s in snaps[1:]]).filter(pl.col("time") > now - timedelta(days=1))
    traded = fills.group_by("coin").agg(((pl.col("px") * pl.col("sz")).sum() / 2).alias("traded"))
    chk = snaps[-1].markets.join(traded, on="coin", how="left").fill_null(0.0)
    assert chk["traded"].sum() > 0
    assert np.allclose(chk["day_ntl_volume"].to_numpy(), chk["traded"].to_numpy(), rtol=1e-9, atol=1e-6)


def test_day_volume_does_not_depend_much_on_the_step():
    """A day of ten-minute steps and a day of hourly steps, same seed: the same order of 24h volume."""
    totals = {}
    for step_ms in (600_000, HOUR_MS):
        sim = SimulatedMarket(get_profile("small"), seed=8)
        for _ in range(DAY_MS // step_ms):
            sim.step(step_ms)
            vol = markets_frame(sim)["day_ntl_volume"].to_numpy()
            assert np.isfinite(vol).all() and (vol >= 0).all()
        totals[step_ms] = float(vol.sum())
    assert totals[HOUR_MS] > 0
    assert 1 / 3 < totals[600_000] / totals[HOUR_MS] < 3, totals
