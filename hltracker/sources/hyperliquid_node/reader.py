"""Stream a node state file into a `NodeState` (state.py): one user state in memory at a time.

The walk (`probe.walk`) hands over each user state as it passes; it is checked against the evidenced
layout and its numbers appended as one row, moved into a Polars frame every `CHUNK_ROWS` rows, so Python
objects never pile up. Nothing here needs the metas while reading: raw values (asset ids, scaled
integers) are kept as they are and resolved against the metas once the whole file has been read
(`_resolve`), so the file's key order does not matter and one pass suffices.

Quirks read as the evidence shows them (docs/node-source.md has the table):
- `s: null` or `s: 0`: a leverage preference for a market without a position: not a position;
- no `l`: the market's default leverage (min(max leverage, 20)), cross on a "normal" market, isolated
  otherwise (its isolated collateral is then not in the state: left null, and noted);
- HIP-3 asset ids: `raw % 10000` is the universe index; a raw id >= 100000 must name this dex's pdi;
- a marginTableId that the meta does not list and that is below 50: one tier, max leverage = the id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from hltracker.model import MAIN_DEX
from hltracker.model.wire import parse_iso
from hltracker.sources.hyperliquid_node.cursor import JsonNeedsPythonBackend, open_cursor
from hltracker.sources.hyperliquid_node.errors import NodeLayoutError, NodeStateError
from hltracker.sources.hyperliquid_node.probe import (
    FUNDING,
    HELD,
    ISOLATED,
    MARGIN_TABLE,
    MARGIN_TIER,
    MODES_SECTION,
    ORACLE_PX,
    POSITION_SPEC,
    SPOT_BALANCE,
    SPOT_SECTION,
    STAKING_SECTION,
    UNIVERSE_ENTRY,
    USER_STATE,
    UnknownKeys,
    Where,
    as_list,
    describe,
    expect_int,
    expect_pair,
    path_of,
    walk,
)
from hltracker.sources.hyperliquid_node.state import (
    ACCOUNT_MODES,
    ACCOUNT_MODES_SCHEMA,
    HIP3_ASSET_BASE,
    HIP3_ASSET_STRIDE,
    IMPLICIT_TABLE_MAX_ID,
    MARGIN_MODES,
    POSITIONS_SCHEMA,
    SPOT_SCHEMA,
    STAKES_SCHEMA,
    USD_SCALE,
    USERS_SCHEMA,
    MarginTier,
    NodeDex,
    NodeMarket,
    NodeState,
)

CHUNK_ROWS = 4_096

# The raw position rows, before the metas resolve them: (book, dex, address, entry k, asset_raw, s, e,
# leverage or 0 for the default, isolated, iso raw usd, M, f.a, f.o, f.c).
RAW_POSITIONS = {"book": pl.Int64, "dex_index": pl.Int32, "address": pl.String, "k": pl.Int32,
                 "asset_raw": pl.Int64, "size_raw": pl.Int64, "entry_ntl": pl.Int64, "leverage": pl.Int32,
                 "isolated": pl.Boolean, "iso_raw_usd": pl.Int64, "margin_table": pl.Int64,
                 "funding_all": pl.Int64, "funding_open": pl.Int64, "funding_change": pl.Int64}
NULLABLE_RAW = frozenset({"iso_raw_usd", "funding_all", "funding_open", "funding_change", "isolated"})


class _Rows:
    """Rows appended one at a time, kept as typed Polars chunks."""

    def __init__(self, schema: dict[str, pl.DataType], where: str, nullable: frozenset[str] = frozenset()):
        self.schema = schema
        self.where = where  # the key path the rows come from, for type errors
        self.nullable = nullable
        self._rows: list[tuple] = []
        self._chunks: list[pl.DataFrame] = []
        self._flushed = 0
        self.add = self._rows.append

    def __len__(self) -> int:
        return self._flushed + len(self._rows)

    def flush_if_full(self) -> None:
        if len(self._rows) >= CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        columns = list(zip(*self._rows, strict=True))
        series = []
        for (name, dtype), values in zip(self.schema.items(), columns, strict=True):
            try:
                s = pl.Series(name, values, dtype=dtype, strict=True)
            except (TypeError, OverflowError, pl.exceptions.PolarsError) as exc:
                raise NodeLayoutError(f"{self.where}: {name} values must be {dtype}: "
                                      f"{str(exc).splitlines()[0]}") from None
            if name not in self.nullable and s.null_count():
                raise NodeLayoutError(f"{self.where}: {name} has null values")
            series.append(s)
        self._chunks.append(pl.DataFrame(series))
        self._flushed += len(self._rows)
        self._rows.clear()

    def frame(self) -> pl.DataFrame:
        self._flush()
        if not self._chunks:
            return pl.DataFrame(schema=self.schema)
        return pl.concat(self._chunks, rechunk=False)


def _address(value: Any, where: Where) -> str:
    if type(value) is str:
        return value.lower()
    if isinstance(value, bytes) and len(value) == 20:
        return "0x" + value.hex()
    raise NodeLayoutError(f"{path_of(where)}: expected an address, found {describe(value)}")


def _leverage(lev: Any, at: Where, unknown: UnknownKeys) -> tuple[int, bool, int | None]:
    """(leverage, isolated, isolated raw USD) of a position's `l`: {"C": n} or {"I": {"l": n, "u": raw}}."""
    if type(lev) is dict and len(lev) == 1:
        if "C" in lev:
            return expect_int(lev["C"], (at, ".l.C")), False, None
        if "I" in lev:
            iso = ISOLATED.check(lev["I"], (at, ".l.I"), unknown)
            return expect_int(iso["l"], (at, ".l.I.l")), True, expect_int(iso["u"], (at, ".l.I.u"))
    raise NodeLayoutError(f"{path_of(at)}.l: expected {{'C': leverage}} or {{'I': {{'l', 'u'}}}}, "
                          f"found {describe(lev) if type(lev) is not dict else sorted(map(str, lev))}")


def positions_of(state: Any, where: Where, unknown: UnknownKeys) -> list[tuple]:
    """A user state checked against the layout, and its non-zero positions as
    (k, asset_raw, s, e, leverage or 0, isolated or None, iso raw usd, M, f.a, f.o, f.c)."""
    USER_STATE.check(state, where, unknown)
    expect_int(state["u"], (where, ".u"))
    held = state.get("p")
    if held is None:
        return []
    entries = as_list(HELD.check(held, (where, ".p"), unknown)["p"], (where, ".p.p"))
    out = []
    for k, entry in enumerate(entries):
        at = (where, f".p.p[{k}]")
        asset, pos = expect_pair(entry, at)
        if type(pos) is dict and "s" in pos and not pos["s"]:
            continue  # `s` null or 0: a leverage preference, not a position [R]
        pos_at = (at, "[1]")
        POSITION_SPEC.check(pos, pos_at, unknown)
        lev = pos.get("l")
        leverage, isolated, iso = (0, None, None) if lev is None else _leverage(lev, pos_at, unknown)
        f = pos.get("f")
        fa = fo = fc = None
        if f is not None:
            FUNDING.check(f, (pos_at, ".f"), unknown)
            fa, fo, fc = f.get("a"), f.get("o"), f.get("c")
        out.append((k, expect_int(asset, (at, "[0]")), pos["s"], pos["e"], leverage, isolated, iso, pos["M"],
                    fa, fo, fc))
    return out


def check_user_state(state: Any, where: Where, unknown: UnknownKeys) -> bool:
    """Whether a user state (checked against the layout) holds a position."""
    return bool(positions_of(state, where, unknown))


class _Collector:
    """The visitor of `probe.walk` that keeps each user state's numbers as rows."""

    def __init__(self):
        self.unknown = UnknownKeys()
        self.ctx: dict | None = None
        self.metas: dict[int, dict] = {}
        self.pxs: dict[int, list] = {}
        self.users = _Rows(dict(USERS_SCHEMA), "exchange.locus.cls[].user_states.user_to_state")
        self.positions = _Rows(RAW_POSITIONS, "exchange.locus.cls[].user_states.user_to_state[][1].p.p",
                               NULLABLE_RAW)
        self.spot = _Rows(dict(SPOT_SCHEMA), SPOT_SECTION + ".user_states")
        self.stakes = _Rows(dict(STAKES_SCHEMA), STAKING_SECTION + ".delegations")
        self.modes: list[tuple[str, str]] = []
        self.odd_modes: dict[str, int] = {}
        self.sections: set[str] = set()
        self.failed: dict[str, NodeLayoutError] = {}

    def context(self, ctx: dict) -> None:
        self.ctx = ctx

    def meta(self, dex: int, meta: dict) -> None:
        self.metas[dex] = meta

    def oracle(self, dex: int, pxs: list) -> None:
        self.pxs[dex] = pxs

    def user(self, dex: int, entry: int, address: Any, state: Any, where: Where) -> None:
        addr = address.lower() if type(address) is str else _address(address, where)
        try:
            held = positions_of(state, where, self.unknown)
        except NodeLayoutError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise NodeLayoutError(f"{path_of(where)}: unexpected value ({type(exc).__name__}: {exc})") from None
        users = self.users
        book = len(users)
        users.add((dex, addr, entry, state["u"]))
        if held:
            add = self.positions.add
            for k, asset, s, e, lev, iso, raw, m, fa, fo, fc in held:
                add((book, dex, addr, k, asset, s, e, lev, iso, raw, m, fa, fo, fc))
            self.positions.flush_if_full()
        users.flush_if_full()

    def section(self, where: str) -> None:
        self.sections.add(where)

    def spot_user(self, address: Any, state: dict, where: Where) -> None:
        addr = _address(address, where)
        balances = as_list(state["b"], (where, ".b"))
        add = self.spot.add
        for i, balance in enumerate(balances):
            at = (where, f".b[{i}]")
            token, amount = expect_pair(balance, at)
            total = SPOT_BALANCE.check(amount, (at, "[1]"), self.unknown)["t"]
            add((addr, expect_int(token, (at, "[0]")), expect_int(total, (at, "[1].t"))))
        self.spot.flush_if_full()

    def account_mode(self, address: Any, mode: Any, where: Where) -> None:
        addr = _address(address, where)
        name = ACCOUNT_MODES.get(mode) if type(mode) is str else None
        if name is None:
            # An account mode no evidence names: the wallet is handled as a shared-collateral one (its
            # per-dex `u` is not trusted as its collateral) and the value counted in the notes.
            self.odd_modes[repr(mode)] = self.odd_modes.get(repr(mode), 0) + 1
            name = f"unknown:{mode}"
        self.modes.append((addr, name))

    def stake(self, address: Any, delegations: Any, where: Where) -> None:
        addr = _address(address, where)
        if not isinstance(delegations, list) or not all(isinstance(d, list) and len(d) == 2 for d in delegations):
            raise NodeLayoutError(f"{path_of(where)}: expected a list of [validator, amount] pairs")
        for _validator, amount in delegations:
            self.stakes.add((addr, amount))
        self.stakes.flush_if_full()

    def optional_section_failed(self, section: str, error: NodeLayoutError) -> None:
        self.failed[section] = error

    def _optional_frame(self, section: str, rows: _Rows) -> pl.DataFrame | None:
        if section not in self.sections or section in self.failed:
            return None
        try:
            return rows.frame()
        except NodeLayoutError as exc:  # a value of the wrong type in the last chunk
            self.failed[section] = exc
            return None

    def result(self, fmt: str, path: Path | None) -> NodeState:
        if self.ctx is None:
            raise NodeLayoutError("exchange.locus: expected key 'ctx'")
        notes: list[str] = []
        dexes = tuple(_dex(d, self.metas.get(d), self.pxs.get(d), self.unknown, notes)
                      for d in sorted(set(self.metas) | set(self.pxs)))
        users = self.users.frame()
        positions = _resolve(self.positions.frame(), users, dexes, notes)
        spot = self._optional_frame(SPOT_SECTION, self.spot)
        stakes = self._optional_frame(STAKING_SECTION, self.stakes)
        modes = pl.DataFrame(self.modes, schema=ACCOUNT_MODES_SCHEMA, orient="row")
        if MODES_SECTION in self.failed:
            modes = modes.clear()
        for section, error in self.failed.items():
            notes.append(f"{section} left out: {error.problem}")
        if MODES_SECTION not in self.sections:
            notes.append(f"{MODES_SECTION} absent: every wallet is read in the standard account mode")
        if self.odd_modes:
            notes.append(f"{MODES_SECTION}: account mode(s) no evidence names {self.odd_modes}, handled as "
                         "shared-collateral modes")
        return NodeState(height=_height(self.ctx), time=_time(self.ctx), format=fmt, dexes=dexes, users=users,
                         positions=positions, account_modes=modes, spot=spot, stakes=stakes, path=path,
                         unknown_keys=dict(self.unknown), notes=notes)


def _dex(d: int, meta: dict | None, pxs: list | None, unknown: UnknownKeys, notes: list[str]) -> NodeDex:
    where = f"exchange.locus.cls[{d}]"
    if meta is None:
        raise NodeLayoutError(f"{where}: expected key 'meta'")
    if pxs is None:
        raise NodeLayoutError(f"{where}: expected key 'oracle'")
    tables: dict[int, tuple[MarginTier, ...]] = {}
    for i, entry in enumerate(as_list(meta["marginTableIdToMarginTable"], where + ".meta.marginTableIdToMarginTable")):
        at = f"{where}.meta.marginTableIdToMarginTable[{i}]"
        table_id, table = expect_pair(entry, at)
        tiers = []
        for k, tier in enumerate(as_list(MARGIN_TABLE.check(table, at + "[1]", unknown)["margin_tiers"],
                                         at + "[1].margin_tiers")):
            t_at = f"{at}[1].margin_tiers[{k}]"
            MARGIN_TIER.check(tier, t_at, unknown)
            tiers.append(MarginTier(expect_int(tier["lower_bound"], t_at + ".lower_bound") / USD_SCALE,
                                    expect_int(tier["max_leverage"], t_at + ".max_leverage"),
                                    expect_int(tier.get("maintenance_deduction", 0), t_at + ".maintenance_deduction")
                                    / USD_SCALE))
        if not tiers:
            raise NodeLayoutError(f"{at}[1].margin_tiers: a margin table without tiers")
        tables[expect_int(table_id, at + "[0]")] = tuple(sorted(tiers, key=lambda t: t.lower_bound))
    universe = as_list(meta["universe"], where + ".meta.universe")
    if len(pxs) != len(universe):
        raise NodeLayoutError(f"{where}.oracle.pxs: {len(pxs)} entries for {len(universe)} markets of meta.universe")
    markets = []
    for i, u in enumerate(universe):
        at = f"{where}.meta.universe[{i}]"
        UNIVERSE_ENTRY.check(u, at, unknown)
        name, sz = u["name"], expect_int(u["szDecimals"], at + ".szDecimals")
        if type(name) is not str:
            raise NodeLayoutError(f"{at}.name: expected a string, found {describe(name)}")
        table_id = expect_int(u["marginTableId"], at + ".marginTableId")
        mode = u.get("marginMode", "normal")
        if mode not in MARGIN_MODES:
            raise NodeLayoutError(f"{at}.marginMode: expected one of {list(MARGIN_MODES)}, found {describe(mode)}")
        tiers = tables.get(table_id)
        if tiers is None:
            if not 0 < table_id < IMPLICIT_TABLE_MAX_ID:
                raise NodeLayoutError(f"{at}.marginTableId: table {table_id} is not in "
                                      "meta.marginTableIdToMarginTable")
            tiers = tables[table_id] = (MarginTier(0.0, table_id, 0.0),)  # the implicit single tier [R]
        markets.append(NodeMarket(
            asset=i, coin=name, sz_decimals=sz, margin_table_id=table_id, margin_mode=mode,
            max_leverage=tiers[0].max_leverage, oracle_price=_oracle_px(pxs[i], sz, f"{where}.oracle.pxs[{i}]"),
            only_isolated=mode != "normal" or bool(u.get("onlyIsolated", False)),
            is_delisted=bool(u.get("isDelisted", False))))
    prefixes = {m.coin.split(":", 1)[0] if ":" in m.coin else MAIN_DEX for m in markets}
    if len(prefixes) > 1:
        raise NodeLayoutError(f"{where}.meta.universe mixes dexes {sorted(prefixes)}")
    name = prefixes.pop() if prefixes else MAIN_DEX
    pdi = expect_int(meta.get("pdi", d), where + ".meta.pdi")
    if "collateralToken" not in meta:
        notes.append(f"{where}.meta.collateralToken absent: USDC (token 0) assumed")
    collateral = expect_int(meta.get("collateralToken", 0), where + ".meta.collateralToken")
    return NodeDex(index=d, name=name, pdi=pdi, collateral_token=collateral, markets=tuple(markets),
                   margin_tables=tables)


def _oracle_px(entry: Any, sz_decimals: int, where: str) -> float | None:
    """`[{px: int, ...}, ...]` -> px / 10^(6 - szDecimals); an empty entry has no price [R]."""
    entry = as_list(entry, where)
    if not entry:
        return None
    px = expect_int(ORACLE_PX.check(entry[0], where + "[0]")["px"], where + "[0].px")
    return px / 10.0 ** (6 - sz_decimals) if px > 0 else None


def _resolve(raw: pl.DataFrame, users: pl.DataFrame, dexes: tuple[NodeDex, ...], notes: list[str]) -> pl.DataFrame:
    """Raw position rows -> POSITIONS_SCHEMA: asset ids checked against each dex's universe, coins, sizes
    in coins, default leverage and margin mode filled in."""
    rows = []
    for d in dexes:
        for m in d.markets:
            rows.append((d.index, m.asset, d.pdi, m.coin, m.sz_decimals, m.default_leverage, m.only_isolated))
    markets = pl.DataFrame(rows, orient="row", schema={
        "dex_index": pl.Int32, "asset": pl.Int32, "pdi": pl.Int64, "coin": pl.String, "sz_decimals": pl.Int32,
        "default_lev": pl.Int32, "default_iso": pl.Boolean})
    p = raw.with_columns(asset=(pl.col("asset_raw") % HIP3_ASSET_STRIDE).cast(pl.Int32),
                         id_pdi=pl.when(pl.col("asset_raw") >= HIP3_ASSET_BASE)
                         .then((pl.col("asset_raw") - HIP3_ASSET_BASE) // HIP3_ASSET_STRIDE))
    p = p.join(markets, on=["dex_index", "asset"], how="left")
    bad = p.filter(pl.col("coin").is_null() | (pl.col("id_pdi").is_not_null() & (pl.col("id_pdi") != pl.col("pdi"))))
    if bad.height:
        r = bad.row(0, named=True)
        entry = users["entry"][r["book"]]
        raise NodeLayoutError(f"exchange.locus.cls[{r['dex_index']}].user_states.user_to_state[{entry}]"
                              f"[1].p.p[{r['k']}][0]: asset id {r['asset_raw']} is not a market of this dex's "
                              f"meta.universe (index {r['asset']}, pdi in the id {r['id_pdi']}, the dex's {r['pdi']})")
    default = pl.col("leverage") == 0
    p = p.with_columns(
        default_leverage=default,
        leverage=pl.when(default).then(pl.col("default_lev")).otherwise(pl.col("leverage")),
        isolated=pl.when(default).then(pl.col("default_iso")).otherwise(pl.col("isolated")),
        szi=(pl.col("size_raw") / 10.0 ** pl.col("sz_decimals").cast(pl.Float64)).round(10),
    )
    unknown_iso = p.filter(pl.col("default_leverage") & pl.col("isolated")).height
    if unknown_iso:
        notes.append(f"{unknown_iso} isolated position(s) with the default leverage (no `l`): their isolated "
                     "collateral is not in the state; margin used and liquidation price left null, their "
                     "margin not in account value")
    return p.select(list(POSITIONS_SCHEMA)).cast(dict(POSITIONS_SCHEMA))


def _height(ctx: dict) -> int:
    return expect_int(ctx["height"], "exchange.locus.ctx.height")


def _time(ctx: dict) -> datetime:
    value = ctx["time"]
    if type(value) is int:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        raise NodeLayoutError(f"exchange.locus.ctx.time: expected an ISO 8601 time, found {value!r}") from None


def read_node_state(path: str | Path) -> NodeState:
    """Stream the state file at `path` into a `NodeState`; `NodeStateError` (with the file named) when it
    cannot be read."""
    path = Path(path)
    backend = "yajl2_c"
    while True:
        collector = _Collector()
        try:
            with open_cursor(path, json_backend=backend) as cur:
                walk(cur, collector)
                return collector.result(cur.format, path)
        except JsonNeedsPythonBackend:
            backend = "python"  # yajl's C parser stops at integers beyond 64 bits
        except NodeStateError as exc:
            raise exc.at(path) from exc
        except OSError as exc:
            raise NodeStateError(f"cannot read the file: {exc}", path) from exc
