"""Request weights of Hyperliquid's info API and a sliding-window weight budget.

The public API allows an aggregated weight of 1200 per minute per IP (reference notes 1.2). Both sides
of our own traffic use the same accounting: the client waits until a request fits in its budget
(`hyperliquid_http.ratelimit`), and the fake exchange answers 429 when a client exceeds it. A sliding
window (not a token bucket) on both sides means a client that keeps to its budget can never be refused
by a server with the same budget.
"""

from __future__ import annotations

from collections import deque

DEFAULT_WEIGHT_LIMIT = 1200  # per window, per IP
DEFAULT_WINDOW_SECONDS = 60.0

# Reference notes 1.2: these cost 2, userRole 60, every other documented info request 20. The
# "+1 per 20 items returned" surcharges apply only to history requests, which no source here makes.
LIGHT_REQUESTS = frozenset({"l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState",
                            "exchangeStatus"})
WEIGHTS: dict[str, int] = {**dict.fromkeys(LIGHT_REQUESTS, 2), "userRole": 60}
DEFAULT_WEIGHT = 20


def request_weight(body: object, weights: dict[str, int] | None = None) -> int:
    """The weight of one info request body (`{"type": ...}`); unknown types cost the default 20."""
    kind = body.get("type") if isinstance(body, dict) else None
    table = WEIGHTS if weights is None else weights
    return table.get(kind, DEFAULT_WEIGHT) if isinstance(kind, str) else DEFAULT_WEIGHT


class WeightWindow:
    """Weight spent in the last `window` seconds, against `limit`. Not thread-safe; times are monotonic
    seconds supplied by the caller (so tests and both sides share one clock discipline)."""

    def __init__(self, limit: int = DEFAULT_WEIGHT_LIMIT, window: float = DEFAULT_WINDOW_SECONDS):
        if limit <= 0:
            raise ValueError(f"weight limit must be positive, got {limit}")
        if window <= 0:
            raise ValueError(f"window must be positive, got {window}")
        self.limit = limit
        self.window = window
        self._spent: deque[tuple[float, int]] = deque()
        self._total = 0

    def _expire(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - self.window:
            self._total -= self._spent.popleft()[1]

    def used(self, now: float) -> int:
        self._expire(now)
        return self._total

    def wait_for(self, weight: int, now: float) -> float:
        """Seconds until `weight` fits (0 when it fits now). A request heavier than the whole limit
        fits once the window is empty."""
        self._expire(now)
        need = self._total + min(weight, self.limit) - self.limit
        if need <= 0:
            return 0.0
        freed = 0
        for at, w in self._spent:
            freed += w
            if freed >= need:
                return max(at + self.window - now, 0.0)
        return self.window

    def spend(self, weight: int, now: float) -> None:
        self._expire(now)
        self._spent.append((now, weight))
        self._total += weight

    def try_spend(self, weight: int, now: float) -> float:
        """Spend `weight` if it fits and return 0; else spend nothing and return the seconds to wait."""
        wait = self.wait_for(weight, now)
        if wait == 0:
            self.spend(weight, now)
        return wait
