"""What every export file is: an `ExportSpec` (name, media type, builder), plus the shared helpers.

A builder is a plain function `(store, snapshot, coin) -> bytes`: it reads through named queries only
(`store.query(name, **params)`), writes timestamps with `iso_ms` and JSON with orjson.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl

from hltracker.store import SnapshotInfo, Store

JSON = "application/json"
CSV = "text/csv"

Builder = Callable[[Store, SnapshotInfo, "str | None"], bytes]


class ExportError(Exception):
    """An export request that cannot be served: unknown file, coin given or missing, bad or missing path."""


@dataclass(frozen=True)
class ExportSpec:
    """One export file: its name in the URL, whether it is per coin, its media type and its builder."""

    name: str  # e.g. "position-breakdown-by-size"
    per_coin: bool  # True: the URL names a coin (`/exports/coins/{coin}/{name}`)
    media_type: str  # "application/json" or "text/csv"
    suffix: str  # ".json" or ".csv"
    build: Builder  # (store, latest snapshot, canonical coin or None) -> the file's bytes


def dumps(document: Any) -> bytes:
    """The JSON bytes of an export document (orjson: NaN and infinities become null)."""
    return orjson.dumps(document)


def long_share(long_value: float, total_value: float) -> float | None:
    """The long-share bias: long value / total value rounded to 3 decimals, None when empty."""
    if not total_value:
        return None
    return round(long_value / total_value, 3)


def number(value: float | None) -> float | int | None:
    """An int when the value is integral (bounds like `1000`), else the float; None stays None."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def by_snapshot(frame: pl.DataFrame) -> dict[int, dict[str, Any]]:
    """The rows of a one-row-per-snapshot frame, keyed by snapshot id."""
    return {row["snapshot_id"]: row for row in frame.iter_rows(named=True)}
