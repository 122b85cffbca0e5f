"""A fill's `hash` as the API serves it: "0x" + sha256 hex of `coin|tid`, so the two sides of a trade
share it as they share a transaction hash on Hyperliquid; of `address|coin|time(ms)|startPosition|sz`
when the source gives no tid. Computed for the fills a response carries (at most a page), never at
ingest, where hashing every fill in Python would cost more than the rest of the fill landing.
"""

from __future__ import annotations

import hashlib


def fill_hash(coin: str, tid: int | None, address: str, time_ms: int, start_position: float, sz: float) -> str:
    text = f"{coin}|{tid}" if tid is not None else f"{address}|{coin}|{time_ms}|{start_position!r}|{sz!r}"
    return "0x" + hashlib.sha256(text.encode()).hexdigest()
