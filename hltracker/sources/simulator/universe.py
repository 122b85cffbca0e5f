"""The market universe as arrays, built from the catalogue, in `perpDexs` x `meta.universe` order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hltracker.model.margin import maintenance_rate
from hltracker.sources.simulator.catalog import DEXES, MARGIN_TABLES, MARKETS, MarketSpec


@dataclass(frozen=True)
class Universe:
    specs: tuple[MarketSpec, ...]
    coin: np.ndarray  # str
    dex: np.ndarray  # str
    dex_index: np.ndarray  # int64, index into DEXES
    sz_decimals: np.ndarray  # int64
    lot: np.ndarray  # float64, coins per lot = 10^-szDecimals
    max_leverage: np.ndarray  # int64, first tier
    tier_lower: np.ndarray  # float64 (markets, tiers), +inf padding
    tier_leverage: np.ndarray  # int64 (markets, tiers)
    only_isolated: np.ndarray  # bool
    delisted: np.ndarray  # bool
    daily_vol: np.ndarray
    ref_price: np.ndarray
    target_oi: np.ndarray  # USD, both sides, mainnet scale
    target_positions: np.ndarray  # mainnet scale
    long_share: np.ndarray

    @property
    def n(self) -> int:
        return len(self.specs)

    @property
    def dexes(self) -> tuple[str, ...]:
        return DEXES

    def mmr(self, market: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """Maintenance margin rate 1 / (2 x max leverage of the tier the notional falls in)."""
        return maintenance_rate(notional, self.tier_lower[market], self.tier_leverage[market])


def build_universe() -> Universe:
    specs = MARKETS
    n_tiers = max(len(MARGIN_TABLES[s.margin_table_id].tiers) for s in specs)
    tier_lower = np.full((len(specs), n_tiers), np.inf)
    tier_leverage = np.ones((len(specs), n_tiers), dtype=np.int64)
    for i, s in enumerate(specs):
        for k, tier in enumerate(MARGIN_TABLES[s.margin_table_id].tiers):
            tier_lower[i, k] = tier.lower_bound
            tier_leverage[i, k] = tier.max_leverage
    szd = np.array([s.sz_decimals for s in specs], dtype=np.int64)
    return Universe(
        specs=specs,
        coin=np.array([s.coin for s in specs]),
        dex=np.array([s.dex for s in specs]),
        dex_index=np.array([DEXES.index(s.dex) for s in specs], dtype=np.int64),
        sz_decimals=szd,
        lot=10.0 ** (-szd.astype(np.float64)),
        max_leverage=np.array([s.max_leverage for s in specs], dtype=np.int64),
        tier_lower=tier_lower,
        tier_leverage=tier_leverage,
        only_isolated=np.array([s.only_isolated for s in specs]),
        delisted=np.array([s.is_delisted for s in specs]),
        daily_vol=np.array([s.daily_vol for s in specs]),
        ref_price=np.array([s.price for s in specs]),
        target_oi=np.array([s.oi_usd for s in specs]),
        target_positions=np.array([s.positions for s in specs], dtype=np.float64),
        long_share=np.array([s.long_share for s in specs]),
    )
