"""The `hyperliquid-http` source: parsing recorded and current shapes, the weight budget, retries,
failing wallets and refresh tiers. The exchange is the simulator's wire renderer (or canned answers)
behind httpx's transport seam; the end-to-end run over real HTTP is in test_http_end_to_end.py."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import msgspec
import polars as pl
import pytest

from hltracker.model import validate_snapshot
from hltracker.sources.hyperliquid_http import (
    HyperliquidHttpSource,
    InfoClient,
    InfoError,
    RateLimiter,
    RefreshTiers,
    WatchlistError,
    parse,
    parse_leaderboard,
    read_watchlist,
)
from hltracker.sources.hyperliquid_http.weights import WeightWindow, request_weight
from hltracker.sources.hyperliquid_http.wire_types import (
    AllMids,
    ClearinghouseState,
    DelegatorSummary,
    Meta,
    MetaAndAssetCtxs,
    PerpDex,
    Portfolio,
    SpotClearinghouseState,
    VaultEquity,
)
from hltracker.sources.simulator.frames import snapshot_of
from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.profiles import get_profile
from hltracker.sources.simulator.wire import WireRenderer, WireRequestError

ROOT = Path(__file__).resolve().parents[1]
SHAPES = json.loads((ROOT / "tests" / "data" / "hyperliquid" / "current_shapes.json").read_text())
RECORDED = ROOT.parent / "shared" / "fixtures" / "hyperliquid-python-sdk"
USER = "0x" + "12" * 20


def _recorded(name: str) -> tuple[dict, bytes]:
    path = RECORDED / name
    if not path.exists():
        pytest.skip(f"recorded fixtures not present ({path}); they ship with the shared workspace only")
    yaml = pytest.importorskip("yaml")
    interaction = yaml.safe_load(path.read_text())["interactions"][-1]
    return json.loads(interaction["request"]["body"]), interaction["response"]["body"]["string"].encode()


def _encode(obj) -> bytes:
    return json.dumps(obj).encode()


# ----- the recorded (older) shapes ----------------------------------------------------------------


def test_recorded_2023_clearinghouse_state_parses_exactly():
    request, body = _recorded("test_get_user_state.yaml")
    assert request["type"] == "clearinghouseState"
    state = msgspec.json.decode(body, type=ClearinghouseState)
    assert state.time is None and state.cross_maintenance_margin_used is None  # not in 2023
    raw = json.loads(body)
    rows = parse.position_rows(parse.WalletState(request["user"], perp={"": state}), {})
    assert len(rows) == len(raw["assetPositions"]) == 12
    btc = next(r for r in rows if r["coin"] == "BTC")
    assert btc["szi"] == -0.00785 and btc["entry_price"] == 26951.0 and btc["liquidation_price"] == 173198.69592357
    assert btc["dex"] == "main" and btc["leverage_type"] == "cross" and btc["leverage"] == 20
    assert btc["funding_since_open"] is None  # no cumFunding in 2023
    assert btc["max_leverage"] == 20  # no maxLeverage in 2023: the market's, else the position's leverage
    eth = next(r for r in rows if r["coin"] == "ETH")
    assert eth["liquidation_price"] is None  # null on the wire
    # Decimal-exact: the wire's position values sum to exactly totalNtlPos.
    assert sum(p.position.position_value for p in state.asset_positions) == state.margin_summary.total_ntl_pos


def test_recorded_meta_mids_portfolio_and_vaults_parse():
    _, meta_body = _recorded("test_get_info.yaml")
    meta = msgspec.json.decode(meta_body, type=Meta)
    assert len(meta.universe) == 28 and meta.margin_tables == [] and meta.universe[0].max_leverage == 50
    _, mids_body = _recorded("test_get_all_mids.yaml")
    mids = msgspec.json.decode(mids_body, type=AllMids)
    assert mids["BTC"] == Decimal("30135.0") and mids["kPEPE"] == Decimal("0.001565")
    request, pf_body = _recorded("test_portfolio.yaml")
    portfolio = msgspec.json.decode(pf_body, type=Portfolio)
    raw = dict(json.loads(pf_body))
    state = parse.WalletState(request["user"], perp={}, portfolio=portfolio)
    row = parse.account_row(state, None)
    assert row["all_time_pnl"] == float(Decimal(raw["perpAllTime"]["pnlHistory"][-1][1]))
    assert row["perp_volume_30d"] == float(Decimal(raw["perpMonth"]["vlm"]))
    _, vault_body = _recorded("test_user_vault_equities.yaml")
    vaults = msgspec.json.decode(vault_body, type=list[VaultEquity])
    row = parse.account_row(parse.WalletState(USER, vaults=vaults), None)
    assert row["vault_equity"] == float(Decimal("688536.0314879999") + Decimal("100.003834"))


# ----- today's shapes ---------------------------------------------------------------------------------


def _shape_handler(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    kind, dex = body["type"], body.get("dex", "")
    key = kind if not dex else f"{kind}_{dex}"
    if key in SHAPES:
        return httpx.Response(200, content=_encode(SHAPES[key]))
    if kind == "clearinghouseState":  # no position on that dex
        return httpx.Response(200, content=_encode({"marginSummary": {"accountValue": "0.0"}, "assetPositions": []}))
    return httpx.Response(422, text="Failed to deserialize the JSON body into the target type")


def test_current_shapes_make_a_valid_snapshot_with_exact_sums():
    src = HyperliquidHttpSource(url="http://exchange/info", wallets=[USER], weight_limit=None,
                                transport=httpx.MockTransport(_shape_handler))
    snap = validate_snapshot(src.take_snapshot())
    src.close()
    markets = {r["coin"]: r for r in snap.markets.iter_rows(named=True)}
    assert set(markets) == {"BTC", "ETH", "MATIC", "xyz:XYZ100", "xyz:NVDA"}
    assert markets["MATIC"]["is_delisted"] and markets["MATIC"]["mid_price"] is None
    assert markets["MATIC"]["premium"] is None
    assert markets["xyz:XYZ100"]["dex"] == "xyz" and markets["xyz:XYZ100"]["only_isolated"]
    assert markets["xyz:NVDA"]["only_isolated"]  # marginMode noCross
    assert not markets["BTC"]["only_isolated"] and markets["BTC"]["max_leverage"] == 40
    assert markets["BTC"]["open_interest"] == 42124.6479 and markets["BTC"]["funding_rate"] == 0.0000125

    positions = {r["coin"]: r for r in snap.positions.iter_rows(named=True)}
    assert set(positions) == {"ETH", "xyz:NVDA"}
    nvda = positions["xyz:NVDA"]
    assert nvda["dex"] == "xyz" and nvda["szi"] == -56.0 and nvda["leverage_type"] == "isolated"
    assert nvda["funding_since_open"] == -310.436405 and nvda["margin_used"] == 6385.392074
    assert positions["ETH"]["max_leverage"] == 50 and positions["ETH"]["funding_since_open"] == 0.0

    (account,) = snap.accounts.iter_rows(named=True)
    assert account["address"] == USER
    # Summed in Decimal, converted once: exactly the decimal sum, not a float accumulation.
    assert account["perp_equity"] == float(Decimal("13109.482328") + Decimal("6385.392074"))
    assert account["balance"] == 13104.514502
    hype = 41.25  # allMids "@107"
    assert account["spot_equity"] == pytest.approx(14.625485 + 2.5 * hype + 1234.56)
    assert account["staking_equity"] == pytest.approx(12060.16529862 * hype)
    assert account["vault_equity"] == 688536.0314879999
    assert account["all_time_pnl"] == 4999.75  # perpAllTime, not allTime
    assert account["perp_volume_30d"] == 25.5
    assert snap.taken_at.timestamp() * 1000 == 1708622398700  # the latest server time
    assert snap.taken_at.tzinfo is not None and snap.taken_at.utcoffset().total_seconds() == 0


def test_every_typed_request_decodes_its_current_shape():
    async def run():
        async with InfoClient("http://exchange/info", limiter=RateLimiter(None),
                              transport=httpx.MockTransport(_shape_handler)) as info:
            dexes = await info.perp_dexs()
            assert dexes[0] is None and isinstance(dexes[1], PerpDex) and dexes[1].name == "xyz"
            meta, ctxs = await info.meta_and_asset_ctxs("xyz")
            assert meta.universe[0].margin_mode == "strictIsolated" and ctxs[0].mark_px == Decimal("25451.0")
            assert isinstance(await info.spot_clearinghouse_state(USER), SpotClearinghouseState)
            assert isinstance(await info.delegator_summary(USER), DelegatorSummary)
            assert (await info.user_vault_equities(USER))[0].equity == Decimal("688536.0314879999")
            assert dict(await info.portfolio(USER))["perpMonth"].vlm == Decimal("25.5")
            assert (await info.all_mids())["@107"] == Decimal("41.25")
            assert info.limiter.spent == 20 + 20 + 2 + 20 + 20 + 20 + 2
    asyncio.run(run())


def test_an_unexpected_shape_is_a_clear_error_not_a_crash():
    def handler(request):
        return httpx.Response(200, content=b'{"marginSummary": {"accountValue": 12}, "assetPositions": "x"}')

    async def run():
        async with InfoClient("http://x/info", limiter=RateLimiter(None), transport=httpx.MockTransport(handler)) as i:
            with pytest.raises(InfoError, match=r"unexpected response shape.*assetPositions"):
                await i.clearinghouse_state(USER)
    asyncio.run(run())


# ----- weights, budget and retries --------------------------------------------------------------------


def test_request_weights_follow_the_reference_notes():
    assert request_weight({"type": "clearinghouseState"}) == 2
    assert request_weight({"type": "spotClearinghouseState"}) == 2
    assert request_weight({"type": "allMids"}) == 2
    assert request_weight({"type": "userRole"}) == 60
    for kind in ("metaAndAssetCtxs", "perpDexs", "portfolio", "delegatorSummary", "userVaultEquities", "x"):
        assert request_weight({"type": kind}) == 20


def test_weight_window_slides():
    w = WeightWindow(limit=10, window=60)
    assert w.try_spend(6, now=0) == 0
    assert w.try_spend(4, now=10) == 0
    assert w.try_spend(2, now=20) == pytest.approx(40)  # the first 6 expire at t=60
    assert w.used(20) == 10  # a refused request is not charged
    assert w.try_spend(2, now=60) == 0
    assert w.used(60) == 6
    assert w.try_spend(50, now=200) == 0  # heavier than the limit: fits an empty window


def test_the_limiter_waits_instead_of_overspending():
    now = [0.0]
    slept = []

    async def run():
        limiter = RateLimiter(limit=10, window=1.0, clock=lambda: now[0])
        real_sleep = asyncio.sleep

        async def fake_sleep(seconds):
            slept.append(seconds)
            now[0] += seconds
            await real_sleep(0)

        asyncio.sleep, saved = fake_sleep, asyncio.sleep
        try:
            for _ in range(8):
                await limiter.acquire(2)
        finally:
            asyncio.sleep = saved
        return limiter

    limiter = asyncio.run(run())
    assert limiter.spent == 16
    assert slept and sum(slept) == pytest.approx(1.05)  # 5 requests fit, the rest waited one window (+5%)


def _flaky(statuses: list[int], ok: object):
    calls = []

    def handler(request):
        calls.append(json.loads(request.content)["type"])
        status = statuses.pop(0) if statuses else 200
        if status == 200:
            return httpx.Response(200, content=_encode(ok))
        return httpx.Response(status, text="slow down", headers={"Retry-After": "0"})
    return handler, calls


def test_429_and_5xx_are_retried_with_backoff():
    handler, calls = _flaky([429, 502, 429], SHAPES["delegatorSummary"])

    async def run():
        async with InfoClient("http://x/info", limiter=RateLimiter(None), transport=httpx.MockTransport(handler),
                              backoff=0.001) as info:
            summary = await info.delegator_summary(USER)
            return summary, info.throttled, info.requests
    summary, throttled, requests = asyncio.run(run())
    assert summary.delegated == Decimal("12060.16529862")
    assert (throttled, requests, len(calls)) == (2, 4, 4)


def test_a_request_that_keeps_failing_gives_up_and_a_4xx_is_not_retried():
    handler, calls = _flaky([500] * 10, {})

    async def run():
        async with InfoClient("http://x/info", limiter=RateLimiter(None), transport=httpx.MockTransport(handler),
                              retries=2, backoff=0.001) as info:
            with pytest.raises(InfoError, match="gave up after 3 attempts"):
                await info.delegator_summary(USER)
    asyncio.run(run())
    assert len(calls) == 3

    handler, calls = _flaky([422], {})

    async def run_422():
        async with InfoClient("http://x/info", limiter=RateLimiter(None), transport=httpx.MockTransport(handler),
                              backoff=0.001) as info:
            with pytest.raises(InfoError, match="HTTP 422") as err:
                await info.delegator_summary(USER)
            assert err.value.status == 422
    asyncio.run(run_422())
    assert len(calls) == 1


# ----- against the simulator's wire renderings ---------------------------------------------------------


class RenderedExchange:
    """The simulator's renderer behind httpx's transport seam, logging every request; `broken` users
    always get a 500."""

    def __init__(self, sim: SimulatedMarket):
        self.sim = sim
        self.wire = WireRenderer(sim)
        self.log: list[dict] = []
        self.broken: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.log.append(body)
        if body.get("user") in self.broken:
            return httpx.Response(500, text="internal error")
        try:
            return httpx.Response(200, content=_encode(self.wire.render(body)))
        except WireRequestError as exc:
            return httpx.Response(422, text=f"Failed to deserialize the JSON body into the target type: {exc}")

    def source(self, wallets, **options) -> HyperliquidHttpSource:
        options.setdefault("weight_limit", None)
        return HyperliquidHttpSource(url="http://exchange/info", wallets=wallets,
                                     transport=httpx.MockTransport(self), backoff=0.001, retries=1, **options)


@pytest.fixture
def exchange() -> RenderedExchange:
    sim = SimulatedMarket(get_profile("small"), seed=5)
    sim.step()
    return RenderedExchange(sim)


def _wallets(sim: SimulatedMarket, n: int) -> list[str]:
    snap = snapshot_of(sim, "small")
    ranked = snap.accounts.join(snap.positions.select("address").unique(), on="address").sort("perp_equity")
    # Spread over the equity range, largest and smallest included.
    step = max(ranked.height // n, 1)
    return ranked["address"].gather(list(range(0, ranked.height, step))[:n]).to_list()


def test_a_failing_wallet_is_reported_not_fatal(exchange):
    wallets = _wallets(exchange.sim, 6)
    src = exchange.source(wallets, tiers=RefreshTiers.parse("0:1"))
    first = validate_snapshot(src.take_snapshot())
    assert set(first.accounts["address"]) == set(wallets) and not src.failures

    exchange.broken = {wallets[0]}
    exchange.sim.step()
    second = validate_snapshot(src.take_snapshot())
    assert src.failures[wallets[0]].consecutive == 1 and "500" in src.failures[wallets[0]].reason
    assert second.extra["failed"] == "1" and second.extra["refreshed"] == str(len(wallets) - 1)
    # Its last good state is carried, revalued at the new marks.
    row = second.positions.filter(pl.col("address") == wallets[0]).join(
        second.markets.select("coin", "mark_price"), on="coin")
    assert row.height and ((row["szi"].abs() * row["mark_price"] - row["position_value"]).abs() < 1e-6).all()

    newcomer = "0x" + "ee" * 20
    exchange.broken.add(newcomer)
    src._addresses.append(newcomer)
    third = validate_snapshot(src.take_snapshot())
    assert src.failures[wallets[0]].consecutive == 2
    assert newcomer in src.failures and newcomer not in set(third.accounts["address"])
    exchange.broken.clear()
    src.take_snapshot()
    assert not src.failures
    src.close()


def test_refresh_tiers_spend_the_budget_on_large_wallets(exchange):
    wallets = _wallets(exchange.sim, 12)
    equity = dict(snapshot_of(exchange.sim, "small").accounts.select("address", "perp_equity").iter_rows())
    threshold = sorted(equity[a] for a in wallets)[6]
    tiers = RefreshTiers.parse(f"{threshold}:1,0:3")
    src = exchange.source(wallets, tiers=tiers, slow_every=3)
    cycles = 7
    for _ in range(cycles):
        validate_snapshot(src.take_snapshot())
    src.close()
    n_dexes = len([b for b in exchange.log if b["type"] == "metaAndAssetCtxs"]) // cycles
    per_wallet = Counter(b["user"] for b in exchange.log if b["type"] == "clearinghouseState")
    slow = Counter(b["user"] for b in exchange.log if b["type"] == "portfolio")
    for a in wallets:
        refreshes = per_wallet[a] // n_dexes
        if equity[a] >= threshold:
            assert refreshes == cycles, a
        else:
            assert 1 + (cycles - 1) // 3 <= refreshes <= 1 + -(-(cycles - 1) // 3), a  # first cycle, then 1 in 3
        assert 1 <= slow[a] <= 1 + -(-(cycles - 1) // 3)


def test_watchlist_files(tmp_path):
    a, b = "0x" + "ab" * 20, "0x" + "CD" * 20
    path = tmp_path / "wallets.txt"
    path.write_text(f"# my wallets\n{a}, whale\n\n{b}  # mixed case\n{a}\n")
    assert read_watchlist(path) == [a, b.lower()]
    (tmp_path / "wallets.json").write_text(json.dumps([b, a]))
    assert read_watchlist(tmp_path / "wallets.json") == [b.lower(), a]
    path.write_text(f"{a}\n0x1234\n")
    with pytest.raises(WatchlistError, match=r"wallets.txt:2: '0x1234' is not"):
        read_watchlist(path)
    with pytest.raises(WatchlistError, match="cannot read watchlist"):
        read_watchlist(tmp_path / "missing.txt")


def test_leaderboard_file_format():
    rows = [{"ethAddress": "0x" + f"{i:02x}" * 20, "accountValue": str(v), "displayName": None, "prize": 0,
             "windowPerformances": [["day", {"pnl": "1", "roi": "0.0", "vlm": "0"}],
                                    ["allTime", {"pnl": str(v / 10), "roi": "0.1", "vlm": "5"}]]}
            for i, v in enumerate([50.0, 5000.0, 500.0])]
    entries = parse_leaderboard(json.dumps({"leaderboardRows": rows}), top=2)
    assert [e.account_value for e in entries] == [Decimal("5000.0"), Decimal("500.0")]
    assert entries[0].all_time_pnl == Decimal("500.0")
    with pytest.raises(WatchlistError, match="leaderboard format"):
        parse_leaderboard(b'{"rows": []}')


def test_refresh_tiers_parse_and_reject():
    tiers = RefreshTiers.parse("100000:3,1000000:1,0:10")
    assert [t.every for t in tiers.tiers] == [1, 3, 10]
    assert tiers.every(2e6) == 1 and tiers.every(2e5) == 3 and tiers.every(5) == 10 and tiers.every(-5) == 10
    with pytest.raises(ValueError, match="MIN_EQUITY:EVERY"):
        RefreshTiers.parse("lots")
    with pytest.raises(ValueError, match=">= 1"):
        RefreshTiers.parse("0:0")


def test_unknown_dex_is_a_clear_error(exchange):
    src = exchange.source(_wallets(exchange.sim, 1), dexes=["", "nope"])
    with pytest.raises(InfoError, match="unknown dex"):
        src.take_snapshot()
    src.close()


def test_meta_and_ctxs_of_different_lengths_are_refused():
    meta, ctxs = msgspec.json.decode(_encode(SHAPES["metaAndAssetCtxs"]), type=MetaAndAssetCtxs)
    with pytest.raises(ValueError, match="3 markets but 2 asset contexts"):
        parse.markets_frame([("", (meta, ctxs[:2]))])


def test_a_cycle_without_market_data_yields_nothing_and_the_next_one_tries_again(exchange):
    wallets = _wallets(exchange.sim, 2)
    down = {"on": True}

    def handler(request):
        if down["on"] and json.loads(request.content)["type"] == "perpDexs":
            down["on"] = False
            return httpx.Response(503, text="maintenance")
        return exchange(request)

    src = HyperliquidHttpSource(url="http://exchange/info", wallets=wallets, weight_limit=None, retries=0,
                                interval=0, cycles=2, transport=httpx.MockTransport(handler))
    snaps = list(src.snapshots())
    assert len(snaps) == 1 and snaps[0].extra["cycle"] == "1" and src.cycle == 2
