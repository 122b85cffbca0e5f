"""Margin arithmetic of the simulated exchange (reference notes 1.6, 3.1, 3.2; DESIGN.md 3.5).

Accounts hold collateral per dex (`cash`, cross collateral including realised PnL). For a position:
value = |szi| x mark, unrealised PnL = szi x (mark - entry), maintenance margin = value x mmr with
mmr = 1 / (2 x max leverage of the tier). Cross book per (wallet, dex): account value = cash + summed
cross uPnL; isolated: margin = iso_margin + uPnL. Liquidation price:
    liq = mark - side x available / |szi| / (1 - mmr x side)
with available = cross account value - cross maintenance margin (whole book), or isolated margin -
the position's maintenance margin; no liquidation price when the result is <= 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    value = np.abs(szi) * px
    upnl = szi * (px - book.entry)
    mmr = uni.mmr(m, value)
    iso = book.isolated
    flat = book.wallet * n_dex + uni.dex_index[m]
    size = n_wallets * n_dex
    cross_upnl = np.bincount(flat, weights=np.where(iso, 0.0, upnl), minlength=size)
    cross_mm = np.bincount(flat, weights=np.where(iso, 0.0, value * mmr), minlength=size)
    cross_im = np.bincount(flat, weights=np.where(iso, 0.0, value / book.leverage), minlength=size)
    iso_margin_now = book.iso_margin + upnl
    iso_eq = np.bincount(flat, weights=np.where(iso, iso_margin_now, 0.0), minlength=size)
    cross_av = cash.ravel() + cross_upnl
    margin_used = np.where(iso, iso_margin_now, value / book.leverage)

    side = np.sign(szi)
    available = np.where(iso, iso_margin_now - value * mmr, (cross_av - cross_mm)[flat])
    with np.errstate(divide="ignore", invalid="ignore"):
        liq = px - side * available / np.abs(szi) / (1.0 - mmr * side)
    liq = np.where(liq > 0, liq, np.nan)

    perp_equity = (cross_av + iso_eq).reshape(n_wallets, n_dex).sum(axis=1)
    free = np.maximum(cross_av - cross_im, 0.0).reshape(n_wallets, n_dex).sum(axis=1)
    return MarginView(
        szi=szi, value=value, upnl=upnl, mmr=mmr, margin_used=margin_used, liq_price=liq, isolated=iso,
        book_index=flat,
        cross_av=cross_av, cross_mm=cross_mm, cross_im=cross_im, iso_equity=iso_eq,
        perp_equity=perp_equity, withdrawable=free,
    )
