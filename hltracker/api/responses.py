"""JSON bodies: orjson bytes, and Polars frames turned into the seed's camelCase records."""

from __future__ import annotations

from typing import Any

import orjson
import polars as pl
from starlette.responses import Response

from hltracker.api.gate import SNAPSHOT_HEADER

ISO_MS = "%Y-%m-%dT%H:%M:%S%.3fZ"


def json_response(payload: Any, snapshot_id: int | None = None, status_code: int = 200) -> Response:
    """A JSON response; with `snapshot_id` it is cached by the gate until the next snapshot lands."""
    headers = {SNAPSHOT_HEADER.decode(): str(snapshot_id)} if snapshot_id else None
    return Response(orjson.dumps(payload), status_code=status_code, media_type="application/json", headers=headers)


def iso(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC").dt.strftime(ISO_MS)


def records(frame: pl.DataFrame, fields: dict[str, str | pl.Expr]) -> list[dict[str, Any]]:
    """Rows as dicts with the keys of `fields` in order: a column name, or an expression over the frame."""
    if frame.height == 0:
        return []
    exprs = []
    for key, source in fields.items():
        expr = pl.col(source) if isinstance(source, str) else source
        exprs.append(expr.alias(key))
    return frame.select(exprs).to_dicts()


def long_share(long_value: float, total_value: float) -> float | None:
    """The long-share bias of DESIGN 3.4: long / total to 3 decimals, null when there is nothing."""
    return round(long_value / total_value, 3) if total_value else None
