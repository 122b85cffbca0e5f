"""A node state file, parsed: the chain's own accounting per dex and per wallet, before any mark price.

This is what `read_node_state(path)` returns and what everything downstream builds on: the snapshot
(`convert.py`, at marks from elsewhere) and the replay of the node's streams between two state files.
Every figure is the state's own, in the state's own units (integers x 1e6 for USD, x 10^szDecimals for
sizes), plus the few conversions that need the metas (coin, `szi`, default leverage), done once here.
The key paths each field comes from are in docs/node-source.md (the evidence table).

    NodeState
    ├── dexes: tuple[NodeDex]          one per `exchange.locus.cls[d]`, in file order (main dex first)
    │   ├── index, name, pdi, collateral_token
    │   ├── markets: tuple[NodeMarket] `meta.universe[i]` + `oracle.pxs[i]`
    │   └── margin_tables              `meta.marginTableIdToMarginTable` (+ the implicit single-tier ids)
    ├── users: pl.DataFrame            USERS_SCHEMA: one row per (dex, wallet) user state (`u`)
    ├── positions: pl.DataFrame        POSITIONS_SCHEMA: one row per non-zero position (`p.p`)
    ├── account_modes: pl.DataFrame    ACCOUNT_MODES_SCHEMA: wallets of `locus.ust` with an `a` mode
    ├── spot: pl.DataFrame | None      SPOT_SCHEMA: `locus.scl.user_states[[addr, {b: [[token, {t}]]}]]`
    ├── stakes: pl.DataFrame | None    STAKES_SCHEMA: `c_staking.delegations` (shape unverified)
    ├── unknown_keys: dict[str, int]   keys no evidence names, counted per key path (never fatal)
    └── notes: list[str]               what was left out or assumed, and why
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

USD_SCALE = 1_000_000  # USD amounts (u, e, I.u, f.*, tier bounds) are integers x 1e6
HIP3_ASSET_BASE = 100_000  # a HIP-3 position's asset id may be 100000 + 10000 x pdi + index
HIP3_ASSET_STRIDE = 10_000
DEFAULT_LEVERAGE_CAP = 20  # a position without `l` keeps the default: min(max leverage, 20) [R]
IMPLICIT_TABLE_MAX_ID = 50  # a marginTableId below 50 not listed in the meta: one tier, max leverage = id [R]

# Account modes of `locus.ust[[addr, {"a": ...}]]` [R]; no `a` is the standard mode.
ACCOUNT_MODES = {"u": "unified", "d": "dexAbstraction", "p": "portfolioMargin"}
STANDARD = "standard"
# Modes whose collateral is not the per-dex `u` (it sits in spot, shared across dexes).
SHARED_COLLATERAL_MODES = frozenset({"unified", "dexAbstraction", "portfolioMargin"})

# Spot tokens we can value, by index: (name, wei decimals), as the public `spotMeta` lists them.
# The state file has no token table we have evidence for (`scl` has no top-level `tokens` [V]).
SPOT_TOKENS: dict[int, tuple[str, int]] = {0: ("USDC", 8), 150: ("HYPE", 8)}

MARGIN_MODES = ("normal", "noCross", "strictIsolated")

USERS_SCHEMA = pl.Schema({
    "dex_index": pl.Int32,  # position of the clearinghouse in exchange.locus.cls
    "address": pl.String,  # lowercase 0x hex
    "entry": pl.Int64,  # index of the [address, state] pair in user_to_state (for key paths)
    "u": pl.Int64,  # raw USD x 1e6 (the API's crossMarginSummary.totalRawUsd)
})

POSITIONS_SCHEMA = pl.Schema({
    "book": pl.Int64,  # row of its user state in `users`
    "dex_index": pl.Int32,
    "address": pl.String,
    "asset": pl.Int32,  # index into the dex's universe (= asset_raw % 10000)
    "asset_raw": pl.Int64,  # as written: the index, or 100000 + 10000 x pdi + index on HIP-3
    "coin": pl.String,
    "size_raw": pl.Int64,  # `s`: size x 10^szDecimals, signed
    "szi": pl.Float64,  # size in coins
    "entry_ntl": pl.Int64,  # `e`: |size| x entry price, x 1e6
    "leverage": pl.Int32,  # `l.C`, `l.I.l`, or the market's default when `l` is absent
    "isolated": pl.Boolean,
    "default_leverage": pl.Boolean,  # `l` absent: leverage and margin mode are the market's defaults
    "iso_raw_usd": pl.Int64,  # `l.I.u` x 1e6 (isolated rawUsd); null for cross, or isolated without `l`
    "margin_table": pl.Int64,  # `M`
    "funding_all": pl.Int64,  # `f.a` x 1e6; null when absent
    "funding_open": pl.Int64,  # `f.o` x 1e6 (cumFunding.sinceOpen, positive = paid); null when absent
    "funding_change": pl.Int64,  # `f.c` x 1e6; null when absent
})

ACCOUNT_MODES_SCHEMA = pl.Schema({"address": pl.String, "mode": pl.String})
SPOT_SCHEMA = pl.Schema({"address": pl.String, "token": pl.Int64, "total": pl.Int64})  # total in wei
STAKES_SCHEMA = pl.Schema({"address": pl.String, "amount_wei": pl.Int64})


@dataclass(frozen=True)
class MarginTier:
    lower_bound: float  # USD notional where the tier starts (the state's integer / 1e6)
    max_leverage: int
    maintenance_deduction: float  # USD (integer / 1e6); 0 when absent


@dataclass(frozen=True)
class NodeMarket:
    asset: int  # index in the dex's universe
    coin: str  # "BTC", "xyz:GOLD"
    sz_decimals: int
    margin_table_id: int
    margin_mode: str  # one of MARGIN_MODES ("normal" when absent)
    max_leverage: int  # the first tier's of its margin table
    oracle_price: float | None  # oracle.pxs[i][0].px / 10^(6 - szDecimals); None when the entry is empty
    only_isolated: bool  # marginMode is not "normal" (or onlyIsolated)
    is_delisted: bool

    @property
    def default_leverage(self) -> int:
        return min(self.max_leverage, DEFAULT_LEVERAGE_CAP)


@dataclass(frozen=True)
class NodeDex:
    index: int  # position in exchange.locus.cls
    name: str  # "main" or the HIP-3 dex (the coins' "dex:" prefix)
    pdi: int  # meta.pdi (0 on the main dex; the index when absent)
    collateral_token: int  # meta.collateralToken (spot token index; 0 = USDC)
    markets: tuple[NodeMarket, ...]
    margin_tables: dict[int, tuple[MarginTier, ...]]  # lower bounds ascending

    def asset_id(self, asset: int) -> int:
        """The id a HIP-3 position may carry for universe index `asset` (the index itself on the main dex)."""
        return asset if self.pdi == 0 else HIP3_ASSET_BASE + HIP3_ASSET_STRIDE * self.pdi + asset


@dataclass
class NodeState:
    height: int
    time: datetime  # UTC
    format: str  # "rmp" | "json"
    dexes: tuple[NodeDex, ...]
    users: pl.DataFrame
    positions: pl.DataFrame
    account_modes: pl.DataFrame
    spot: pl.DataFrame | None  # None: no spot section, or one we could not read (see notes)
    stakes: pl.DataFrame | None
    path: Path | None = None
    unknown_keys: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def dex(self, name: str) -> NodeDex:
        """The dex named `name` ("main" or a HIP-3 dex); KeyError when the state has none."""
        for d in self.dexes:
            if d.name == name:
                return d
        raise KeyError(f"no dex {name!r} in this state (dexes: {[d.name for d in self.dexes]})")

    def markets_frame(self) -> pl.DataFrame:
        """One row per market of every dex: dex_index, asset, coin, dex, and the meta's figures."""
        rows = [(d.index, m.asset, m.coin, d.name, m.sz_decimals, m.max_leverage, m.margin_table_id, m.margin_mode,
                 m.only_isolated, m.is_delisted, m.oracle_price, d.collateral_token)
                for d in self.dexes for m in d.markets]
        return pl.DataFrame(rows, orient="row", schema={
            "dex_index": pl.Int32, "asset": pl.Int32, "coin": pl.String, "dex": pl.String, "sz_decimals": pl.Int32,
            "max_leverage": pl.Int32, "margin_table": pl.Int64, "margin_mode": pl.String,
            "only_isolated": pl.Boolean, "is_delisted": pl.Boolean, "oracle_price": pl.Float64,
            "collateral_token": pl.Int64})
