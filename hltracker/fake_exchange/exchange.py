"""The fake exchange's state, apart from HTTP: the simulator, its lock, weight budgets and counters.

Kept free of Starlette so that the app, the `FakeExchange` server and the CLI share one object, and the
budget and counting rules can be read in one place.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from hltracker.sources.hyperliquid_http.weights import (
    DEFAULT_WEIGHT_LIMIT,
    DEFAULT_WINDOW_SECONDS,
    WeightWindow,
    request_weight,
)
from hltracker.sources.simulator import SimulatedMarket, get_profile
from hltracker.sources.simulator.wire import WireRenderer

MAX_STEPS_PER_REQUEST = 10_000
LEADERBOARD = "leaderboard"  # the `served` key of leaderboard downloads (not an info request type)


def _encode(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


class SimulatedExchange:
    """A `SimulatedMarket` answering as Hyperliquid's info API, with per-client weight budgets.

    `lock` (re-entrant) guards the simulator: every render and every step holds it, so a response is
    always one state of the market. Hold it yourself to read `market` while a server runs.
    `weight_limit=None` means no budget (as a node's `--serve-info` endpoint). Counters are per request
    type: `served` (200s; leaderboard downloads under "leaderboard"), `invalid` (422s), `throttled`
    (429s); a body that is not an object with a string `type` counts under "?".
    """

    def __init__(self, market: SimulatedMarket, weight_limit: int | None = DEFAULT_WEIGHT_LIMIT,
                 window_seconds: float = DEFAULT_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic):
        if weight_limit is not None:
            WeightWindow(weight_limit, window_seconds)  # validates both
        self.market = market
        self.wire = WireRenderer(market)
        self.weight_limit = weight_limit
        self.window_seconds = window_seconds
        self.lock = threading.RLock()
        self._clock = clock
        self._books = threading.Lock()  # budgets and counters, touched from the server and test threads
        self._budgets: dict[str, WeightWindow] = {}
        self._served: Counter[str] = Counter()
        self._invalid: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()

    @classmethod
    def from_profile(cls, profile: str = "small", seed: int = 0, start: datetime | None = None,
                     step: timedelta | None = None, **kwargs) -> SimulatedExchange:
        """A fresh market built as `SimulatorSource` builds it (same profile, seed, start and step, same
        states), so a direct run can be compared with what this exchange serves."""
        base = get_profile(profile)
        if step is not None:
            if step < timedelta(milliseconds=1):
                raise ValueError(f"step must be at least a millisecond, got {step}")
            base = base.with_step(step)
        if start is not None:
            base = base.with_start(start)
        return cls(SimulatedMarket(base, seed=seed), **kwargs)

    # ----- budgets and counters -----------------------------------------------------------------

    def charge(self, client: str, body: object) -> tuple[int, float]:
        """Charge the body's weight to `client`: (weight, 0) when spent, (weight, seconds to wait) when
        refused, in which case nothing is spent."""
        weight = request_weight(body)
        if self.weight_limit is None:
            return weight, 0.0
        with self._books:
            budget = self._budgets.get(client)
            if budget is None:
                budget = self._budgets[client] = WeightWindow(self.weight_limit, self.window_seconds)
            return weight, budget.try_spend(weight, self._clock())

    def weight_used(self) -> dict[str, int]:
        """Weight spent per client in the current window."""
        now = self._clock()
        with self._books:
            return {client: budget.used(now) for client, budget in self._budgets.items()}

    def count(self, outcome: str, kind: str) -> None:
        """Record one answer; `outcome` is "served", "invalid" or "throttled"."""
        counter = {"served": self._served, "invalid": self._invalid, "throttled": self._throttled}[outcome]
        with self._books:
            counter[kind] += 1

    def counts(self) -> dict[str, dict[str, int]]:
        """A copy of the counters: {"served": {type: n}, "invalid": {...}, "throttled": {...}}."""
        with self._books:
            return {"served": dict(self._served), "invalid": dict(self._invalid), "throttled": dict(self._throttled)}

    # ----- the simulator --------------------------------------------------------------------------

    def render(self, body: object) -> bytes:
        """The info API's JSON answer to `body`; raises `WireRequestError` on a request it would refuse."""
        with self.lock:
            payload = self.wire.render(body)
        return _encode(payload)

    def leaderboard(self) -> bytes:
        with self.lock:
            payload = self.wire.leaderboard()
        return _encode(payload)

    def step(self, count: int = 1) -> int:
        """Advance the simulator `count` steps of its profile's length; returns the new time (ms)."""
        if not 1 <= count <= MAX_STEPS_PER_REQUEST:
            raise ValueError(f"count must be between 1 and {MAX_STEPS_PER_REQUEST}, got {count}")
        with self.lock:
            for _ in range(count):
                self.market.step()
            return int(self.market.now_ms)

    def clock(self) -> dict[str, int]:
        """The simulator's time (ms) and the steps it took since genesis."""
        with self.lock:
            return {"time": int(self.market.now_ms), "steps": int(self.market.steps_taken)}

    def state(self) -> dict:
        """What `GET /fake/state` answers."""
        sim = self.market
        return {**self.clock(), "profile": sim.profile.name, "seed": sim.seed, "wallets": len(sim.people),
                "stepSeconds": sim.step_ms / 1000, "weightLimit": self.weight_limit,
                "windowSeconds": self.window_seconds, "weightUsed": self.weight_used(), **self.counts()}
