"""Simulator profiles: how big a market to simulate and how it behaves.

`mainnet` is calibrated to the published figures in the seed pages (see `report.py`); `small` is the
same market scaled down for the demo and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Profile:
    name: str
    n_wallets: int  # wallets with any equity (most hold no position)
    position_scale: float  # target open positions = catalogue targets x this
    n_market_makers: int  # wallets that absorb the net order flow
    trader_share: float  # share of wallets that hold positions at genesis
    recent_trader_share: float  # share that traded in the last 30 days but hold nothing now
    step: timedelta = timedelta(minutes=15)
    start: datetime = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)
    mean_holding_days: float = 3.0  # median holding time of a position
    adjust_days: float = 1.5  # mean time between size changes of a position
    flip_share: float = 0.04  # share of size changes that flip the side
    # share of its inventory a market maker unwinds per step; since each market's flow goes to its lead
    # maker (genesis.mm_absorb), the only maker holding it, the unwinding nets out within that maker
    mm_inventory_reversion: float = 0.3
    perp_equity_target: float = 3.22e9  # summed perp equity at mainnet scale (seed general metrics)

    def with_start(self, start: datetime) -> Profile:
        return replace(self, start=start)

    def with_step(self, step: timedelta) -> Profile:
        return replace(self, step=step)


PROFILES: dict[str, Profile] = {
    "mainnet": Profile(
        name="mainnet",
        n_wallets=1_000_000,
        position_scale=1.0,
        n_market_makers=40,
        trader_share=0.116,
        recent_trader_share=0.08,
    ),
    "small": Profile(
        name="small",
        n_wallets=20_000,
        position_scale=0.02,
        n_market_makers=3,
        trader_share=0.116,
        recent_trader_share=0.08,
    ),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown simulator profile {name!r}; choose one of {sorted(PROFILES)}") from None
