"""The ledger a stream replay starts from and keeps up to date: per wallet per dex, its cross collateral;
per (wallet, coin), its position (size in integer lots, entry, leverage, margin mode, isolated margin,
cumulative funding, opening time when known).

`Ledger` is mutable (the replay applies blocks to it); `copy()` gives an independent one. Two builders:
`ledger_from_simulator` (tests: the simulator's exchange state as it is, no rounding) and
`ledger_from_node_state` (a node state file as the state reader parses it). The second is the one
place that knows the reader's structure, so a change of the reader changes only that function.

Units: `cash` is the cross collateral with realised PnL (the API's `rawUsd` plus Σ cross szi x entry),
`iso_margin` the isolated collateral (isolated `rawUsd` + szi x entry), as in `hltracker.model.margin`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

MAIN_DEX = "main"


@dataclass(frozen=True)
class MarketInfo:
    coin: str
    dex: str
    asset: int  # Hyperliquid's asset id (main: index; HIP-3: 100000 + 10000 x dex index + index)
    index: int  # index in its dex's universe
    sz_decimals: int
    tier_lower: tuple[float, ...]  # margin tiers: lower bounds (USD) ascending
    tier_leverage: tuple[int, ...]
    only_isolated: bool = False
    is_delisted: bool = False

    @property
    def max_leverage(self) -> int:
        return int(self.tier_leverage[0])

    @property
    def lot(self) -> float:
        return 10.0 ** -self.sz_decimals


@dataclass(slots=True)
class Position:
    lots: int  # signed size x 10^szDecimals
    entry: float
    leverage: int
    isolated: bool
    iso_margin: float = 0.0
    funding_open: float = 0.0  # positive = paid, as cumFunding
    funding_change: float = 0.0
    funding_all: float = 0.0
    open_ms: int | None = None  # the opening fill's time; None when opened before the replay began

    def copy(self) -> Position:
        return replace(self)


@dataclass
class Ledger:
    height: int
    time_ms: int
    dexes: list[str]  # perp dexes in clearinghouse order; "main" first
    markets: dict[str, MarketInfo]
    cash: dict[tuple[str, str], float]  # (address, dex) -> cross collateral
    positions: dict[tuple[str, str], Position]  # (address, coin)
    wallets: set[str]
    marks: dict[str, float] = field(default_factory=dict)
    oracles: dict[str, float] = field(default_factory=dict)
    funding_rates: dict[str, float] = field(default_factory=dict)
    settings: dict[tuple[str, str], tuple[int, bool]] = field(default_factory=dict)  # leverage, isolated
    source: str = ""
    # USD a book's figures may be off by because its state file rounded them (0 for the simulator's)
    resolution: dict[tuple[str, str], float] = field(default_factory=dict)

    def copy(self) -> Ledger:
        return replace(self, cash=dict(self.cash), positions={k: p.copy() for k, p in self.positions.items()},
                       wallets=set(self.wallets), marks=dict(self.marks), oracles=dict(self.oracles),
                       funding_rates=dict(self.funding_rates), settings=dict(self.settings),
                       resolution=dict(self.resolution))

    def asset_index(self) -> dict[int, MarketInfo]:
        return {m.asset: m for m in self.markets.values()}

    def main_markets(self) -> list[MarketInfo]:
        return sorted((m for m in self.markets.values() if m.dex == MAIN_DEX), key=lambda m: m.index)


def ledger_from_simulator(sim, height: int) -> Ledger:
    """The simulator's exchange state (tests: the replay's exactness is checked against it)."""
    from hltracker.sources.simulator.node_streams import asset_id

    uni, b = sim.uni, sim.book
    markets = {}
    for m in range(uni.n):
        d = int(uni.dex_index[m])
        tiers = [(lo, int(lev)) for lo, lev in zip(uni.tier_lower[m], uni.tier_leverage[m], strict=True)
                 if np.isfinite(lo)]
        markets[str(uni.coin[m])] = MarketInfo(
            coin=str(uni.coin[m]), dex=str(uni.dex[m]), asset=asset_id(sim, m),
            index=int(m - np.flatnonzero(uni.dex_index == d)[0]), sz_decimals=int(uni.sz_decimals[m]),
            tier_lower=tuple(float(t[0]) for t in tiers), tier_leverage=tuple(t[1] for t in tiers),
            only_isolated=bool(uni.only_isolated[m]), is_delisted=bool(uni.delisted[m]))
    addr = sim.people.address
    dexes = list(uni.dexes)
    cash = {}
    w_idx, d_idx = np.nonzero(sim.cash)
    for w, d in zip(w_idx.tolist(), d_idx.tolist(), strict=True):
        cash[(str(addr[w]), dexes[d])] = float(sim.cash[w, d])
    positions = {}
    for i in range(len(b)):
        m = int(b.market[i])
        positions[(str(addr[b.wallet[i]]), str(uni.coin[m]))] = Position(
            lots=int(b.lots[i]), entry=float(b.entry[i]), leverage=int(b.leverage[i]),
            isolated=bool(b.isolated[i]), iso_margin=float(b.iso_margin[i]),
            funding_open=float(b.funding_open[i]), funding_change=float(b.funding_change[i]),
            funding_all=float(b.funding_all[i]), open_ms=int(b.open_ms[i]))
    return Ledger(height=height, time_ms=sim.now_ms, dexes=dexes, markets=markets, cash=cash,
                  positions=positions, wallets={str(a) for a in addr},
                  marks={str(c): float(x) for c, x in zip(uni.coin, sim.mark, strict=True)},
                  oracles={str(c): float(x) for c, x in zip(uni.coin, sim.oracle_px, strict=True)},
                  funding_rates={str(c): float(x) for c, x in zip(uni.coin, sim.funding, strict=True)},
                  source="simulator")


def ledger_from_node_state(state) -> Ledger:
    """A node state file as the reader parses it (`hyperliquid_node/state.py`'s `NodeState`).

    The one adapter between the state reader and the replay: positions keep their integer sizes; the
    cross collateral is raw USD plus Σ cross szi x entry, the isolated one isolated raw USD + szi x entry.
    """
    scale = 1_000_000
    markets: dict[str, MarketInfo] = {}
    oracles: dict[str, float] = {}
    dexes = [d.name for d in state.dexes]
    for d in state.dexes:
        for m in d.markets:
            tiers = d.margin_tables.get(m.margin_table_id) or ()
            markets[m.coin] = MarketInfo(
                coin=m.coin, dex=d.name, asset=d.asset_id(m.asset), index=m.asset, sz_decimals=m.sz_decimals,
                tier_lower=tuple(t.lower_bound for t in tiers) or (0.0,),
                tier_leverage=tuple(t.max_leverage for t in tiers) or (m.max_leverage,),
                only_isolated=m.only_isolated, is_delisted=m.is_delisted)
            if m.oracle_price is not None:
                oracles[m.coin] = m.oracle_price
    cash = {(r["address"], dexes[r["dex_index"]]): r["u"] / scale for r in state.users.iter_rows(named=True)}
    positions: dict[tuple[str, str], Position] = {}
    resolution = {k: 0.5 / scale for k in cash}
    for r in state.positions.iter_rows(named=True):
        info = markets[r["coin"]]
        lots = int(r["size_raw"])
        szi = lots * info.lot
        entry = r["entry_ntl"] / scale / abs(szi)
        key = (r["address"], info.dex)
        iso = bool(r["isolated"])
        if not iso:
            cash[key] = cash.get(key, 0.0) + szi * entry
        iso_raw = r["iso_raw_usd"]
        positions[(r["address"], info.coin)] = Position(
            lots=lots, entry=entry, leverage=int(r["leverage"]), isolated=iso,
            iso_margin=((iso_raw or 0) / scale + szi * entry) if iso else 0.0,
            funding_open=(r["funding_open"] or 0) / scale, funding_change=(r["funding_change"] or 0) / scale,
            funding_all=(r["funding_all"] or 0) / scale)
        resolution[key] = resolution.get(key, 0.5 / scale) + 1.0 / scale
    wallets = {a for a, _ in cash} | {a for a, _ in positions}
    return Ledger(height=state.height, time_ms=int(state.time.timestamp() * 1000), dexes=dexes, markets=markets,
                  cash=cash, positions=positions, wallets=wallets, oracles=oracles, source="node state",
                  resolution=resolution)
