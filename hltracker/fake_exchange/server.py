"""`FakeExchange`: the fake exchange served by uvicorn in a background thread, for tests and scripts."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta

import uvicorn

from hltracker.fake_exchange.app import create_app
from hltracker.fake_exchange.exchange import SimulatedExchange
from hltracker.model import Snapshot
from hltracker.sources.hyperliquid_http.weights import DEFAULT_WEIGHT_LIMIT, DEFAULT_WINDOW_SECONDS
from hltracker.sources.simulator import SimulatedMarket
from hltracker.sources.simulator.frames import snapshot_of

START_TIMEOUT = 30.0


class FakeExchange:
    """The simulator as Hyperliquid's info API on `host` (default 127.0.0.1) and a free port.

    Use as a context manager (or `start()` / `stop()`). The market is built in the constructor (no
    network I/O there); the server starts on `__enter__`, and `url` is known from then on.
    """

    def __init__(self, profile: str = "small", seed: int = 0, *, start: datetime | None = None,
                 step: timedelta | None = None, weight_limit: int | None = DEFAULT_WEIGHT_LIMIT,
                 window_seconds: float = DEFAULT_WINDOW_SECONDS, step_every: float = 0.0,
                 host: str = "127.0.0.1", port: int = 0):
        self.exchange = SimulatedExchange.from_profile(profile, seed, start=start, step=step,
                                                       weight_limit=weight_limit, window_seconds=window_seconds)
        self.app = create_app(self.exchange, step_every=step_every)
        self.host = host
        self.port = port  # the bound port once started
        self._requested_port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # ----- what tests use ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL: `url + "/info"` is the info endpoint, `url + "/Mainnet/leaderboard"` the leaderboard."""
        if self._server is None:
            raise RuntimeError("the fake exchange is not running; use it as a context manager or call start()")
        return f"http://{self.host}:{self.port}"

    @property
    def info_url(self) -> str:
        return self.url + "/info"

    @property
    def market(self) -> SimulatedMarket:
        return self.exchange.market

    @property
    def lock(self):
        """The simulator's lock (re-entrant): hold it to read `market` while clients are being served."""
        return self.exchange.lock

    def step(self, n: int = 1) -> int:
        """Advance the simulator `n` steps (between requests, never during one); returns its time in ms."""
        return self.exchange.step(n)

    def snapshot(self) -> Snapshot:
        """The simulator's own snapshot of its current state (`frames.snapshot_of`), the reference an HTTP
        ingestion of this exchange is compared with."""
        with self.lock:
            return snapshot_of(self.market, self.market.profile.name)

    def counts(self) -> dict[str, dict[str, int]]:
        """{"served": {type: n}, "invalid": {...}, "throttled": {...}} since the start."""
        return self.exchange.counts()

    @property
    def served(self) -> dict[str, int]:
        return self.counts()["served"]

    @property
    def throttled(self) -> dict[str, int]:
        return self.counts()["throttled"]

    @property
    def invalid(self) -> dict[str, int]:
        return self.counts()["invalid"]

    # ----- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> FakeExchange:
        if self._server is not None:
            raise RuntimeError("the fake exchange is running already")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))  # port 0: the OS picks a free one, with no race
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning",
                                timeout_graceful_shutdown=5)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                                  name=f"fake-exchange-{self.port}")
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                self.stop()
                raise RuntimeError("the fake exchange's server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=15)
        if sock is not None:
            sock.close()

    def __enter__(self) -> FakeExchange:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
