"""The 16 cohorts (the API calls them segments) of DESIGN.md 3.1, as data.

Every active wallet is in one size cohort (by perp equity) and one PnL cohort (by all-time perp PnL).
Bounds: lower inclusive, upper exclusive; `None` is an open bound. Negative perp equity counts as
Shrimp (its assignment lower bound is -inf, while `/segments` still shows `minSize: 0`).
The ids are HyperTracker's and are not in size order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

Category = Literal["size", "pnl"]


@dataclass(frozen=True)
class Cohort:
    id: int
    name: str
    category: Category
    emoji: str
    lower: float | None  # inclusive; None = -inf
    upper: float | None  # exclusive; None = +inf

    def criteria(self) -> dict[str, float | None]:
        """The `criteria` object of `GET /segments`."""
        lo, hi = ("minSize", "maxSize") if self.category == "size" else ("minPnl", "maxPnl")
        lower = 0.0 if self.id == SHRIMP_ID else self.lower
        return {lo: _num(lower), hi: _num(self.upper)}

    def contains(self, value: float) -> bool:
        lower = -np.inf if (self.lower is None or self.id == SHRIMP_ID) else self.lower
        upper = np.inf if self.upper is None else self.upper
        return lower <= value < upper


def _num(v: float | None) -> float | int | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else v


SHRIMP_ID = 16

SIZE_COHORTS: tuple[Cohort, ...] = (
    Cohort(16, "Shrimp", "size", "🦐", 0, 250),
    Cohort(1, "Fish", "size", "🐟", 250, 10_000),
    Cohort(2, "Dolphin", "size", "🐬", 10_000, 50_000),
    Cohort(3, "Apex Predator", "size", "🦈", 50_000, 100_000),
    Cohort(4, "Small Whale", "size", "🐋", 100_000, 500_000),
    Cohort(5, "Whale", "size", "🐳", 500_000, 1_000_000),
    Cohort(6, "Tidal Whale", "size", "🌊", 1_000_000, 5_000_000),
    Cohort(7, "Leviathan", "size", "🐉", 5_000_000, None),
)

PNL_COHORTS: tuple[Cohort, ...] = (
    Cohort(15, "Giga-Rekt", "pnl", "💀", None, -1_000_000),
    Cohort(14, "Full Rekt", "pnl", "🚨", -1_000_000, -100_000),
    Cohort(13, "Semi-Rekt", "pnl", "🔥", -100_000, -10_000),
    Cohort(12, "Exit Liquidity", "pnl", "🤡", -10_000, 0),
    Cohort(11, "Humble Earner", "pnl", "🙏", 0, 10_000),
    Cohort(10, "Consistent Grinder", "pnl", "📊", 10_000, 100_000),
    Cohort(9, "Smart Money", "pnl", "📈", 100_000, 1_000_000),
    Cohort(8, "Money Printer", "pnl", "💰", 1_000_000, None),
)

COHORTS: tuple[Cohort, ...] = tuple(sorted(SIZE_COHORTS + PNL_COHORTS, key=lambda c: c.id))
COHORTS_BY_ID: dict[int, Cohort] = {c.id: c for c in COHORTS}
SIZE_COHORT_IDS: tuple[int, ...] = tuple(c.id for c in SIZE_COHORTS)
PNL_COHORT_IDS: tuple[int, ...] = tuple(c.id for c in PNL_COHORTS)

# Ascending inner edges, for vectorised assignment with searchsorted / cut.
_SIZE_EDGES = np.array([c.upper for c in SIZE_COHORTS[:-1]], dtype=np.float64)
_PNL_EDGES = np.array([c.upper for c in PNL_COHORTS[:-1]], dtype=np.float64)
_SIZE_IDS = np.array(SIZE_COHORT_IDS, dtype=np.int16)
_PNL_IDS = np.array(PNL_COHORT_IDS, dtype=np.int16)


def size_cohort_of(perp_equity: float) -> int:
    """The size cohort id of one perp-equity value."""
    return int(_SIZE_IDS[np.searchsorted(_SIZE_EDGES, perp_equity, side="right")])


def pnl_cohort_of(all_time_pnl: float) -> int:
    """The PnL cohort id of one all-time perp PnL value."""
    return int(_PNL_IDS[np.searchsorted(_PNL_EDGES, all_time_pnl, side="right")])


def size_cohort_ids(perp_equity: np.ndarray) -> np.ndarray:
    """Vectorised `size_cohort_of` (int16 ids)."""
    return _SIZE_IDS[np.searchsorted(_SIZE_EDGES, perp_equity, side="right")]


def pnl_cohort_ids(all_time_pnl: np.ndarray) -> np.ndarray:
    """Vectorised `pnl_cohort_of` (int16 ids)."""
    return _PNL_IDS[np.searchsorted(_PNL_EDGES, all_time_pnl, side="right")]


def _cohort_expr(col: pl.Expr, edges: np.ndarray, ids: np.ndarray) -> pl.Expr:
    expr = pl.lit(int(ids[-1]), dtype=pl.Int16)
    # Walk the edges from the top down: the first edge the value is below decides.
    for edge, cid in zip(edges[::-1], ids[:-1][::-1], strict=True):
        expr = pl.when(col < float(edge)).then(pl.lit(int(cid), dtype=pl.Int16)).otherwise(expr)
    return expr


def size_cohort_expr(col: str | pl.Expr = "perp_equity") -> pl.Expr:
    """A Polars expression giving the size cohort id of a perp-equity column."""
    c = pl.col(col) if isinstance(col, str) else col
    return _cohort_expr(c, _SIZE_EDGES, _SIZE_IDS)


def pnl_cohort_expr(col: str | pl.Expr = "all_time_pnl") -> pl.Expr:
    """A Polars expression giving the PnL cohort id of an all-time PnL column."""
    c = pl.col(col) if isinstance(col, str) else col
    return _cohort_expr(c, _PNL_EDGES, _PNL_IDS)
