"""Margin view of the simulated exchange (reference notes 1.6, 3.1, 3.2; DESIGN.md 3.5).

Accounts hold collateral per dex (`cash`, cross collateral including realised PnL). The arithmetic
(values, uPnL, maintenance margin by tier, liquidation prices) is `hltracker.model.margin`, shared with
the sources that derive the same figures from raw exchange state; this module lays the simulator's
book and universe out for it and sums the books per wallet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hltracker.model.margin import book_margin
from hltracker.sources.simulator.book import PositionBook
from hltracker.sources.simulator.universe import Universe


@dataclass(frozen=True)
class MarginView:
    szi: np.ndarray
    value: np.ndarray
    upnl: np.ndarray
    mmr: np.ndarray
    margin_used: np.ndarray
    liq_price: np.ndarray  # NaN where there is none
    isolated: np.ndarray
    book_index: np.ndarray  # flat (wallet, dex) index of each position
    cross_av: np.ndarray  # per flat (wallet, dex)
    cross_mm: np.ndarray
    cross_im: np.ndarray
    iso_equity: np.ndarray  # per flat (wallet, dex): summed isolated margin incl. uPnL
    perp_equity: np.ndarray  # per wallet, summed over dexes
    withdrawable: np.ndarray  # per wallet, summed over dexes

    def liquidatable(self) -> np.ndarray:
        """Positions whose mark has crossed their liquidation price (maintenance margin breached)."""
        cross_breach = self.cross_av < self.cross_mm
        iso_breach = self.margin_used < self.value * self.mmr
        return np.where(self.isolated, iso_breach, cross_breach[self.book_index])


def margin_view(book: PositionBook, uni: Universe, mark: np.ndarray, cash: np.ndarray) -> MarginView:
    """Every position's margin figures and every account's totals at the given marks.

    `cash` has shape (wallets, dexes).
    """
    n_wallets, n_dex = cash.shape
    m = book.market
    szi = book.lots * uni.lot[m]
    px = mark[m]
    mmr = uni.mmr(m, np.abs(szi) * px)
    flat = book.wallet * n_dex + uni.dex_index[m]
    bm = book_margin(szi, px, book.entry, book.leverage, book.isolated, book.iso_margin, mmr, flat, cash.ravel())
    return MarginView(
        szi=szi, value=bm.value, upnl=bm.upnl, mmr=mmr, margin_used=bm.margin_used, liq_price=bm.liq_price,
        isolated=book.isolated, book_index=flat,
        cross_av=bm.cross_av, cross_mm=bm.cross_mm, cross_im=bm.cross_im, iso_equity=bm.iso_equity,
        perp_equity=bm.account_value.reshape(n_wallets, n_dex).sum(axis=1),
        withdrawable=bm.withdrawable.reshape(n_wallets, n_dex).sum(axis=1),
    )
