"""The checks every backend runs before it touches the database, and the time conversions they share.

- `check_frames`: a whole engine result against the tables it lands in: schema, time range, finite
  numbers (refused whole, nothing written);
- `query_sql`: a named query and exactly the parameters it names;
- `next_snapshot`: the row a landing adds to `snapshots`, or StoreError when it would go back in time;
- `utc`, `to_ms`, `utc_ms`: timestamps in and out are timezone-aware UTC, kept to the millisecond.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import polars as pl

from hltracker.model.outputs import SERIES_TABLES
from hltracker.store.base import SnapshotInfo, StoreError
from hltracker.store.layout import FILLED_ROW_OFFSET, FRAME_TABLES, ID_PAGED_TABLES, ROW_ID_BASE, frame_problems
from hltracker.store.queries import QUERIES

PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def check_frames(frames: dict[str, pl.DataFrame]) -> None:
    """Refuse the whole result, before any write, if any frame is not what its table holds."""
    problems = []
    for table in FRAME_TABLES:
        frame = frames.get(table)
        if frame is None:
            problems.append(f"{table}: missing frame")
            continue
        problems += frame_problems(table, frame) or (_time_range_problems(table, frame)
                                                     + _non_finite_problems(table, frame))
        if table in SERIES_TABLES and frame.height > FILLED_ROW_OFFSET:
            problems.append(f"{table}: {frame.height} rows, at most {FILLED_ROW_OFFSET} fit in one snapshot's ids")
        if table in ID_PAGED_TABLES and frame.height > ROW_ID_BASE:
            problems.append(f"{table}: {frame.height} rows, at most {ROW_ID_BASE} fit in one snapshot's ids")
    if problems:
        raise StoreError("refused engine result: " + "; ".join(problems))


# Times the API can write as ISO 8601 (four-digit years); both databases hold them.
EARLIEST, LATEST = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)


def _time_range_problems(table: str, frame: pl.DataFrame) -> list[str]:
    problems = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime) and frame.height:
            outside = frame.select(((pl.col(name) < EARLIEST) | (pl.col(name) > LATEST)).sum()).item()
            if outside:
                problems.append(f"{table}.{name}: {outside} times outside the years 1 to 9999")
    return problems


def _non_finite_problems(table: str, frame: pl.DataFrame) -> list[str]:
    """NaN and +-inf never land: the engine makes them null (engine/finite.py), so one here is a bug of
    whatever built the frame, refused with the columns named rather than stored as a number."""
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    if not floats or frame.height == 0:
        return []
    counts = frame.select(pl.col(c).is_finite().not_().sum() for c in floats).row(0)
    return [f"{table}.{c}: {n} NaN or infinite value(s)" for c, n in zip(floats, counts, strict=True) if n]


def query_sql(name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SQL of query `name` and its parameters with times made UTC; StoreError for an unknown name, a
    missing or unknown parameter, or a naive datetime."""
    sql = QUERIES.get(name)
    if sql is None:
        raise StoreError(f"unknown query {name!r}")
    wanted = set(PARAM.findall(sql))
    if wanted != set(params):
        missing, unknown = sorted(wanted - set(params)), sorted(set(params) - wanted)
        raise StoreError(f"query {name!r}: missing parameters {missing}, unknown parameters {unknown}")
    return sql, {k: utc(v, k) if isinstance(v, datetime) else v for k, v in params.items()}


def next_snapshot(
    last_id: int | None, last_at: datetime | None, taken_at: datetime, *, source: str, height: int | None,
    landed_at: datetime, frames: dict[str, pl.DataFrame],
) -> SnapshotInfo:
    """The snapshot a landing at `taken_at` adds after the last landed one (`last_id`, `last_at`; None when
    the store is empty); StoreError when `taken_at` is older: lifecycles need snapshots in time order."""
    if last_at is not None and taken_at < last_at:
        raise StoreError(
            f"snapshot taken at {taken_at.isoformat()} is older than the last landed one "
            f"({last_at.astimezone(UTC).isoformat()}); lifecycles need snapshots in time order"
        )
    return SnapshotInfo(
        snapshot_id=(last_id or 0) + 1,
        taken_at=taken_at,
        source=source,
        height=height,
        landed_at=utc(landed_at, "landed_at"),
        position_count=frames["open_positions"].height,
        wallet_count=frames["wallets"].height,
    )


def utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def to_ms(value: datetime) -> datetime:
    """Snapshot times are kept to the millisecond, as the model's Datetime("ms") columns hold them."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def utc_ms(frame: pl.DataFrame) -> pl.DataFrame:
    """Every timestamp column as Datetime("ms", "UTC"), the unit and zone of the model's frames."""
    casts = [
        pl.col(name).dt.convert_time_zone("UTC").dt.cast_time_unit("ms")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    ]
    return frame.with_columns(casts) if casts else frame
