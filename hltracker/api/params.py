"""Query parameters shared by the routes: their OpenAPI declarations and their parsing.

FastAPI checks types, enums and ranges (its errors become NestJS 400s in `errors.py`); dates are
declared as strings and parsed here, so `2026-02-01`, `2026-02-01T00:00:00Z` and offsets all work and
anything else is a 400 `start must be a valid ISO 8601 date string`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Query

from hltracker.api.errors import bad_request
from hltracker.model.wire import parse_iso
from hltracker.store.checks import EARLIEST

AgeWindow = Literal["24h", "7d", "30d", "all"]
MAX_LIMIT = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")

Start = Annotated[str | None, Query(description="Start of the time window (ISO 8601, UTC).", max_length=64)]
StartRequired = Annotated[str, Query(description="Required. Start of the time window (ISO 8601, UTC).",
                                     max_length=64)]
End = Annotated[str | None, Query(description="End of the time window (ISO 8601, UTC). Default: now.",
                                  max_length=64)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Maximum rows per page (default and max 1000).")]
Cursor = Annotated[str | None, Query(alias="nextCursor", max_length=2048,
                                     description="The nextCursor of the previous page.")]
Recency = Annotated[AgeWindow, Query(alias="positionRecencyTimeframe", description="Count only positions opened "
                                     "within this window (24h, 7d, 30d or all).")]


def parse_date(name: str, value: str | None, *, required: bool = False) -> datetime | None:
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} should not be empty; {name} must be a valid ISO 8601 date string")
        return None
    try:
        return parse_iso(value)
    except OverflowError:
        raise bad_request(f"{name} is outside the supported dates (years 1 to 9999 in UTC)") from None
    except ValueError:
        raise bad_request(f"{name} must be a valid ISO 8601 date string") from None


def time_window(start: str | None, end: str | None, *, start_required: bool) -> tuple[datetime, datetime]:
    """[start, end] with the defaults: start the beginning of time, end now; a 400 when end < start."""
    begin = parse_date("start", start, required=start_required) or EPOCH
    finish = parse_date("end", end) or datetime.now(UTC)
    if finish < begin:
        raise bad_request("end must not be earlier than start")
    return begin, finish


def addresses(values: list[str]) -> list[str] | None:
    """Wallet addresses from repeated `address=`, `address[]=` or comma-separated values, lowercased."""
    found = [part.strip() for v in values for part in v.split(",") if part.strip()]
    if not found:
        return None
    bad = [a for a in found if not _ADDRESS.match(a)]
    if bad:
        raise bad_request(f"address must be a 0x-prefixed 40-hex-digit wallet address, got {bad[0][:80]!r}")
    if len(found) > 1000:
        raise bad_request("address accepts at most 1000 wallet addresses")
    return sorted({a.lower() for a in found})


DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=31)  # "1 month"


def month_window(start_time: str | None, end_time: str | None, latest: datetime, too_long: str
                 ) -> tuple[datetime, datetime]:
    """[startTime, endTime] of a wallet-history route: endTime defaults to the latest snapshot, startTime to
    DEFAULT_WINDOW before it; at most MAX_WINDOW long (a 400 saying `too_long`, each route's own words)."""
    finish = parse_date("endTime", end_time) or latest
    begin = parse_date("startTime", start_time)
    if begin is None:
        begin = finish - DEFAULT_WINDOW if finish - EARLIEST > DEFAULT_WINDOW else EARLIEST
    if finish < begin:
        raise bad_request("endTime must not be earlier than startTime")
    if finish - begin > MAX_WINDOW:
        raise bad_request(too_long)
    return begin, finish
