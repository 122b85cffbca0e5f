"""`InfoClient`: Hyperliquid's info API (`POST /info`), one typed method per request.

    async with InfoClient("https://api.hyperliquid.xyz/info") as info:
        dexes = await info.perp_dexs()
        state = await info.clearinghouse_state("0x…", dex="xyz")

Every request is charged its weight (`weights.py`) against a `RateLimiter` before it is sent, and
retried with exponential backoff (honouring `Retry-After`) on 429, 5xx and transport errors. Other 4xx
answers are the caller's mistake and are not retried. `transport=` takes any httpx transport, so tests
can point the client at an in-process app. Responses decode straight into `wire_types` structs.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, TypeVar

import httpx
import msgspec

from hltracker.sources.hyperliquid_http.ratelimit import RateLimiter
from hltracker.sources.hyperliquid_http.weights import request_weight
from hltracker.sources.hyperliquid_http.wire_types import (
    AllMids,
    ClearinghouseState,
    DelegatorSummary,
    Leaderboard,
    MetaAndAssetCtxs,
    PerpDex,
    Portfolio,
    SpotClearinghouseState,
    VaultEquity,
)

MAINNET_INFO_URL = "https://api.hyperliquid.xyz/info"
TESTNET_INFO_URL = "https://api.hyperliquid-testnet.xyz/info"
LOCAL_NODE_INFO_URL = "http://localhost:3001/info"
MAINNET_LEADERBOARD_URL = "https://stats-data.hyperliquid.xyz/Mainnet/leaderboard"

T = TypeVar("T")


class InfoError(RuntimeError):
    """A request that failed for good: refused (4xx), undecodable, or still failing after the retries."""

    def __init__(self, body: dict, reason: str, status: int | None = None):
        self.body = body
        self.reason = reason
        self.status = status
        super().__init__(f"{body.get('type')} request failed: {reason}")


class InfoClient:
    def __init__(self, url: str = MAINNET_INFO_URL, *, limiter: RateLimiter | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, retries: int = 4, backoff: float = 0.5,
                 max_backoff: float = 30.0, timeout: float = 15.0):
        self.url = url
        self.limiter = limiter or RateLimiter()
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout,
                                       headers={"Content-Type": "application/json"})
        self.requests = 0  # sent, retries included
        self.throttled = 0  # 429 answers received

    async def __aenter__(self) -> InfoClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ----- the requests ------------------------------------------------------------------------

    async def perp_dexs(self) -> list[PerpDex | None]:
        """Element 0 is None: the main dex. HIP-3 dexes follow in deployment order."""
        return await self.post({"type": "perpDexs"}, list[PerpDex | None])

    async def meta_and_asset_ctxs(self, dex: str = "") -> MetaAndAssetCtxs:
        return await self.post({"type": "metaAndAssetCtxs", "dex": dex}, MetaAndAssetCtxs)

    async def all_mids(self, dex: str = "") -> AllMids:
        return await self.post({"type": "allMids", "dex": dex}, AllMids)

    async def clearinghouse_state(self, user: str, dex: str = "") -> ClearinghouseState:
        return await self.post({"type": "clearinghouseState", "user": user, "dex": dex}, ClearinghouseState)

    async def spot_clearinghouse_state(self, user: str) -> SpotClearinghouseState:
        return await self.post({"type": "spotClearinghouseState", "user": user}, SpotClearinghouseState)

    async def user_vault_equities(self, user: str) -> list[VaultEquity]:
        return await self.post({"type": "userVaultEquities", "user": user}, list[VaultEquity])

    async def delegator_summary(self, user: str) -> DelegatorSummary:
        return await self.post({"type": "delegatorSummary", "user": user}, DelegatorSummary)

    async def portfolio(self, user: str) -> Portfolio:
        return await self.post({"type": "portfolio", "user": user}, Portfolio)

    async def leaderboard(self, url: str = MAINNET_LEADERBOARD_URL) -> Leaderboard:
        """The web app's leaderboard file: a plain GET, outside the info API's weight budget."""
        response = await self._send("GET", url, {"type": "leaderboard"})
        return self._decode(response, Leaderboard, {"type": "leaderboard"})

    # ----- transport ---------------------------------------------------------------------------

    async def post(self, body: dict[str, Any], type_: type[T]) -> T:
        """Send one info request (charged, retried) and decode its answer as `type_`."""
        await self.limiter.acquire(request_weight(body))
        response = await self._send("POST", self.url, body)
        return self._decode(response, type_, body)

    async def _send(self, method: str, url: str, body: dict) -> httpx.Response:
        attempt = 0
        while True:
            self.requests += 1
            try:
                if method == "POST":
                    response = await self._http.post(url, content=msgspec.json.encode(body))
                else:
                    response = await self._http.get(url)
            except httpx.TransportError as exc:
                reason, retry_after = f"{type(exc).__name__}: {exc}", None
            else:
                if response.status_code < 400:
                    return response
                reason = f"HTTP {response.status_code}: {response.text[:200].strip()}"
                if response.status_code == 429:
                    self.throttled += 1
                elif response.status_code < 500:
                    raise InfoError(body, reason, response.status_code)
                retry_after = _retry_after(response)
            if attempt >= self.retries:
                raise InfoError(body, f"{reason} (gave up after {attempt + 1} attempts)")
            delay = min(self.backoff * 2 ** attempt, self.max_backoff) * (0.5 + random.random() / 2)
            await asyncio.sleep(max(delay, retry_after or 0.0))
            attempt += 1

    @staticmethod
    def _decode(response: httpx.Response, type_: type[T], body: dict) -> T:
        try:
            return msgspec.json.decode(response.content, type=type_)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            raise InfoError(body, f"unexpected response shape: {exc}", response.status_code) from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None
