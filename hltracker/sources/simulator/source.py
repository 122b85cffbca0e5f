"""`SimulatorSource`: the embedded default source, a seeded simulated market on a logical clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar

from hltracker.model import Snapshot
from hltracker.sources.simulator.frames import snapshot_of
from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.profiles import get_profile


class SimulatorSource:
    """A seeded simulated market: the genesis snapshot, then one snapshot per step of its logical clock.

    `steps` snapshots follow the genesis one, each `step` (default: the profile's) after the previous,
    from `start` (default: the profile's); `steps=None` runs endlessly.

    With `live_step`, the run has two phases: `steps` history steps of `step` (a backfill, e.g. three days
    at one hour), then endless steps of `live_step` (e.g. ten seconds, for a caller that lands one
    snapshot per `live_step` of wall-clock time, so that simulated time keeps up with the wall clock).
    `steps` then counts the history steps only and must be given. The market's rates are per unit of
    time, so the switch changes the granularity of the snapshots, not how much trades per hour.
    The source never sleeps: pacing is the caller's.
    """

    name: ClassVar[str] = "simulator"
    description: ClassVar[str] = (
        "Built-in Hyperliquid-like market: main DEX and HIP-3 DEXes, positions from matched trades, "
        "funding, liquidations; seeded and deterministic"
    )
    full_market: ClassVar[bool] = True

    def __init__(self, profile: str = "small", seed: int = 0, steps: int | None = None,
                 step: timedelta | None = None, start: datetime | None = None,
                 live_step: timedelta | None = None):
        """`steps`: how many snapshots after the first (None = endless); with `live_step`, how many history
        steps before the endless live ones. No work until iterated."""
        base = get_profile(profile)
        if step is not None:
            base = base.with_step(step)
        if start is not None:
            base = base.with_start(start)
        if live_step is not None:
            if steps is None:
                raise ValueError("live_step needs a finite number of history steps (steps)")
            if _ms(live_step) <= 0:
                raise ValueError(f"live_step must be at least a millisecond, got {live_step}")
        if _ms(base.step) <= 0:
            raise ValueError(f"step must be at least a millisecond, got {base.step}")
        self.profile = base
        self.seed = seed
        self.steps = steps
        self.live_step = live_step
        self.market: SimulatedMarket | None = None

    def snapshots(self) -> Iterator[Snapshot]:
        """The genesis snapshot, then one per step of the logical clock (history, then live steps)."""
        self.market = SimulatedMarket(self.profile, seed=self.seed)
        yield snapshot_of(self.market, self.profile.name)
        taken = 0
        while self.steps is None or taken < self.steps:
            self.market.step()
            taken += 1
            yield snapshot_of(self.market, self.profile.name)
        if self.live_step is None:
            return
        live_ms = _ms(self.live_step)
        while True:
            self.market.step(live_ms)
            yield snapshot_of(self.market, self.profile.name)

    def describe(self) -> dict[str, Any]:
        p = self.profile
        return {
            "name": self.name, "description": self.description, "full_market": self.full_market,
            "profile": p.name, "seed": self.seed, "wallets": p.n_wallets, "step": str(p.step),
            "start": p.start.isoformat(), "steps": self.steps,
            "live_step": None if self.live_step is None else str(self.live_step),
        }


def _ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)
