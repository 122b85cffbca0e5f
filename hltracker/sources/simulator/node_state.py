"""The simulator's state as a non-validator node's periodic state file, in the layout real files have.

A node writes `hl/data/periodic_abci_states/{YYYYMMDD}/{height}.rmp` (MessagePack with named keys; the
node's `translate-abci-state` gives the same keys as JSON). The layout is undocumented; this module
renders it as public code that reads real files shows it (../shared/reference/node-state-evidence.md,
summarised in docs/node-source.md), with every quirk seen there, so that the `hyperliquid-node` source
is tested on what a real node writes::

    exchange.locus.cls[d]                     one clearinghouse per perp dex (main first, then HIP-3)
      .meta.universe[i]                       {name, szDecimals, marginTableId[, marginMode][, isDelisted]}
      .meta.marginTableIdToMarginTable        [[id, {description, margin_tiers[{lower_bound, max_leverage,
                                              maintenance_deduction}]}]], bounds and deductions USD x 1e6;
                                              ids below 50 are not listed (one tier, max leverage = id)
      .meta.{collateralToken, pdi}
      .oracle.pxs[i]                          [{px: oracle price x 10^(6 - szDecimals)}]
      .user_states.users_with_positions       [address, ...]
      .user_states.user_to_state              [[address, UserState], ...]
        UserState = {"u": raw USD x 1e6, "p": {"p": [[asset, Position], ...]}[, "S": {s, r}][, "D": 0]}
        asset     = the universe index; 100000 + 10000 x pdi + index on a HIP-3 dex
        Position  = {"s": size x 10^szDecimals, "e": |szi| x entry x 1e6, "M": margin table id,
                     "f": {"a", "o", "c"} funding x 1e6 (positive = paid),
                     "l": {"C": leverage} | {"I": {"l": leverage, "u": isolated rawUsd x 1e6}}}
                    `l` is absent on a cross position at the market's default leverage (min(max, 20));
                    some wallets also carry a leverage preference `{"s": null, "l", "M"}` for a market
                    they hold no position in
    exchange.locus.ctx                        {initial_height, height, round, time, next_oid}
    exchange.locus.scl.user_states            [[address, {"b": [[token, {"t": total in wei}]]}]] (USDC, HYPE)
    exchange.locus.ust                        [[address, {} | {"a": "u" | "d" | "p"}]] (account modes)
    exchange.c_staking.delegations            [[address, [[validator, HYPE in wei], ...]]] (shape unverified)
    exchange.perp_dexs[d]                     {books, funding_tracker, twap_tracker, perp_to_annotation}

A user state is rendered for each (wallet, dex) with a position or a non-zero raw USD balance. `S` and
`D` (meaning unknown) and the account modes are given to a fixed, seed-independent share of wallets
(`MODE_EVERY` etc.); the simulator trades every wallet alike, so a mode only changes how the reader
reports the wallet. Times are ISO 8601 with nanoseconds and no zone (UTC), as node files write them.
Heights are made up: 10,000 blocks per simulator step from `GENESIS_HEIGHT`.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, Literal

import msgpack
import numpy as np

from hltracker.sources.simulator.catalog import DEX_COLLATERAL_TOKEN, DEXES, MARGIN_TABLES
from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.wire import HYPE_TOKEN, USDC_TOKEN

Format = Literal["rmp", "json"]
FORMATS: tuple[str, ...] = ("rmp", "json")
GENESIS_HEIGHT = 900_000_000
BLOCKS_PER_STEP = 10_000  # a node writes a state every 10,000 blocks
USD_SCALE = 1_000_000  # USDC x 1e6
WEI_DECIMALS = 8  # spot USDC and HYPE amounts
VALIDATOR = "0x" + "5a" * 20  # the one (made-up) validator every simulated stake is delegated to
HIP3_ASSET_BASE, HIP3_ASSET_STRIDE = 100_000, 10_000
IMPLICIT_TABLE_MAX_ID = 50  # table ids below 50 are not listed: one tier, max leverage = id
DEFAULT_LEVERAGE_CAP = 20
# Which wallets (by index) carry the rarer quirks: an account mode, `S`, `D`, a leverage preference.
MODE_EVERY, MODES = 41, {7: "u", 19: "d", 31: "p"}
S_EVERY, D_EVERY, PREFERENCE_EVERY = 7, 11, 13


def default_height(sim: SimulatedMarket) -> int:
    return GENESIS_HEIGHT + BLOCKS_PER_STEP * sim.steps_taken


def state_time(sim: SimulatedMarket) -> str:
    """`2026-03-20T00:15:00.000000000`: UTC, nanoseconds, no zone, as node files write times."""
    now = sim.now
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond * 1000:09d}"


def account_mode_of(wallet: np.ndarray) -> np.ndarray:
    """The `ust` mode letter rendered for each wallet index ("" = standard, no `a`)."""
    out = np.full(wallet.shape, "", dtype=object)
    for rest, mode in MODES.items():
        out[wallet % MODE_EVERY == rest] = mode
    return out


class _Books:
    """The (wallet, dex) books to render, each with its raw USD and its positions' rows."""

    def __init__(self, sim: SimulatedMarket):
        uni, b = sim.uni, sim.book
        self.n_dex = len(uni.dexes)
        flat = b.wallet * self.n_dex + uni.dex_index[b.market]
        self.szi = b.lots * uni.lot[b.market]
        cross_ntl = np.bincount(flat, weights=np.where(b.isolated, 0.0, self.szi * b.entry), minlength=sim.cash.size)
        self.raw_usd = sim.cash.ravel() - cross_ntl
        self.u = np.rint(self.raw_usd * USD_SCALE).astype(np.int64)
        has_position = np.bincount(flat, minlength=sim.cash.size) > 0
        self.has_position = has_position
        self.keep = np.flatnonzero((self.u != 0) | has_position)
        self.order = np.lexsort((b.market, flat))  # rows by book, then universe order
        self._sorted = flat[self.order]

    def of_dex(self, d: int) -> np.ndarray:
        return self.keep[self.keep % self.n_dex == d]

    def rows(self, book: np.ndarray) -> list[np.ndarray]:
        lo = np.searchsorted(self._sorted, book, "left")
        hi = np.searchsorted(self._sorted, book, "right")
        return [self.order[a:z] for a, z in zip(lo.tolist(), hi.tolist(), strict=True)]


def _dex_markets(sim: SimulatedMarket, d: int) -> np.ndarray:
    return np.flatnonzero(sim.uni.dex_index == d)


def _asset_ids(sim: SimulatedMarket) -> np.ndarray:
    """Each market's asset id as positions carry it: the index on the main dex, 100000 + 10000 x pdi + index
    on a HIP-3 dex (pdi = the clearinghouse's position)."""
    uni = sim.uni
    ids = np.zeros(uni.n, np.int64)
    for d in range(len(uni.dexes)):
        idx = _dex_markets(sim, d)
        ids[idx] = np.arange(idx.size) + (HIP3_ASSET_BASE + HIP3_ASSET_STRIDE * d if d else 0)
    return ids


def _tiers(table_id: int) -> list[dict[str, Any]]:
    out, deduction, prev_mmr = [], 0.0, None
    for t in MARGIN_TABLES[table_id].tiers:
        mmr = 1.0 / (2.0 * t.max_leverage)
        if prev_mmr is not None:
            deduction += t.lower_bound * (mmr - prev_mmr)
        prev_mmr = mmr
        out.append({"lower_bound": round(float(t.lower_bound) * USD_SCALE), "max_leverage": int(t.max_leverage),
                    "maintenance_deduction": round(float(deduction) * USD_SCALE)})
    return out


def _meta(sim: SimulatedMarket, d: int) -> dict[str, Any]:
    uni = sim.uni
    universe, table_ids = [], []
    for i in _dex_markets(sim, d).tolist():
        spec = uni.specs[i]
        entry: dict[str, Any] = {"szDecimals": int(uni.sz_decimals[i]), "name": str(uni.coin[i]),
                                 "marginTableId": int(spec.margin_table_id)}
        if spec.margin_mode is not None:
            entry["marginMode"] = spec.margin_mode
        if uni.delisted[i]:
            entry["isDelisted"] = True
        universe.append(entry)
        if spec.margin_table_id >= IMPLICIT_TABLE_MAX_ID and spec.margin_table_id not in table_ids:
            table_ids.append(spec.margin_table_id)
    tables = [[tid, {"description": MARGIN_TABLES[tid].description, "margin_tiers": _tiers(tid)}]
              for tid in sorted(table_ids)]
    return {"universe": universe, "marginTableIdToMarginTable": tables,
            "collateralToken": DEX_COLLATERAL_TOKEN[DEXES[d]], "pdi": d}


def _usd(x: np.ndarray) -> list[int]:
    return np.rint(x * USD_SCALE).astype(np.int64).tolist()


def _positions(sim: SimulatedMarket, books: _Books) -> list[list]:
    """Every book row as `[asset id, Position]`, in book-row order."""
    uni, b = sim.uni, sim.book
    ids = _asset_ids(sim)[b.market].tolist()
    table = np.array([s.margin_table_id for s in uni.specs])[b.market].tolist()
    default = np.minimum(uni.max_leverage[b.market], DEFAULT_LEVERAGE_CAP)
    normal = np.array([s.margin_mode is None for s in uni.specs])[b.market]
    keeps_default = (~b.isolated & normal & (b.leverage == default)).tolist()
    e = _usd(np.abs(books.szi) * b.entry)
    iso_u = _usd(b.iso_margin - books.szi * b.entry)
    fa, fo, fc = _usd(b.funding_all), _usd(b.funding_open), _usd(b.funding_change)
    out = []
    for k, (asset, lev, iso, lots) in enumerate(zip(ids, b.leverage.tolist(), b.isolated.tolist(), b.lots.tolist(),
                                                    strict=True)):
        pos: dict[str, Any] = {"M": table[k], "f": {"a": fa[k], "o": fo[k], "c": fc[k]}, "s": lots, "e": e[k]}
        if iso:
            pos["l"] = {"I": {"l": lev, "u": iso_u[k]}}
        elif not keeps_default[k]:
            pos["l"] = {"C": lev}
        out.append([asset, pos])
    return out


def _user_state(u: int, held: list[list], wallet: int, first_asset: tuple[int, int] | None) -> dict:
    state: dict[str, Any] = {"u": u, "p": {"p": held}}
    if wallet % PREFERENCE_EVERY == 2 and first_asset is not None and all(a != first_asset[0] for a, _ in held):
        # A leverage preference for a market without a position: `s` null, no entry notional [R].
        held.append([first_asset[0], {"s": None, "l": {"C": 3}, "M": first_asset[1], "f": {"a": 0, "o": 0, "c": 0}}])
    if wallet % S_EVERY == 3:
        state["S"] = {"s": (wallet * 7919) % 1_000_000, "r": (wallet * 104729) % 1_000_000}
    if wallet % D_EVERY == 5:
        state["D"] = 0
    return state


def _clearinghouse(sim: SimulatedMarket, books: _Books, positions: list[list], d: int) -> dict:
    mine = books.of_dex(d)
    wallets = (mine // books.n_dex).tolist()
    addresses = sim.people.address[mine // books.n_dex].tolist()
    markets = _dex_markets(sim, d)
    first = (int(_asset_ids(sim)[markets[0]]), int(sim.uni.specs[markets[0]].margin_table_id)) if markets.size else None
    users = [[addr, _user_state(u, [list(positions[j]) for j in rows.tolist()], w, first)]
             for addr, u, rows, w in zip(addresses, books.u[mine].tolist(), books.rows(mine), wallets, strict=True)]
    holders = [addr for addr, book in zip(addresses, mine.tolist(), strict=True) if books.has_position[book]]
    pxs = [[{"px": round(float(sim.oracle_px[i]) * 10.0 ** (6 - int(sim.uni.sz_decimals[i])))}]
           for i in markets.tolist()]
    return {
        "meta": _meta(sim, d),
        "user_states": {"users_with_positions": holders, "user_to_state": users},
        "oracle": {"pxs": pxs, "external_perp_pxs": []},
        "total_net_deposit": 0.0,
        "halted_assets": [],
    }


def _wei(x: np.ndarray) -> np.ndarray:
    return np.rint(x * 10**WEI_DECIMALS).astype(np.int64)


def _spot(sim: SimulatedMarket) -> dict:
    p = sim.people
    usdc, hype = _wei(p.spot_usdc), _wei(p.spot_hype)
    users = []
    for w in np.flatnonzero((usdc != 0) | (hype != 0)).tolist():
        balances = [[token, {"t": int(amount)}] for token, amount in ((USDC_TOKEN, usdc[w]), (HYPE_TOKEN, hype[w]))
                    if amount]
        users.append([str(p.address[w]), {"b": balances}])
    return {"user_states": users}


def _modes(sim: SimulatedMarket) -> list[list]:
    letters = account_mode_of(np.arange(sim.people.address.size))
    return [[addr, {"a": a} if a else {}] for addr, a in zip(sim.people.address.tolist(), letters.tolist(),
                                                              strict=True)]


def _staking(sim: SimulatedMarket) -> dict:
    staked = _wei(sim.people.staked_hype)
    stakers = np.flatnonzero(staked != 0)
    return {"delegations": [[addr, [[VALIDATOR, amount]]] for addr, amount in
                            zip(sim.people.address[stakers].tolist(), staked[stakers].tolist(), strict=True)]}


# ----- entry points --------------------------------------------------------------------------------


def render_abci_state(sim: SimulatedMarket, height: int | None = None) -> dict:
    """The simulator's current state as a node's state document (a JSON/MessagePack-ready dict)."""
    height = default_height(sim) if height is None else int(height)
    books = _Books(sim)
    positions = _positions(sim, books)
    return {"exchange": {
        "locus": {
            "cls": [_clearinghouse(sim, books, positions, d) for d in range(books.n_dex)],
            "scl": _spot(sim),
            "ctx": {"initial_height": GENESIS_HEIGHT, "height": height, "round": height, "time": state_time(sim),
                    "next_oid": 0},
            "ust": _modes(sim),
            "chn": "Mainnet",
        },
        "perp_dexs": [{"books": [], "funding_tracker": {}, "twap_tracker": {}, "perp_to_annotation": []}
                      for _ in range(books.n_dex)],
        "c_staking": _staking(sim),
    }}


def write_state_document(doc: dict, path: Path, fmt: Format) -> Path:
    """Write `doc` to `path` atomically (a dot-named temp file in the same folder, then a rename): a
    node's file "appears complete", and a follower must never read half of one."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as f:
            if fmt == "rmp":
                msgpack.pack(doc, f)
            else:
                f.write(json.dumps(doc, separators=(",", ":")).encode())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_abci_state(sim: SimulatedMarket, root: str | Path, fmt: Format = "rmp", height: int | None = None) -> Path:
    """Write the current state as `root/{YYYYMMDD}/{height}.rmp` (MessagePack) or `.json`, as a node does."""
    height = default_height(sim) if height is None else int(height)
    path = Path(root) / sim.now.strftime("%Y%m%d") / f"{height}.{fmt}"
    return write_state_document(render_abci_state(sim, height), path, fmt)
