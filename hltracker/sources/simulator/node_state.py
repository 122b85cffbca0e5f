"""The simulator's state as a non-validator node's periodic ABCI state snapshot.

A node writes `hl/data/periodic_abci_states/{YYYYMMDD}/{height}.rmp` (MessagePack with named keys; the
node's `translate-abci-state` gives the same keys as JSON). The layout is undocumented: reference notes
§2.3 give what is known from reverse engineering, and this module renders the simulator's state in the
two layouts named there, so that the `hyperliquid-node` source can be tested end to end. **Every key the
notes do not name is our own choice (marked "ours" below), to be confirmed on a real node**; see
docs/node-source.md.

`compressed` (2026; `exchange.locus.cls`, one clearinghouse per perp dex)::

    exchange.locus.cls[d].meta            universe[{name, sz_decimals, max_leverage, margin_table_id,
                                          only_isolated, is_delisted}], margin_tables[[id, {description,
                                          margin_tiers[{lower_bound, max_leverage}]}]], collateral_token (ours)
    exchange.locus.cls[d].oracle.pxs      oracle price per universe entry, decimal strings (ours); no marks
    exchange.locus.cls[d].user_states.user_to_state   [[address, UserState], ...]
        UserState = {"u": raw USD x 1e6 (cross collateral - Σ cross szi x entry, as the API's rawUsd),
                     "p": {"p": [[asset (0-based index into this dex's universe), Position], ...]}}
        Position  = {"l": {"C": leverage} | {"I": {"l": leverage, "r": isolated rawUsd x 1e6}},
                     "M": margin table id, "s": size x 10^szDecimals (signed),
                     "e": entry notional |szi| x entry x 1e6 (ours),
                     "f": {"a": all-time, "o": since open, "c": since change} funding x 1e6, positive = paid
                          (only "a" is in the notes; "o", "c" and the sign are ours)}
    exchange.locus.ctx                    {initial_height, height, time, next_oid}
    exchange.locus.scl                    tokens[[index, {name, wei_decimals}]], user_states.user_to_state
                                          [[address, {"b": [[token, total in wei], ...]}]] (USDC and HYPE; ours)
    exchange.c_staking.delegations        [[address, [[validator, HYPE in wei], ...]]] (ours)
    exchange.perp_dexs[d]                 {books, funding_tracker} (empty: the books are not simulated)

`verbose` (2025; `exchange.perp_dexs[d].clearinghouse`), decimal strings as the info API writes them::

    exchange.context                      {height, time}
    exchange.perp_dexs[d].clearinghouse.meta   as above, plus asset_ctxs[{mark_px, oracle_px, mid_px,
                                          premium, funding, open_interest, day_ntl_vlm}]
    exchange.perp_dexs[d].clearinghouse.user_states.user_to_state   {address: UserState}
        UserState = {"raw_usd", "asset_positions": [{"type": "oneWay", "position": {coin, szi, entry_px,
                     leverage{type, value[, raw_usd]}, cum_funding{all_time, since_open, since_change}}}]}

Only spot USDC and HYPE and staked HYPE are rendered (compressed layout only; the notes name no place
for them in the 2025 layout); vault equity, PnL and volume history are not part of the state. A user
state is rendered for each (wallet, dex) with a position or a non-zero raw USD balance. Times are
ISO 8601 with nanoseconds and no zone (UTC), as node files write them. Heights are made up: 10,000
blocks per simulator step from `GENESIS_HEIGHT`, so that files sort as a node's do.
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
from hltracker.sources.simulator.wire import HYPE_TOKEN, USDC_TOKEN, fmt_px, fmt_rate, fmt_usd
from hltracker.sources.simulator.wire import fmt as fmt_decimal

Layout = Literal["compressed", "verbose"]
Format = Literal["rmp", "json"]
LAYOUTS: tuple[str, ...] = ("compressed", "verbose")
FORMATS: tuple[str, ...] = ("rmp", "json")
GENESIS_HEIGHT = 900_000_000
BLOCKS_PER_STEP = 10_000  # a node writes a state every 10,000 blocks
USD_SCALE = 1_000_000  # USDC x 1e6
WEI_DECIMALS = 8  # spot USDC and HYPE amounts
VALIDATOR = "0x" + "5a" * 20  # the one (made-up) validator every simulated stake is delegated to


def default_height(sim: SimulatedMarket) -> int:
    return GENESIS_HEIGHT + BLOCKS_PER_STEP * sim.steps_taken


def state_time(sim: SimulatedMarket) -> str:
    """`2026-03-20T00:15:00.000000000`: UTC, nanoseconds, no zone, as node files write times."""
    now = sim.now
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond * 1000:09d}"


# ----- what both layouts render --------------------------------------------------------------------


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


def _meta(sim: SimulatedMarket, d: int) -> dict[str, Any]:
    uni = sim.uni
    universe, table_ids = [], []
    for i in _dex_markets(sim, d).tolist():
        spec = uni.specs[i]
        universe.append({"name": str(uni.coin[i]), "sz_decimals": int(uni.sz_decimals[i]),
                         "max_leverage": int(uni.max_leverage[i]), "margin_table_id": int(spec.margin_table_id),
                         "only_isolated": bool(uni.only_isolated[i]), "is_delisted": bool(uni.delisted[i])})
        if spec.margin_table_id not in table_ids:
            table_ids.append(spec.margin_table_id)
    tables = [[tid, {"description": MARGIN_TABLES[tid].description, "margin_tiers": _tiers(tid)}] for tid in table_ids]
    return {"universe": universe, "margin_tables": tables, "collateral_token": DEX_COLLATERAL_TOKEN[DEXES[d]]}


def _tiers(table_id: int) -> list[dict[str, Any]]:
    return [{"lower_bound": fmt_decimal(t.lower_bound, 1), "max_leverage": int(t.max_leverage)}
            for t in MARGIN_TABLES[table_id].tiers]


def _asset_ctxs(sim: SimulatedMarket, d: int) -> list[dict[str, Any]]:
    uni, b = sim.uni, sim.book
    oi = np.bincount(b.market, weights=np.abs(b.lots).astype(np.float64), minlength=uni.n) / 2 * uni.lot
    ntl = sim.day_ntl_volume()
    out = []
    for i in _dex_markets(sim, d).tolist():
        live = not uni.delisted[i]
        out.append({
            "mark_px": fmt_px(sim.mark[i]), "oracle_px": fmt_px(sim.oracle_px[i]),
            "mid_px": fmt_px(sim.mid[i]) if live else None, "premium": fmt_rate(sim.premium[i]) if live else None,
            "funding": fmt_rate(sim.funding[i] if live else 0.0),
            "open_interest": fmt_decimal(oi[i], int(uni.sz_decimals[i])), "day_ntl_vlm": fmt_usd(ntl[i]),
        })
    return out


def _usd(x: np.ndarray) -> list[int]:
    return np.rint(x * USD_SCALE).astype(np.int64).tolist()


# ----- compressed ----------------------------------------------------------------------------------


def _compressed_positions(sim: SimulatedMarket, books: _Books) -> list[list]:
    """Every book row as `[asset, Position]`, in book-row order."""
    uni, b = sim.uni, sim.book
    local = np.zeros(uni.n, np.int64)
    for d in range(books.n_dex):
        idx = _dex_markets(sim, d)
        local[idx] = np.arange(idx.size)
    table = np.array([s.margin_table_id for s in uni.specs])[b.market].tolist()
    e = _usd(np.abs(books.szi) * b.entry)
    r = _usd(b.iso_margin - books.szi * b.entry)
    fa, fo, fc = _usd(b.funding_all), _usd(b.funding_open), _usd(b.funding_change)
    out = []
    for k, (asset, lev, iso, lots) in enumerate(zip(local[b.market].tolist(), b.leverage.tolist(),
                                                    b.isolated.tolist(), b.lots.tolist(), strict=True)):
        leverage = {"I": {"l": lev, "r": r[k]}} if iso else {"C": lev}
        out.append([asset, {"l": leverage, "M": table[k], "f": {"a": fa[k], "o": fo[k], "c": fc[k]},
                            "s": lots, "e": e[k]}])
    return out


def _compressed_clearinghouse(sim: SimulatedMarket, books: _Books, positions: list[list], d: int) -> dict:
    mine = books.of_dex(d)
    addresses = sim.people.address[mine // books.n_dex].tolist()
    users = [[addr, {"u": u, "p": {"p": [positions[j] for j in rows.tolist()]}}]
             for addr, u, rows in zip(addresses, books.u[mine].tolist(), books.rows(mine), strict=True)]
    return {
        "meta": _meta(sim, d),
        "user_states": {"user_to_state": users},
        "oracle": {"pxs": [fmt_px(sim.oracle_px[i]) for i in _dex_markets(sim, d).tolist()]},
        "halted_assets": [],
    }


def _wei(x: np.ndarray) -> np.ndarray:
    return np.rint(x * 10**WEI_DECIMALS).astype(np.int64)


def _spot(sim: SimulatedMarket) -> dict:
    p = sim.people
    usdc, hype = _wei(p.spot_usdc), _wei(p.spot_hype)
    users = []
    for w in np.flatnonzero((usdc != 0) | (hype != 0)).tolist():
        balances = [[token, int(amount)] for token, amount in ((USDC_TOKEN, usdc[w]), (HYPE_TOKEN, hype[w])) if amount]
        users.append([str(p.address[w]), {"b": balances}])
    tokens = [[USDC_TOKEN, {"name": "USDC", "wei_decimals": WEI_DECIMALS}],
              [HYPE_TOKEN, {"name": "HYPE", "wei_decimals": WEI_DECIMALS}]]
    return {"tokens": tokens, "user_states": {"user_to_state": users}}


def _staking(sim: SimulatedMarket) -> dict:
    staked = _wei(sim.people.staked_hype)
    stakers = np.flatnonzero(staked != 0)
    return {"delegations": [[addr, [[VALIDATOR, amount]]] for addr, amount in
                            zip(sim.people.address[stakers].tolist(), staked[stakers].tolist(), strict=True)]}


def _compressed(sim: SimulatedMarket, height: int) -> dict:
    books = _Books(sim)
    positions = _compressed_positions(sim, books)
    return {"exchange": {
        "locus": {
            "cls": [_compressed_clearinghouse(sim, books, positions, d) for d in range(books.n_dex)],
            "scl": _spot(sim),
            "ctx": {"initial_height": GENESIS_HEIGHT, "height": height, "time": state_time(sim), "next_oid": 0},
            "chn": "Mainnet",
        },
        "perp_dexs": [{"books": [], "funding_tracker": {}} for _ in range(books.n_dex)],
        "c_staking": _staking(sim),
    }}


# ----- verbose -------------------------------------------------------------------------------------


def _verbose_position(sim: SimulatedMarket, books: _Books, j: int) -> dict:
    uni, b = sim.uni, sim.book
    i = int(b.market[j])
    szi, entry = float(books.szi[j]), float(b.entry[j])
    leverage: dict[str, Any] = {"type": "isolated" if b.isolated[j] else "cross", "value": int(b.leverage[j])}
    if b.isolated[j]:
        leverage["raw_usd"] = fmt_usd(b.iso_margin[j] - szi * entry)
    return {"type": "oneWay", "position": {
        "coin": str(uni.coin[i]), "szi": fmt_decimal(szi, int(uni.sz_decimals[i])), "entry_px": fmt_px(entry),
        "leverage": leverage,
        "cum_funding": {"all_time": fmt_usd(b.funding_all[j]), "since_open": fmt_usd(b.funding_open[j]),
                        "since_change": fmt_usd(b.funding_change[j])},
    }}


def _verbose_clearinghouse(sim: SimulatedMarket, books: _Books, d: int) -> dict:
    mine = books.of_dex(d)
    addresses = sim.people.address[mine // books.n_dex].tolist()
    users = {addr: {"raw_usd": fmt_usd(raw),
                    "asset_positions": [_verbose_position(sim, books, j) for j in rows.tolist()]}
             for addr, raw, rows in zip(addresses, books.raw_usd[mine].tolist(), books.rows(mine), strict=True)}
    return {"meta": {**_meta(sim, d), "asset_ctxs": _asset_ctxs(sim, d)}, "user_states": {"user_to_state": users}}


def _verbose(sim: SimulatedMarket, height: int) -> dict:
    books = _Books(sim)
    return {"exchange": {
        "context": {"height": height, "time": state_time(sim)},
        "perp_dexs": [{"clearinghouse": _verbose_clearinghouse(sim, books, d), "books": []}
                      for d in range(books.n_dex)],
    }}


# ----- entry points --------------------------------------------------------------------------------


def render_abci_state(sim: SimulatedMarket, layout: Layout, height: int | None = None) -> dict:
    """The simulator's current state as a node's ABCI state document (a JSON/MessagePack-ready dict)."""
    height = default_height(sim) if height is None else int(height)
    if layout == "compressed":
        return _compressed(sim, height)
    if layout == "verbose":
        return _verbose(sim, height)
    raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")


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


def write_abci_state(sim: SimulatedMarket, root: str | Path, layout: Layout, fmt: Format = "rmp",
                     height: int | None = None) -> Path:
    """Write the current state as `root/{YYYYMMDD}/{height}.rmp` (MessagePack) or `.json`, as a node does."""
    height = default_height(sim) if height is None else int(height)
    path = Path(root) / sim.now.strftime("%Y%m%d") / f"{height}.{fmt}"
    return write_state_document(render_abci_state(sim, layout, height), path, fmt)
