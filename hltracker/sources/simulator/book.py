"""The open-position book of the simulator: one row per (wallet, market) with a non-zero size.

Sizes are integer lots (1 lot = 10^-szDecimals coins) so that long and short sizes balance exactly.
Rows are kept in arrays (struct of arrays) and compacted after each step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class PositionBook:
    wallet: np.ndarray  # int64
    market: np.ndarray  # int64
    lots: np.ndarray  # int64, signed, never 0
    entry: np.ndarray  # float64, entry price (size-weighted on increases)
    leverage: np.ndarray  # int32, the leverage setting
    isolated: np.ndarray  # bool
    iso_margin: np.ndarray  # float64, isolated collateral (rawUsd + szi x entry); 0 for cross
    funding_open: np.ndarray  # float64, funding paid since open (positive = paid)
    funding_change: np.ndarray  # float64, since the last size change
    funding_all: np.ndarray  # float64, all-time funding of this wallet on this coin
    open_ms: np.ndarray  # int64, time of the opening fill

    @classmethod
    def empty(cls) -> PositionBook:
        return cls(
            wallet=np.zeros(0, np.int64), market=np.zeros(0, np.int64), lots=np.zeros(0, np.int64),
            entry=np.zeros(0), leverage=np.zeros(0, np.int32), isolated=np.zeros(0, bool),
            iso_margin=np.zeros(0), funding_open=np.zeros(0), funding_change=np.zeros(0),
            funding_all=np.zeros(0), open_ms=np.zeros(0, np.int64),
        )

    def __len__(self) -> int:
        return int(self.lots.shape[0])

    def keys(self, n_markets: int) -> np.ndarray:
        return self.wallet * n_markets + self.market

    def take(self, index: np.ndarray) -> PositionBook:
        return PositionBook(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def extend(self, other: PositionBook) -> PositionBook:
        return PositionBook(
            **{f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self)}
        )

    def sorted_by_key(self, n_markets: int) -> PositionBook:
        return self.take(np.argsort(self.keys(n_markets), kind="stable"))

    def lookup(self, keys: np.ndarray, n_markets: int) -> np.ndarray:
        """Row index of each key, -1 where the wallet holds nothing in that market.

        The book must be sorted by key (see `sorted_by_key`).
        """
        own = self.keys(n_markets)
        idx = np.searchsorted(own, keys)
        idx_c = np.minimum(idx, max(len(self) - 1, 0))
        found = (idx < len(self)) & (own[idx_c] == keys) if len(self) else np.zeros(keys.shape, bool)
        return np.where(found, idx_c, -1)
