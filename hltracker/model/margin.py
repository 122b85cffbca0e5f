"""Hyperliquid's margin arithmetic, once (reference notes 3.1-3.2; DESIGN.md 3.5).

The simulator computes its positions' margin figures with it, and sources that read raw exchange state
(a node's ABCI snapshots) derive the same figures from the same formulas, so the two agree by
construction. Vectorised over positions; a "book" is one wallet's cross account on one dex.

For a position: value = |szi| x mark, unrealised PnL = szi x (mark - entry), maintenance margin =
value x mmr with mmr = 1 / (2 x max leverage of the tier the value falls in). Cross book: account value
= cash + summed cross uPnL; isolated: margin = isolated collateral + uPnL. Liquidation price:
    liq = mark - side x available / |szi| / (1 - mmr x side)
with available = cross account value - cross maintenance margin (whole book), or isolated margin -
the position's maintenance margin; no liquidation price (NaN) when the result is <= 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def maintenance_rate(notional: np.ndarray, tier_lower: np.ndarray, tier_leverage: np.ndarray) -> np.ndarray:
    """1 / (2 x max leverage of the tier each notional falls in).

    `tier_lower` and `tier_leverage` have one row per position (its market's table): tier lower bounds
    ascending, padded with +inf, and each tier's max leverage.
    """
    tier = (notional[:, None] >= tier_lower).sum(axis=1) - 1
    lev = np.take_along_axis(tier_leverage, np.maximum(tier, 0)[:, None], axis=1)[:, 0]
    return 1.0 / (2.0 * lev)


def liquidation_price(px: np.ndarray, szi: np.ndarray, available: np.ndarray, mmr: np.ndarray) -> np.ndarray:
    """DESIGN.md 3.5's liquidation price at mark `px`; NaN where it would be <= 0 (none)."""
    side = np.sign(szi)
    with np.errstate(divide="ignore", invalid="ignore"):
        liq = px - side * available / np.abs(szi) / (1.0 - mmr * side)
    return np.where(liq > 0, liq, np.nan)


@dataclass(frozen=True)
class BookMargin:
    value: np.ndarray  # per position
    upnl: np.ndarray
    margin_used: np.ndarray  # cross: value / leverage; isolated: its margin incl. uPnL
    liq_price: np.ndarray  # NaN where there is none
    cross_av: np.ndarray  # per book: cash + cross uPnL
    cross_mm: np.ndarray  # per book: cross maintenance margin
    cross_im: np.ndarray  # per book: cross initial margin (value / leverage)
    iso_equity: np.ndarray  # per book: summed isolated margin incl. uPnL

    @property
    def account_value(self) -> np.ndarray:
        """Per book: the dex's `marginSummary.accountValue`."""
        return self.cross_av + self.iso_equity

    @property
    def withdrawable(self) -> np.ndarray:
        """Per book: max(cross account value - cross initial margin, 0)."""
        return np.maximum(self.cross_av - self.cross_im, 0.0)


def book_margin(szi: np.ndarray, mark: np.ndarray, entry: np.ndarray, leverage: np.ndarray,
                isolated: np.ndarray, iso_margin: np.ndarray, mmr: np.ndarray, book: np.ndarray,
                cash: np.ndarray) -> BookMargin:
    """Every position's margin figures and every book's totals.

    Per position: signed size, mark, entry price, leverage setting, isolated flag, isolated collateral
    (rawUsd + szi x entry; ignored for cross), maintenance rate and its book's index into `cash` (the
    cross collateral of each book, realised PnL included).
    """
    size = cash.shape[0]
    value = np.abs(szi) * mark
    upnl = szi * (mark - entry)
    cross_upnl = np.bincount(book, weights=np.where(isolated, 0.0, upnl), minlength=size)
    cross_mm = np.bincount(book, weights=np.where(isolated, 0.0, value * mmr), minlength=size)
    cross_im = np.bincount(book, weights=np.where(isolated, 0.0, value / leverage), minlength=size)
    iso_margin_now = iso_margin + upnl
    iso_eq = np.bincount(book, weights=np.where(isolated, iso_margin_now, 0.0), minlength=size)
    cross_av = cash + cross_upnl
    margin_used = np.where(isolated, iso_margin_now, value / leverage)
    available = np.where(isolated, iso_margin_now - value * mmr, (cross_av - cross_mm)[book])
    return BookMargin(
        value=value, upnl=upnl, margin_used=margin_used, liq_price=liquidation_price(mark, szi, available, mmr),
        cross_av=cross_av, cross_mm=cross_mm, cross_im=cross_im, iso_equity=iso_eq,
    )
