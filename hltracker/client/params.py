"""Python values to query parameters: datetimes as ISO 8601 UTC, lists repeated, booleans lowercase."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any


def iso_utc(value: datetime | date | str) -> str:
    """`2026-11-18T00:00:00.000Z`; a naive datetime is read as UTC (as the server does)."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return value.isoformat()


def _one(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return iso_utc(value)
    return str(value)


def query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Wire parameters without the unset ones; a list or tuple becomes a repeated parameter."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, Iterable) and not isinstance(value, str | bytes):
            pairs += [(name, _one(v)) for v in value]
        else:
            pairs.append((name, _one(value)))
    return pairs
