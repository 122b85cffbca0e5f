"""How the API and the export files write shared values: timestamps, cohort (segment) objects, buckets.

Both `hltracker/api/` and `hltracker/exports/` present the same things, so the formats live here once:
- timestamps are ISO 8601 UTC with milliseconds and a `Z`, as every seed example shows them
  (`2026-03-24T09:54:30.589Z`);
- a segment is `{"id", "name", "category", "emoji", "criteria"}` (`GET /segments`);
- ISO 8601 input accepts a date (`2026-02-01`, midnight UTC), a date-time with `Z` or an offset, and
  a naive date-time (read as UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from hltracker.model.cohorts import COHORTS_BY_ID

_ISO_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?)?$")


def iso_ms(at: datetime) -> str:
    """`2026-03-24T09:54:30.589Z`: UTC, millisecond precision."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime; ValueError when it is not one."""
    if not isinstance(text, str) or not _ISO_SHAPE.match(text.strip()):
        raise ValueError(f"{text!r} is not an ISO 8601 date string")
    text = text.strip()
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, tzinfo=UTC)
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    frac = re.search(r"\.(\d+)", text)
    if frac and len(frac.group(1)) > 6:  # fromisoformat takes at most microseconds
        text = text.replace(frac.group(0), "." + frac.group(1)[:6])
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def segment_object(segment_id: int) -> dict[str, Any]:
    """One cohort as `GET /segments` lists it."""
    c = COHORTS_BY_ID[segment_id]
    return {"id": c.id, "name": c.name, "category": c.category, "emoji": c.emoji, "criteria": c.criteria()}
