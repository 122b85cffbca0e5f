"""The 10 position-size buckets of DESIGN.md 3.2, by position value |szi| x mark.

Lower bound inclusive, upper exclusive; `min_size`/`max_size` are what the breakdown-by-size export
shows (`null` for an open bound, as in the seed example).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class SizeBucket:
    id: int
    label: str
    min_size: float | None
    max_size: float | None

    def contains(self, value: float) -> bool:
        lo = -np.inf if self.min_size is None else self.min_size
        hi = np.inf if self.max_size is None else self.max_size
        return lo <= value < hi


SIZE_BUCKETS: tuple[SizeBucket, ...] = (
    SizeBucket(1, "<$1k", None, 1_000),
    SizeBucket(2, "$1k-$10k", 1_000, 10_000),
    SizeBucket(3, "$10k-$25k", 10_000, 25_000),
    SizeBucket(4, "$25k-$50k", 25_000, 50_000),
    SizeBucket(5, "$50k-$100k", 50_000, 100_000),
    SizeBucket(6, "$100k-$250k", 100_000, 250_000),
    SizeBucket(7, "$250k-$500k", 250_000, 500_000),
    SizeBucket(8, "$500k-$1m", 500_000, 1_000_000),
    SizeBucket(9, "$1m-$2.5m", 1_000_000, 2_500_000),
    SizeBucket(10, ">$2.5m", 2_500_000, None),
)
SIZE_BUCKETS_BY_ID: dict[int, SizeBucket] = {b.id: b for b in SIZE_BUCKETS}
SIZE_BUCKET_IDS: tuple[int, ...] = tuple(b.id for b in SIZE_BUCKETS)

_EDGES = np.array([b.max_size for b in SIZE_BUCKETS[:-1]], dtype=np.float64)
_IDS = np.array(SIZE_BUCKET_IDS, dtype=np.int16)


def size_bucket_of(position_value: float) -> int:
    """The bucket id of one position value (USD)."""
    return int(_IDS[np.searchsorted(_EDGES, position_value, side="right")])


def size_bucket_ids(position_value: np.ndarray) -> np.ndarray:
    """Vectorised `size_bucket_of` (int16 ids)."""
    return _IDS[np.searchsorted(_EDGES, position_value, side="right")]


def size_bucket_expr(col: str | pl.Expr = "position_value") -> pl.Expr:
    """A Polars expression giving the bucket id of a position-value column."""
    c = pl.col(col) if isinstance(col, str) else col
    expr = pl.lit(int(_IDS[-1]), dtype=pl.Int16)
    for edge, bid in zip(_EDGES[::-1], _IDS[:-1][::-1], strict=True):
        expr = pl.when(c < float(edge)).then(pl.lit(int(bid), dtype=pl.Int16)).otherwise(expr)
    return expr
