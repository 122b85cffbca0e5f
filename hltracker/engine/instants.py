"""Instants as Polars literals: the engine compares times it is given, never the clock."""

from __future__ import annotations

import polars as pl


def instant(ms: int) -> pl.Expr:
    """A UTC millisecond timestamp literal comparable with `UTC_MS` columns."""
    return pl.lit(ms, dtype=pl.Int64).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")
