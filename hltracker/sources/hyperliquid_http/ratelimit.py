"""`RateLimiter`: keeps a client inside the info API's weight budget by waiting, never by failing.

The public API allows 1200 weight per minute per IP; a local node's `--serve-info` endpoint has no limit
(`limit=None`). Requests wait their turn in arrival order, so a heavy `portfolio` (20) is not starved
by a stream of light `clearinghouseState` (2) calls.

The client's window is a little longer than the server's (5%, at most a second): the server starts a
request's window when it receives it, a moment after the client charged it, so with equal windows a
client could see room a few milliseconds before the server does and be refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hltracker.sources.hyperliquid_http.weights import DEFAULT_WEIGHT_LIMIT, DEFAULT_WINDOW_SECONDS, WeightWindow


class RateLimiter:
    def __init__(self, limit: int | None = DEFAULT_WEIGHT_LIMIT, window: float = DEFAULT_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self._budget = None if limit is None else WeightWindow(limit, window + min(0.05 * window, 1.0))
        self._clock = clock
        self._turn = asyncio.Lock()  # FIFO: asyncio.Lock wakes waiters in order
        self.waited_seconds = 0.0
        self.spent = 0

    async def acquire(self, weight: int) -> None:
        """Return once `weight` fits in the budget, and charge it."""
        self.spent += weight
        if self._budget is None:
            return
        async with self._turn:
            while True:
                wait = self._budget.try_spend(weight, self._clock())
                if wait == 0:
                    return
                self.waited_seconds += wait
                await asyncio.sleep(wait)

    def describe(self) -> dict:
        return {"weight_limit": self.limit, "window_seconds": self.window}
