"""`HyperliquidHttpSource`: snapshots of a set of wallets from Hyperliquid's info API.

One cycle = one snapshot:
1. `perpDexs`, then `metaAndAssetCtxs` for every dex (prices, the markets frame) and `allMids` (the
   HYPE spot price, for spot and staked HYPE);
2. every wallet that is due (`RefreshTiers`): `clearinghouseState` on every dex and
   `spotClearinghouseState`; every `slow_every` cycles (staggered) also `userVaultEquities`,
   `delegatorSummary` and `portfolio`, which change slowly and cost 10x as much (20 vs 2);
3. the frames: fresh wallets as fetched; wallets not due this cycle as last fetched, revalued at the
   new marks (position value, uPnL, and perp equity: Hyperliquid's account value is raw USD + Σ szi x
   mark, so it moves by exactly Σ szi x Δmark).

`taken_at` is the latest server `time` of the cycle's clearinghouse answers (the exchange's clock),
else the local clock. A wallet whose requests fail (after the client's retries) keeps its last good
state, is listed in `failures` and logged; it never stops the run. A cycle whose market data fails
yields nothing, is logged, and the next cycle tries again.

Budget: a wallet costs 2 x (dexes + 1) weight per refresh, plus 60 on its slow cycles. At the public
API's 1200 weight/min with 11 dexes, that is about 50 wallet refreshes a minute; a local node's
`--serve-info` endpoint has no budget (`weight_limit=None`) but does not serve `metaAndAssetCtxs`,
`allMids` or `portfolio` (reference notes 2.4), so point `url` at it only together with a source of
those, i.e. use the public API for a watchlist.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import polars as pl

from hltracker.model import Snapshot
from hltracker.sources.hyperliquid_http import parse
from hltracker.sources.hyperliquid_http.client import MAINNET_INFO_URL, InfoClient, InfoError
from hltracker.sources.hyperliquid_http.ratelimit import RateLimiter
from hltracker.sources.hyperliquid_http.watchlist import (
    DEFAULT_TIERS,
    LeaderboardEntry,
    RefreshTiers,
    leaderboard_entries,
    normalise_address,
    read_leaderboard,
    read_watchlist,
    stagger,
    unique,
)
from hltracker.sources.hyperliquid_http.weights import DEFAULT_WEIGHT_LIMIT, DEFAULT_WINDOW_SECONDS

log = logging.getLogger(__name__)


@dataclass
class WalletFailure:
    address: str
    reason: str
    consecutive: int
    last_cycle: int


class HyperliquidHttpSource:
    name: ClassVar[str] = "hyperliquid-http"
    description: ClassVar[str] = (
        "Hyperliquid's info API (api.hyperliquid.xyz, or any endpoint that answers like it) for a watchlist "
        "of wallets: every dex, tiered refresh inside the request-weight budget"
    )
    # A watchlist is a sample of the market: long and short sizes do not balance.
    full_market: ClassVar[bool] = False

    def __init__(self, url: str = MAINNET_INFO_URL, wallets: Sequence[str] = (), watchlist: str | Path | None = None,
                 leaderboard: str | Path | None = None, top: int | None = None, interval: float = 60.0,
                 cycles: int | None = None, weight_limit: int | None = DEFAULT_WEIGHT_LIMIT,
                 window_seconds: float = DEFAULT_WINDOW_SECONDS, tiers: RefreshTiers | None = None,
                 slow_every: int = 30, dexes: Sequence[str] | None = None, concurrency: int = 8,
                 retries: int = 4, backoff: float = 0.5,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 on_progress: Callable[[int, int], None] | None = None):
        """No I/O here. `wallets`, `watchlist` and `leaderboard` (a file or an http(s) URL, its `top` N
        by account value) add up. `cycles`: how many snapshots (None = endless, one per `interval`
        seconds). `dexes`: API dex names to scan ("" = main); default every dex `perpDexs` lists.
        `on_progress(done, due)` is called as each due wallet of a cycle is fetched (progress bars)."""
        if interval < 0:
            raise ValueError(f"interval must be >= 0, got {interval}")
        if slow_every < 1:
            raise ValueError(f"slow_every must be >= 1, got {slow_every}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.url = url
        self.wallets = [normalise_address(a) for a in wallets]
        self.watchlist = None if watchlist is None else Path(watchlist)
        self.leaderboard = leaderboard
        self.top = top
        self.interval = interval
        self.cycles = cycles
        self.weight_limit = weight_limit
        self.window_seconds = window_seconds
        self.tiers = tiers or RefreshTiers(DEFAULT_TIERS)
        self.slow_every = slow_every
        self.dexes = None if dexes is None else list(dexes)
        self.concurrency = concurrency
        self.retries = retries
        self.backoff = backoff
        self.transport = transport
        self.clock = clock
        self.on_progress = on_progress
        self.failures: dict[str, WalletFailure] = {}
        self.cycle = 0
        self.states: dict[str, parse.WalletState] = {}
        self._marks_then: dict[str, dict[str, float]] = {}  # address -> coin -> mark when fetched
        self._stop = threading.Event()
        self._runner: asyncio.Runner | None = None
        self._client: InfoClient | None = None
        self._addresses: list[str] | None = None
        self._hints: dict[str, LeaderboardEntry] = {}

    # ----- the Source protocol -----------------------------------------------------------------

    def snapshots(self) -> Iterator[Snapshot]:
        """One snapshot per cycle, a cycle every `interval` seconds, until `cycles` or `stop()`."""
        try:
            while self.cycles is None or self.cycle < self.cycles:
                started = time.monotonic()
                try:
                    snap = self.take_snapshot()
                except InfoError as exc:  # the cycle counted itself already
                    log.warning("cycle %d: market data unavailable, no snapshot: %s", self.cycle - 1, exc)
                    snap = None
                if snap is not None:
                    yield snap
                if self.cycles is not None and self.cycle >= self.cycles:
                    break
                if self._stop.wait(max(self.interval - (time.monotonic() - started), 0.0)):
                    break
        finally:
            self.close()

    def stop(self) -> None:
        """End `snapshots()` after the current cycle (safe from another thread)."""
        self._stop.set()

    def close(self) -> None:
        if self._runner is not None:
            if self._client is not None:
                self._runner.run(self._client.aclose())
            self._runner.close()
        self._runner = self._client = None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "full_market": self.full_market,
            "url": self.url, "wallets": len(self.wallets), "watchlist": None if self.watchlist is None
            else str(self.watchlist), "leaderboard": None if self.leaderboard is None else str(self.leaderboard),
            "top": self.top, "interval": self.interval, "weight_limit": self.weight_limit,
            "window_seconds": self.window_seconds, "tiers": str(self.tiers), "slow_every": self.slow_every,
            "dexes": "all" if self.dexes is None else ",".join(d or "main" for d in self.dexes),
            "concurrency": self.concurrency,
        }

    # ----- one cycle ---------------------------------------------------------------------------

    def take_snapshot(self) -> Snapshot:
        """Run one cycle now and return its snapshot (raises `InfoError` when market data fails)."""
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(self._cycle())

    @property
    def client(self) -> InfoClient:
        if self._client is None:
            limiter = RateLimiter(self.weight_limit, self.window_seconds)
            self._client = InfoClient(self.url, limiter=limiter, transport=self.transport, retries=self.retries,
                                      backoff=self.backoff)
        return self._client

    async def _cycle(self) -> Snapshot:
        cycle = self.cycle
        self.cycle += 1
        info = self.client
        addresses = await self._watched()
        dexes = await self._dexes(info)
        markets = await fetch_markets(info, dexes)
        mids = await info.all_mids("")
        marks = dict(zip(markets["coin"].to_list(), markets["mark_price"].to_list(), strict=True))
        hype_px = parse.hype_price(mids, marks)

        due = [a for a in addresses
               if a not in self.states or self.tiers.due(a, float(self.states[a].perp_equity()), cycle)]
        gate = asyncio.Semaphore(self.concurrency)
        done = 0

        async def fetch(address: str) -> parse.WalletState | None:
            nonlocal done
            state = await self._fetch(info, gate, address, dexes, cycle)
            done += 1
            if self.on_progress is not None:
                self.on_progress(done, len(due))
            return state

        fresh = await asyncio.gather(*(fetch(a) for a in due))
        fetched = {s.address for s in fresh if s is not None}
        for state in fresh:
            if state is not None:
                self.states[state.address] = state
                self._marks_then[state.address] = marks

        max_lev = dict(zip(markets["coin"].to_list(), markets["max_leverage"].to_list(), strict=True))
        accounts, positions = [], []
        for a in addresses:
            state = self.states.get(a)
            if state is None:
                continue
            account, rows = parse.account_row(state, hype_px), parse.position_rows(state, max_lev)
            if a not in fetched:
                _revalue(account, rows, self._marks_then[a], marks)
            if rows or _holds_anything(account):
                accounts.append(account)
                positions += rows
        times = [t for a in fetched if (t := self.states[a].server_time_ms()) is not None]
        taken_at = datetime.fromtimestamp(max(times) / 1000, UTC) if times else self.clock()
        failed = sum(1 for f in self.failures.values() if f.last_cycle == cycle)
        return Snapshot(
            taken_at=taken_at, source=self.name, markets=markets,
            accounts=parse.accounts_frame(accounts), positions=parse.positions_frame(positions),
            extra={"url": self.url, "cycle": str(cycle), "wallets": str(len(addresses)),
                   "refreshed": str(len(fetched)), "failed": str(failed),
                   "weight_spent": str(info.limiter.spent)},
        )

    async def _watched(self) -> list[str]:
        """Every wallet to follow (read once: the files are the run's configuration)."""
        if self._addresses is None:
            found = list(self.wallets)
            if self.watchlist is not None:
                found += read_watchlist(self.watchlist)
            if self.leaderboard is not None:
                for entry in await self._leaderboard_entries():
                    found.append(entry.address)
                    self._hints[entry.address] = entry  # all-time PnL until portfolio is fetched
            self._addresses = unique(found)
        return self._addresses

    async def _leaderboard_entries(self) -> list[LeaderboardEntry]:
        board = str(self.leaderboard)
        if board.startswith(("http://", "https://")):
            return leaderboard_entries(await self.client.leaderboard(board), self.top, board)
        return read_leaderboard(board, self.top)

    async def _dexes(self, info: InfoClient) -> list[str]:
        listed = await listed_dexes(info)
        if self.dexes is None:
            return listed
        unknown = [d for d in self.dexes if d not in listed]
        if unknown:
            raise InfoError({"type": "perpDexs"}, f"unknown dex(es) {unknown}; the exchange lists "
                            f"{', '.join(d or '(main)' for d in listed)}")
        return [d for d in listed if d in self.dexes]

    async def _fetch(self, info: InfoClient, gate: asyncio.Semaphore, address: str, dexes: list[str],
                     cycle: int) -> parse.WalletState | None:
        """A wallet's fresh state, all of it or nothing (a failure keeps the last good state)."""
        previous = self.states.get(address)
        hint = self._hints.get(address)
        on_schedule = (cycle + stagger(address)) % self.slow_every == 0
        # A leaderboard wallet starts from the file's all-time PnL: its portfolio (20 weight) waits for
        # the wallet's slow cycle, so a first sweep of thousands of wallets is not 10x dearer.
        fetch_portfolio = on_schedule or (previous is None and hint is None)
        vaults, staking = (None, None) if previous is None else (previous.vaults, previous.staking)
        portfolio = None if previous is None else previous.portfolio
        async with gate:
            try:
                perp = await asyncio.gather(*(info.clearinghouse_state(address, d) for d in dexes))
                spot = await info.spot_clearinghouse_state(address)
                if on_schedule or previous is None:
                    vaults = await info.user_vault_equities(address)
                    staking = await info.delegator_summary(address)
                if fetch_portfolio:
                    portfolio = await info.portfolio(address)
            except InfoError as exc:
                self._failed(address, exc.reason, cycle)
                return None
        self.failures.pop(address, None)
        return parse.WalletState(address, perp=dict(zip(dexes, perp, strict=True)), spot=spot, vaults=vaults,
                                 staking=staking, portfolio=portfolio,
                                 all_time_pnl_hint=None if hint is None else hint.all_time_pnl,
                                 volume_30d_hint=None if hint is None else hint.month_volume)

    def _failed(self, address: str, reason: str, cycle: int) -> None:
        before = self.failures.get(address)
        streak = before.consecutive + 1 if before else 1
        self.failures[address] = WalletFailure(address, reason, streak, cycle)
        log.warning("wallet %s failed (%d cycle(s) in a row), %s: %s", address, streak,
                    "keeping its last state" if address in self.states else "left out", reason)


def _holds_anything(account: dict) -> bool:
    return any(account[c] for c in ("perp_equity", "spot_equity", "staking_equity", "vault_equity",
                                    "perp_volume_30d"))


def _revalue(account: dict, rows: list[dict], marks_then: dict[str, float], marks_now: dict[str, float]) -> None:
    """Carry a wallet fetched in an earlier cycle to today's marks (see the module docstring)."""
    for row in rows:
        then, now = marks_then.get(row["coin"]), marks_now.get(row["coin"])
        if then is None or now is None:
            continue
        move = row["szi"] * (now - then)
        row["position_value"] = abs(row["szi"]) * now
        if row["unrealized_pnl"] is not None:
            row["unrealized_pnl"] += move
        account["perp_equity"] += move


async def listed_dexes(info: InfoClient) -> list[str]:
    """Every perp dex as the API names it: "" (the main dex), then the HIP-3 dexes of `perpDexs`."""
    return [""] + [d.name for d in await info.perp_dexs() if d is not None]


async def fetch_markets(info: InfoClient, dexes: Sequence[str]) -> pl.DataFrame:
    """The markets frame of `dexes`: one `metaAndAssetCtxs` per dex."""
    metas = await asyncio.gather(*(info.meta_and_asset_ctxs(d) for d in dexes))
    return parse.markets_frame(list(zip(dexes, metas, strict=True)))


def markets_from_info(url: str, transport: httpx.AsyncBaseTransport | None = None,
                      weight_limit: int | None = DEFAULT_WEIGHT_LIMIT) -> Callable[[], pl.DataFrame]:
    """A callable that fetches every dex's markets frame from an info endpoint (for sources whose own
    data lacks mark prices, such as a node's state files)."""

    async def fetch() -> pl.DataFrame:
        async with InfoClient(url, limiter=RateLimiter(weight_limit), transport=transport) as info:
            return await fetch_markets(info, await listed_dexes(info))

    return lambda: asyncio.run(fetch())
