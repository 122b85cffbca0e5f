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
    name: ClassVar[str] = "simulator"
    description: ClassVar[str] = (
        "Built-in Hyperliquid-like market: main DEX and HIP-3 DEXes, positions from matched trades, "
        "funding, liquidations; seeded and deterministic"
    )
    full_market: ClassVar[bool] = True

    def __init__(self, profile: str = "small", seed: int = 0, steps: int | None = None,
                 step: timedelta | None = None, start: datetime | None = None):
        """`steps`: how many snapshots after the first (None = endless). No work until iterated."""
        base = get_profile(profile)
        if step is not None:
            base = base.with_step(step)
        if start is not None:
            base = base.with_start(start)
        self.profile = base
        self.seed = seed
        self.steps = steps
        self.market: SimulatedMarket | None = None

    def snapshots(self) -> Iterator[Snapshot]:
        """The genesis snapshot, then one per step of the logical clock."""
        self.market = SimulatedMarket(self.profile, seed=self.seed)
        yield snapshot_of(self.market, self.profile.name)
        taken = 0
        while self.steps is None or taken < self.steps:
            self.market.step()
            taken += 1
            yield snapshot_of(self.market, self.profile.name)

    def describe(self) -> dict[str, Any]:
        p = self.profile
        return {
            "name": self.name, "description": self.description, "full_market": self.full_market,
            "profile": p.name, "seed": self.seed, "wallets": p.n_wallets, "step": str(p.step),
            "start": p.start.isoformat(), "steps": self.steps,
        }
