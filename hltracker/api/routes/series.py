"""One page of a time series: newest first, keyset on the snapshot time, a signed `nextCursor`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from hltracker.api.context import ApiContext
from hltracker.api.errors import bad_request
from hltracker.api.params import time_window
from hltracker.model.wire import parse_iso


def series_page(ctx: ApiContext, *, query: str, scope: str, params: dict[str, Any], start: str | None,
                end: str | None, limit: int, cursor: str | None, start_required: bool,
                to_records: Callable[[pl.DataFrame], list[dict]]) -> tuple[list[dict], str | None, pl.DataFrame]:
    """The rows of `query` in [start, end] older than the cursor, at most `limit`, and the next cursor."""
    begin, finish = time_window(start, end, start_required=start_required)
    scope = f"{scope}|{start}|{end}"
    before = None
    if cursor:
        position = ctx.cursors.decode(scope, cursor)
        try:
            before = parse_iso(position["before"])
        except (KeyError, TypeError, ValueError):
            raise bad_request("nextCursor is invalid") from None
    rows = ctx.store.query(query, **params, start=begin, end=finish, before=before, limit=limit + 1)
    next_cursor = None
    if rows.height > limit:
        rows = rows.head(limit)
        next_cursor = ctx.cursors.encode(scope, {"before": rows["taken_at"][-1].isoformat()})
    return to_records(rows), next_cursor, rows
