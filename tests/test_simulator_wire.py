"""The simulator's Hyperliquid wire renderings: shapes, string decimals and agreement with its snapshot."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hltracker.model import Snapshot
from hltracker.sources.simulator.catalog import (
    DEX_COLLATERAL_TOKEN,
    DEX_FULL_NAMES,
    DEXES,
    MARGIN_TABLES,
    markets_of,
)
from hltracker.sources.simulator.frames import snapshot_of
from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.profiles import get_profile
from hltracker.sources.simulator.wire import (
    HLP_VAULT,
    PORTFOLIO_WINDOWS,
    WireRenderer,
    WireRequestError,
    fmt,
    fmt_px,
)

ROOT = Path(__file__).resolve().parents[1]
CASSETTE = ROOT.parent / "shared" / "fixtures" / "hyperliquid-python-sdk" / "test_get_user_state.yaml"
API_DEXES = ["" if d == "main" else d for d in DEXES]
UNKNOWN = "0x" + "ab" * 20
# Keys whose values the API keeps as JSON integers (everything else numeric is a decimal string).
INT_KEYS = {"szDecimals", "maxLeverage", "marginTableId", "value", "token", "time", "nPendingWithdrawals",
            "lockedUntilTimestamp", "collateralToken"}
PLAIN_DECIMAL = re.compile(r"^-?\d+\.\d+$")
USD = 1e-6  # rendered USD precision


@dataclass
class Market:
    sim: SimulatedMarket
    snap: Snapshot
    wire: WireRenderer
    markets: dict[str, dict]  # coin -> markets frame row
    accounts: dict[str, dict]  # address -> accounts frame row
    positions: dict[tuple[str, str], dict]  # (address, coin) -> positions frame row


@pytest.fixture(scope="module")
def market() -> Market:
    # Start an hour before midnight so that 8 steps cross hours (funding) and a day (ledger checkpoint).
    profile = get_profile("small").with_start(datetime(2026, 3, 20, 23, 0, tzinfo=UTC))
    sim = SimulatedMarket(profile, seed=11)
    for _ in range(8):
        sim.step()
    snap = snapshot_of(sim, "small")
    return Market(
        sim=sim, snap=snap, wire=WireRenderer(sim),
        markets={r["coin"]: r for r in snap.markets.iter_rows(named=True)},
        accounts={r["address"]: r for r in snap.accounts.iter_rows(named=True)},
        positions={(r["address"], r["coin"]): r for r in snap.positions.iter_rows(named=True)},
    )


def _api_dex(dex: str) -> str:
    return "" if dex == "main" else dex


def _close(a: float, b: float, abs_tol: float = 1.01 * USD / 2, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def _wallets_of_interest(m: Market) -> list[str]:
    """Wallets with a cross main-dex position, an isolated position, a HIP-3 position, an isolated HIP-3
    position, a position without liquidation price, plus a few more, all taken from the snapshot."""
    pos = m.snap.positions.sort("address", "coin")
    picks = [
        pos.filter((pl.col("dex") == "main") & (pl.col("leverage_type") == "cross")),
        pos.filter(pl.col("leverage_type") == "isolated"),
        pos.filter(pl.col("dex") != "main"),
        pos.filter((pl.col("dex") != "main") & (pl.col("leverage_type") == "isolated")),
        pos.filter(pl.col("liquidation_price").is_null()),
        pos.filter(pl.col("liquidation_price").is_not_null() & (pl.col("szi") < 0)),
    ]
    out: list[str] = []
    for frame in picks:
        assert frame.height > 0, "the small profile should have every kind of position"
        for addr in frame["address"].head(2).to_list():
            if addr not in out:
                out.append(addr)
    extra = pos["address"].unique().sort().to_list()
    out += [a for a in extra[:: max(1, len(extra) // 12)] if a not in out]
    return out


def _positions(state: dict) -> dict[str, dict]:
    return {p["position"]["coin"]: p["position"] for p in state["assetPositions"]}


def _marks(m: Market) -> dict[str, Decimal]:
    return {coin: Decimal(fmt_px(row["mark_price"])) for coin, row in m.markets.items()}


# ----- clearinghouseState ----------------------------------------------------------------------


def test_positions_match_the_snapshot_rows(market: Market):
    m = market
    checked = 0
    for addr in _wallets_of_interest(m):
        for dex in DEXES:
            state = m.wire.clearinghouse_state(addr, _api_dex(dex))
            rendered = _positions(state)
            expected = {coin for (a, coin), r in m.positions.items() if a == addr and r["dex"] == dex}
            assert set(rendered) == expected, (addr, dex)
            for coin, p in rendered.items():
                row = m.positions[(addr, coin)]
                szd = m.markets[coin]["sz_decimals"]
                assert _close(float(p["szi"]), row["szi"], abs_tol=10.0**-szd / 2 + 1e-12, rel=0)
                assert _close(float(p["entryPx"]), row["entry_price"], abs_tol=0)
                assert _close(float(p["positionValue"]), row["position_value"])
                assert _close(float(p["unrealizedPnl"]), row["unrealized_pnl"])
                assert _close(float(p["marginUsed"]), row["margin_used"])
                assert _close(float(p["cumFunding"]["sinceOpen"]), row["funding_since_open"])
                if row["liquidation_price"] is None:
                    assert p["liquidationPx"] is None
                else:
                    assert _close(float(p["liquidationPx"]), row["liquidation_price"], abs_tol=0)
                assert p["leverage"]["type"] == row["leverage_type"]
                assert p["leverage"]["value"] == row["leverage"]
                assert ("rawUsd" in p["leverage"]) == (row["leverage_type"] == "isolated")
                assert p["maxLeverage"] == row["max_leverage"]
                checked += 1
    assert checked >= 10


def test_hip3_positions_are_prefixed_and_only_on_their_dex(market: Market):
    m = market
    row = m.snap.positions.filter(pl.col("dex") != "main").sort("address", "coin").row(0, named=True)
    for dex in API_DEXES:
        coins = set(_positions(m.wire.clearinghouse_state(row["address"], dex)))
        assert (row["coin"] in coins) == (dex == row["dex"])
        assert all(c.startswith(f"{dex}:") if dex else ":" not in c for c in coins)


def test_account_values_sum_to_perp_equity_and_withdrawable_to_balance(market: Market):
    m = market
    rng = np.random.default_rng(3)
    sample = list(m.sim.people.address[rng.choice(len(m.sim.people), 150, replace=False)])
    for addr in [*_wallets_of_interest(m), *sample]:
        states = [m.wire.clearinghouse_state(addr, dex) for dex in API_DEXES]
        acc = m.accounts[addr]
        total = sum(float(s["marginSummary"]["accountValue"]) for s in states)
        free = sum(float(s["withdrawable"]) for s in states)
        assert _close(total, acc["perp_equity"], abs_tol=len(DEXES) * USD)
        assert _close(free, acc["balance"], abs_tol=len(DEXES) * USD)


def test_clearinghouse_identities_of_the_reference_notes(market: Market):
    m = market
    marks = _marks(m)
    tol = Decimal("0.000002")
    for addr in _wallets_of_interest(m):
        for dex in API_DEXES:
            state = m.wire.clearinghouse_state(addr, dex)
            ms, cs = state["marginSummary"], state["crossMarginSummary"]
            pos = list(_positions(state).values())
            cross = [p for p in pos if p["leverage"]["type"] == "cross"]
            for summary, group in ((ms, pos), (cs, cross)):
                ntl = sum((Decimal(p["szi"]) * marks[p["coin"]] for p in group), Decimal(0))
                assert abs(Decimal(summary["accountValue"]) - Decimal(summary["totalRawUsd"]) - ntl) <= tol
                assert abs(Decimal(summary["totalNtlPos"])
                           - sum((Decimal(p["positionValue"]) for p in group), Decimal(0))) <= tol * len(pos) + tol
                assert abs(Decimal(summary["totalMarginUsed"])
                           - sum((Decimal(p["marginUsed"]) for p in group), Decimal(0))) <= tol * len(pos) + tol
            for p in pos:
                szi, mark, entry = Decimal(p["szi"]), marks[p["coin"]], Decimal(p["entryPx"])
                assert abs(Decimal(p["positionValue"]) - abs(szi) * mark) <= tol
                upnl_tol = tol + abs(szi) * entry * Decimal("1e-11")  # entryPx carries 12 significant figures
                assert abs(Decimal(p["unrealizedPnl"]) - szi * (mark - entry)) <= upnl_tol
                lev = p["leverage"]
                if lev["type"] == "isolated":
                    assert abs(Decimal(p["marginUsed"]) - (Decimal(lev["rawUsd"]) + szi * mark)) <= tol
                else:
                    assert abs(Decimal(p["marginUsed"]) - abs(szi) * mark / lev["value"]) <= tol
            assert Decimal(state["withdrawable"]) >= 0
            assert state["time"] == m.sim.now_ms


# ----- perpDexs / metaAndAssetCtxs -------------------------------------------------------------


def test_perp_dexs_lists_the_hip3_dexes_in_order(market: Market):
    dexes = market.wire.perp_dexs()
    assert dexes[0] is None
    assert [d["name"] for d in dexes[1:]] == list(DEXES[1:])
    for d in dexes[1:]:
        assert list(d) == ["name", "fullName", "deployer", "oracleUpdater", "feeRecipient",
                           "assetToStreamingOiCap", "assetToFundingMultiplier"]
        assert d["fullName"] == DEX_FULL_NAMES[d["name"]]
        assert re.fullmatch(r"0x[0-9a-f]{40}", d["deployer"])
        assert sorted(c for c, _ in d["assetToFundingMultiplier"]) == sorted(s.coin for s in markets_of(d["name"]))


def test_meta_and_asset_ctxs_match_the_catalogue_and_markets_frame(market: Market):
    m = market
    for dex in DEXES:
        meta, ctxs = m.wire.meta_and_asset_ctxs(_api_dex(dex))
        specs = markets_of(dex)
        assert [u["name"] for u in meta["universe"]] == [s.coin for s in specs]
        assert len(ctxs) == len(specs)
        assert meta["collateralToken"] == DEX_COLLATERAL_TOKEN[dex]
        tables = dict((tid, t) for tid, t in meta["marginTables"])
        for u, spec, ctx in zip(meta["universe"], specs, ctxs, strict=True):
            assert list(u)[:4] == ["szDecimals", "name", "maxLeverage", "marginTableId"]
            assert (u["szDecimals"], u["maxLeverage"], u["marginTableId"]) == (
                spec.sz_decimals, spec.max_leverage, spec.margin_table_id)
            assert u.get("isDelisted", False) == spec.is_delisted
            assert u.get("onlyIsolated", False) == spec.only_isolated
            assert u.get("marginMode") == spec.margin_mode
            tiers = tables[spec.margin_table_id]["marginTiers"]
            assert [(float(t["lowerBound"]), t["maxLeverage"]) for t in tiers] == [
                (t.lower_bound, t.max_leverage) for t in MARGIN_TABLES[spec.margin_table_id].tiers]
            row = m.markets[spec.coin]
            assert float(ctx["markPx"]) == row["mark_price"]
            assert float(ctx["oraclePx"]) == row["oracle_price"]
            assert _close(float(ctx["openInterest"]), row["open_interest"], abs_tol=1e-12)
            assert _close(float(ctx["funding"]), row["funding_rate"], abs_tol=0.51e-10, rel=0)
            assert _close(float(ctx["dayNtlVlm"]), row["day_ntl_volume"])
            if row["mid_price"] is None:
                assert ctx["midPx"] is None and ctx["impactPxs"] is None
            else:
                assert float(ctx["midPx"]) == row["mid_price"]
                bid, ask = (float(x) for x in ctx["impactPxs"])
                assert bid <= ask
            if row["premium"] is None:
                assert ctx["premium"] is None
            else:
                assert _close(float(ctx["premium"]), row["premium"], abs_tol=0.51e-10, rel=0)


def test_open_interest_balances_long_and_short_sizes(market: Market):
    m = market
    pos = m.snap.positions
    for dex in ("main", "xyz"):
        _, ctxs = m.wire.meta_and_asset_ctxs(_api_dex(dex))
        for spec, ctx in zip(markets_of(dex), ctxs, strict=True):
            szi = pos.filter(pl.col("coin") == spec.coin)["szi"]
            assert _close(float(ctx["openInterest"]), float(szi.clip(lower_bound=0).sum()), abs_tol=1e-9)


# ----- spot, vaults, staking, portfolio --------------------------------------------------------


def test_spot_vault_and_staking_value_to_the_snapshot(market: Market):
    m = market
    acc = m.snap.accounts
    hype_px = m.sim.hype_price()
    picks = [
        *acc.filter(pl.col("spot_equity") > 0).sort("address")["address"].head(15).to_list(),
        *acc.filter(pl.col("vault_equity") > 0).sort("address")["address"].head(15).to_list(),
        *acc.filter(pl.col("staking_equity") > 0).sort("address")["address"].head(15).to_list(),
        *acc.filter((pl.col("spot_equity") == 0) & (pl.col("vault_equity") == 0)).sort("address")["address"]
        .head(3).to_list(),
    ]
    for addr in picks:
        row = m.accounts[addr]
        balances = m.wire.spot_clearinghouse_state(addr)["balances"]
        assert [b["coin"] for b in balances] in (["USDC", "HYPE"], ["USDC"], ["HYPE"], [])
        spot = sum(float(b["total"]) * (hype_px if b["coin"] == "HYPE" else 1.0) for b in balances)
        assert _close(spot, row["spot_equity"], abs_tol=USD + hype_px * 1e-8)
        for b in balances:
            assert list(b) == ["coin", "token", "hold", "total", "entryNtl"]
            assert b["token"] == {"USDC": 0, "HYPE": 150}[b["coin"]]
        vaults = m.wire.user_vault_equities(addr)
        assert _close(sum(float(v["equity"]) for v in vaults), row["vault_equity"])
        assert all(v["vaultAddress"] == HLP_VAULT for v in vaults) and len(vaults) <= 1
        stake = m.wire.delegator_summary(addr)
        assert list(stake) == ["delegated", "undelegated", "totalPendingWithdrawal", "nPendingWithdrawals"]
        assert _close(float(stake["delegated"]) * hype_px, row["staking_equity"], abs_tol=hype_px * 1e-8)


def test_portfolio_ends_at_the_snapshot_figures(market: Market):
    m = market
    now = m.sim.now_ms
    for addr in _wallets_of_interest(m)[:12]:
        row = m.accounts[addr]
        windows = m.wire.portfolio(addr)
        assert [w for w, _ in windows] == [name for name, _, _ in PORTFOLIO_WINDOWS]
        data = dict(windows)
        perp_all = data["perpAllTime"]
        assert _close(float(perp_all["accountValueHistory"][-1][1]), row["perp_equity"])
        assert _close(float(perp_all["pnlHistory"][-1][1]), row["all_time_pnl"])
        assert _close(float(data["perpMonth"]["vlm"]), row["perp_volume_30d"])
        off_perp = row["spot_equity"] + row["vault_equity"]
        assert _close(float(data["allTime"]["accountValueHistory"][-1][1]), row["perp_equity"] + off_perp,
                      abs_tol=2 * USD)
        for (name, length, _), (_, window) in zip(PORTFOLIO_WINDOWS, windows, strict=True):
            times = [t for t, _ in window["accountValueHistory"]]
            assert times == [t for t, _ in window["pnlHistory"]]
            assert times == sorted(set(times)) and times[-1] == now
            assert window["pnlHistory"][0][1] == "0.0"
            if length is not None:
                assert times[0] >= now - length, name
            else:
                assert window["accountValueHistory"][0][1] == "0.0"  # the wallet's first appearance
        assert len(data["day"]["accountValueHistory"]) >= 2  # the midnight checkpoint, then now


# ----- wire conventions ------------------------------------------------------------------------


def _all_responses(m: Market) -> list[object]:
    out: list[object] = [m.wire.perp_dexs()]
    out += [m.wire.meta_and_asset_ctxs(d) for d in API_DEXES]
    for addr in [*_wallets_of_interest(m)[:8], UNKNOWN]:
        out += [m.wire.clearinghouse_state(addr, d) for d in API_DEXES]
        out += [m.wire.spot_clearinghouse_state(addr), m.wire.user_vault_equities(addr),
                m.wire.delegator_summary(addr), m.wire.portfolio(addr)]
    return out


def _check_numbers(node: object, key: str | None, path: str) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _check_numbers(v, k, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            # [ms, "decimal"] history points and [tableId, {...}] margin tables keep an int first element.
            first_int_ok = key in ("accountValueHistory", "pnlHistory", "marginTables") and i == 0
            _check_numbers(v, "time" if first_int_ok else key, f"{path}[{i}]")
    elif isinstance(node, bool) or node is None:
        pass
    elif isinstance(node, int):
        assert key in INT_KEYS or key == "time", f"{path}: integer {node} where a decimal string is expected"
    elif isinstance(node, float):
        raise AssertionError(f"{path}: float {node} (the API sends decimal strings)")
    else:
        assert isinstance(node, str)
        if re.fullmatch(r"-?[\d.eE+-]+", node) and any(ch.isdigit() for ch in node):
            assert PLAIN_DECIMAL.match(node), f"{path}: {node!r} is not a plain decimal"
            assert node != "-0.0", path


def test_every_number_is_a_plain_decimal_string(market: Market):
    for response in _all_responses(market):
        json.dumps(response)  # JSON-ready
        _check_numbers(response, None, "$")


def test_key_order_follows_the_reference_notes(market: Market):
    m = market
    addr = m.snap.positions.filter(pl.col("leverage_type") == "isolated").sort("address")["address"][0]
    dex = _api_dex(m.positions[(addr, m.snap.positions.filter(pl.col("address") == addr)["coin"][0])]["dex"])
    state = m.wire.clearinghouse_state(addr, dex)
    assert list(state) == ["marginSummary", "crossMarginSummary", "crossMaintenanceMarginUsed", "withdrawable",
                           "assetPositions", "time"]
    assert list(state["marginSummary"]) == ["accountValue", "totalNtlPos", "totalRawUsd", "totalMarginUsed"]
    assert list(state["crossMarginSummary"]) == list(state["marginSummary"])
    for item in state["assetPositions"]:
        assert list(item) == ["type", "position"] and item["type"] == "oneWay"
        p = item["position"]
        assert list(p) == ["coin", "szi", "leverage", "entryPx", "positionValue", "unrealizedPnl", "returnOnEquity",
                           "liquidationPx", "marginUsed", "maxLeverage", "cumFunding"]
        assert list(p["leverage"]) == ["type", "value", "rawUsd"] if p["leverage"]["type"] == "isolated" else [
            "type", "value"]
        assert list(p["cumFunding"]) == ["allTime", "sinceOpen", "sinceChange"]
    meta, ctxs = m.wire.meta_and_asset_ctxs("")
    assert list(meta) == ["universe", "marginTables", "collateralToken"]
    assert list(ctxs[0]) == ["funding", "openInterest", "prevDayPx", "dayNtlVlm", "premium", "oraclePx", "markPx",
                             "midPx", "impactPxs", "dayBaseVlm"]
    vault_addr = m.snap.accounts.filter(pl.col("vault_equity") > 0)["address"][0]
    assert list(m.wire.user_vault_equities(vault_addr)[0]) == ["vaultAddress", "equity", "lockedUntilTimestamp"]
    assert list(dict(m.wire.portfolio(addr))["day"]) == ["accountValueHistory", "pnlHistory", "vlm"]


def test_unknown_wallet_gets_an_empty_state(market: Market):
    w = market.wire
    for dex in API_DEXES:
        state = w.clearinghouse_state(UNKNOWN, dex)
        assert state["assetPositions"] == []
        assert state["marginSummary"] == {"accountValue": "0.0", "totalNtlPos": "0.0", "totalRawUsd": "0.0",
                                          "totalMarginUsed": "0.0"}
        assert state["crossMarginSummary"] == state["marginSummary"]
        assert state["withdrawable"] == "0.0" and state["crossMaintenanceMarginUsed"] == "0.0"
    assert w.spot_clearinghouse_state(UNKNOWN) == {"balances": []}
    assert w.user_vault_equities(UNKNOWN) == []
    assert w.delegator_summary(UNKNOWN)["delegated"] == "0.0"
    assert [name for name, _ in w.portfolio(UNKNOWN)] == [name for name, _, _ in PORTFOLIO_WINDOWS]


def test_addresses_match_case_insensitively(market: Market):
    addr = _wallets_of_interest(market)[0]
    upper = "0x" + addr[2:].upper()
    assert market.wire.clearinghouse_state(upper) == market.wire.clearinghouse_state(addr)


def test_render_dispatches_on_the_request_type(market: Market):
    w = market.wire
    addr = _wallets_of_interest(market)[2]
    dex = _api_dex(market.snap.positions.filter(pl.col("dex") != "main")["dex"][0])
    assert w.render({"type": "perpDexs"}) == w.perp_dexs()
    assert w.render({"type": "metaAndAssetCtxs"}) == w.meta_and_asset_ctxs("")
    assert w.render({"type": "metaAndAssetCtxs", "dex": dex}) == w.meta_and_asset_ctxs(dex)
    assert w.render({"type": "meta", "dex": dex}) == w.meta_and_asset_ctxs(dex)[0]
    assert w.render({"type": "clearinghouseState", "user": addr}) == w.clearinghouse_state(addr)
    assert w.render({"type": "clearinghouseState", "user": addr, "dex": dex}) == w.clearinghouse_state(addr, dex)
    assert w.render({"type": "spotClearinghouseState", "user": addr}) == w.spot_clearinghouse_state(addr)
    assert w.render({"type": "userVaultEquities", "user": addr}) == w.user_vault_equities(addr)
    assert w.render({"type": "delegatorSummary", "user": addr}) == w.delegator_summary(addr)
    assert w.render({"type": "portfolio", "user": addr}) == w.portfolio(addr)


@pytest.mark.parametrize("request_body", [
    {"type": "nope"},
    {},
    {"type": "clearinghouseState"},
    {"type": "portfolio", "user": "0x1234"},
    {"type": "spotClearinghouseState", "user": 12},
    {"type": "clearinghouseState", "user": UNKNOWN, "dex": "nope"},
    {"type": "clearinghouseState", "user": UNKNOWN, "dex": "main"},
    {"type": "metaAndAssetCtxs", "dex": "XYZ"},
    ["perpDexs"],
])
def test_render_rejects_bad_requests(market: Market, request_body):
    with pytest.raises(WireRequestError):
        market.wire.render(request_body)
    assert issubclass(WireRequestError, ValueError)


def test_renderer_follows_the_simulator_as_it_steps():
    sim = SimulatedMarket(get_profile("small"), seed=5)
    wire = WireRenderer(sim)
    addr = str(sim.people.address[sim.book.wallet[0]])
    before = wire.clearinghouse_state(addr)
    for _ in range(3):
        sim.step()
    snap = snapshot_of(sim, "small")
    after = wire.clearinghouse_state(addr)
    assert after["time"] == sim.now_ms != before["time"]
    rows = snap.positions.filter((pl.col("address") == addr) & (pl.col("dex") == "main"))
    assert sorted(_positions(after)) == sorted(rows["coin"].to_list())
    for row in rows.iter_rows(named=True):
        assert _close(float(_positions(after)[row["coin"]]["positionValue"]), row["position_value"])


def test_decimal_formatting_is_plain_and_trimmed():
    assert fmt(13109.4823281, 6) == "13109.482328"
    assert fmt(100.02765, 6) == "100.02765"
    assert fmt(-56, 3) == "-56.0"
    assert fmt(0.0, 6) == "0.0"
    assert fmt(-1e-9, 6) == "0.0"
    assert fmt(1.25e-5, 10) == "0.0000125"
    assert fmt(1.5e20, 6) == "150000000000000000000.0"
    assert fmt_px(0.00001234) == "0.00001234"
    assert fmt_px(81165.0) == "81165.0"
    assert fmt_px(2.58015431871234) == "2.58015431871"
    with pytest.raises(ValueError):
        fmt(float("nan"), 6)


def test_position_keys_cover_the_2023_cassette():
    if not CASSETTE.exists():
        pytest.skip(f"recorded fixtures not present ({CASSETTE}); they ship with the shared workspace only")
    yaml = pytest.importorskip("yaml")
    cassette = yaml.safe_load(CASSETTE.read_text())
    old = json.loads(cassette["interactions"][0]["response"]["body"]["string"])
    legacy_only = {"maxTradeSzs"}
    sim = SimulatedMarket(get_profile("small"), seed=2)
    wire = WireRenderer(sim)
    state = wire.clearinghouse_state(str(sim.people.address[sim.book.wallet[0]]))
    assert set(old) <= set(state)
    assert set(old["marginSummary"]) == set(state["marginSummary"])
    for old_item, new_item in zip(old["assetPositions"], state["assetPositions"], strict=False):
        assert set(old_item) == set(new_item)
        assert set(old_item["position"]) - legacy_only <= set(new_item["position"])
        assert set(old_item["position"]["leverage"]) <= set(new_item["position"]["leverage"])


# ----- allMids -----------------------------------------------------------------------------------


def test_all_mids_are_the_live_markets_mids_keyed_as_the_api_keys_them(market: Market):
    m = market
    for dex in DEXES:
        mids = m.wire.all_mids(_api_dex(dex))
        live = [s.coin for s in markets_of(dex) if not s.is_delisted]
        expected_keys = [*live, "@107"] if dex == "main" else live
        assert list(mids) == expected_keys
        for coin in live:
            row = m.markets[coin]
            assert float(mids[coin]) == (row["mid_price"] if row["mid_price"] is not None else row["mark_price"])
            assert coin.startswith(f"{dex}:") if dex != "main" else ":" not in coin
        _check_numbers(mids, None, "$")
        assert m.wire.render({"type": "allMids", "dex": _api_dex(dex)}) == mids
    assert m.wire.render({"type": "allMids"}) == m.wire.all_mids("")


def test_all_mids_spot_hype_is_the_price_spot_and_staking_are_valued_at(market: Market):
    m = market
    hype = float(m.wire.all_mids("")["@107"])
    assert m.wire.all_mids("")["@107"] == fmt_px(m.sim.hype_price())
    assert hype == m.markets["HYPE"]["mark_price"]
    addr = m.snap.accounts.filter(pl.col("staking_equity") > 0).sort("address")["address"][0]
    row = m.accounts[addr]
    assert _close(float(m.wire.delegator_summary(addr)["delegated"]) * hype, row["staking_equity"],
                  abs_tol=hype * 1e-8)
    for addr in m.snap.accounts.filter(pl.col("spot_equity") > 0).sort("address")["address"].head(10).to_list():
        spot = sum(float(b["total"]) * (hype if b["coin"] == "HYPE" else 1.0)
                   for b in m.wire.spot_clearinghouse_state(addr)["balances"])
        assert _close(spot, m.accounts[addr]["spot_equity"], abs_tol=USD + hype * 1e-8)


def test_all_mids_rejects_an_unknown_dex(market: Market):
    with pytest.raises(WireRequestError):
        market.wire.render({"type": "allMids", "dex": "nope"})


# ----- leaderboard -------------------------------------------------------------------------------


def test_leaderboard_lists_the_active_wallets(market: Market):
    m = market
    rows = m.wire.leaderboard()["leaderboardRows"]
    holders = set(m.snap.positions["address"].to_list())
    traded = set(m.snap.accounts.filter(pl.col("perp_volume_30d") > 0)["address"].to_list())
    assert [r["ethAddress"] for r in rows] == [a for a in m.sim.people.address.tolist() if a in holders | traded]
    assert len(rows) < len(m.sim.people)  # most wallets are idle and stay off the board


def test_leaderboard_rows_have_the_files_shape(market: Market):
    rows = market.wire.leaderboard()["leaderboardRows"]
    json.dumps(rows)
    for row in rows[::50]:
        assert list(row) == ["ethAddress", "accountValue", "displayName", "prize", "windowPerformances"]
        assert row["displayName"] is None and row["prize"] == 0
        assert [w for w, _ in row["windowPerformances"]] == ["day", "week", "month", "allTime"]
        assert PLAIN_DECIMAL.match(row["accountValue"])
        for _, perf in row["windowPerformances"]:
            assert list(perf) == ["pnl", "roi", "vlm"]
            assert all(PLAIN_DECIMAL.match(v) and v != "-0.0" for v in perf.values())


def test_leaderboard_figures_are_the_portfolio_and_snapshot_figures(market: Market):
    m = market
    rows = {r["ethAddress"]: r for r in m.wire.leaderboard()["leaderboardRows"]}
    picks = [a for a in _wallets_of_interest(m) if a in rows] + list(rows)[::97]
    for addr in picks:
        row, acc = rows[addr], m.accounts[addr]
        perf = dict(row["windowPerformances"])
        portfolio = dict(m.wire.portfolio(addr))
        assert row["accountValue"] == portfolio["allTime"]["accountValueHistory"][-1][1]
        for name in ("day", "week", "month", "allTime"):
            assert perf[name]["pnl"] == portfolio[name]["pnlHistory"][-1][1], (addr, name)
            assert perf[name]["vlm"] == portfolio[name]["vlm"], (addr, name)
        assert _close(float(row["accountValue"]), acc["perp_equity"] + acc["spot_equity"] + acc["vault_equity"],
                      abs_tol=2 * USD)
        assert _close(float(perf["allTime"]["pnl"]), acc["all_time_pnl"])
        assert _close(float(perf["month"]["vlm"]), acc["perp_volume_30d"])


def test_leaderboard_roi_is_pnl_over_the_capital_at_the_window_start(market: Market):
    rows = market.wire.leaderboard()["leaderboardRows"]
    seen_floor = False
    for row in rows:
        av = float(row["accountValue"])
        for _, perf in row["windowPerformances"]:
            pnl, roi = float(perf["pnl"]), float(perf["roi"])
            base = av - pnl if av - pnl >= 100 else max(av, 100.0)
            seen_floor |= av - pnl < 100
            assert _close(roi, pnl / base, abs_tol=2 * USD / base + 1e-10, rel=1e-6)  # pnl, av rounded to USD
    assert seen_floor  # some wallets withdrew more than they made: their base is the floor
