"""The known layouts of a node's ABCI state, recognised from their key paths (reference notes §2.3).

The layout is undocumented and drifts between node versions, so nothing here guesses: a file whose keys
depart from a known layout stops with a `NodeLayoutError` naming the first key path that departs
("exchange.locus: expected key 'cls', found ['abc', 'ctx']"). User states and positions are checked
strictly (an unknown key may change what the numbers mean); maps the reader only picks a few keys from
(meta, contexts) need those keys and may carry others.

    compressed (2026)   exchange.locus.cls[d]{meta, oracle, user_states.user_to_state}, exchange.locus.ctx
    verbose (2025)      exchange.perp_dexs[d].clearinghouse{meta, user_states.user_to_state}, exchange.context

The names of the keys below the ones the notes give are hltracker's rendering (see
hltracker/sources/simulator/node_state.py and docs/node-source.md), to be confirmed on a real node.

`walk` drives a `Visitor` through a file in the file's own key order: it never assumes that a meta comes
before its user states. `probe_layout` is the same walk stopped at the first user state holding a
position: it recognises the layout and checks what it has read so far (a departure further on, say in
the last clearinghouse, is found by the full read, which checks every user state).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hltracker.sources.hyperliquid_node.cursor import KIND_NAMES, Cursor, JsonNeedsPythonBackend, open_cursor
from hltracker.sources.hyperliquid_node.errors import NodeLayoutError, NodeStateError

COMPRESSED = "compressed"
VERBOSE = "verbose"
KNOWN_LAYOUTS: dict[str, str] = {
    COMPRESSED: "2026: exchange.locus.cls[] (compressed user states), no mark prices",
    VERBOSE: "2025: exchange.perp_dexs[].clearinghouse (verbose user states), marks in meta.asset_ctxs",
}

SPOT_SECTION = "exchange.locus.scl"
STAKING_SECTION = "exchange.c_staking"

# A key path, or how to build it from its parent, only when an error prints it (most never do):
# (parent, ".suffix"), (parent, list index) or (parent, (map key,)).
Where = str | tuple


def path_of(where: Where) -> str:
    if isinstance(where, str):
        return where
    parent, part = where
    if isinstance(part, str):
        return path_of(parent) + part
    if isinstance(part, int):
        return f"{path_of(parent)}[{part}]"
    return f"{path_of(parent)}[{part[0]!r}]"


@dataclass(frozen=True)
class KeySpec:
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    strict: bool = True  # unknown keys are errors
    known: frozenset[str] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "known", self.required | self.optional)

    @classmethod
    def of(cls, required: Iterable[str], optional: Iterable[str] = (), strict: bool = True) -> KeySpec:
        return cls(frozenset(required), frozenset(optional), strict)

    def check(self, obj: Any, where: Where) -> dict:
        """`obj` when it is a map with these keys, else a `NodeLayoutError` naming the path."""
        if type(obj) is dict:
            keys = obj.keys()
            if self.required <= keys and (not self.strict or keys <= self.known):
                return obj
            raise NodeLayoutError(self.problem(list(keys), path_of(where)))
        raise NodeLayoutError(f"{path_of(where)}: expected a map, found {_describe(obj)}")

    def problem(self, keys: list, path: str) -> str:
        found = sorted(map(str, keys))
        missing = sorted(self.required - set(keys))
        if missing:
            return f"{path}: expected key {missing[0]!r}, found {found}"
        unknown = sorted(str(k) for k in keys if k not in self.known)
        return f"{path}: unexpected key {unknown[0]!r} (known: {sorted(self.known)})"


def _describe(obj: Any) -> str:
    if isinstance(obj, list):
        return "a list"
    return f"{type(obj).__name__} {obj!r}"[:80]


def expect_pair(obj: Any, where: Where) -> list:
    """A `[key, value]` entry of a list-of-pairs map."""
    if type(obj) is list and len(obj) == 2:
        return obj
    raise NodeLayoutError(f"{path_of(where)}: expected a [key, value] pair, found {_describe(obj)}")


# ----- key specs -----------------------------------------------------------------------------------

ROOT = KeySpec.of(["exchange"], strict=False)
CLS_KEY = KeySpec.of(["cls"], strict=False)  # exchange.locus (compressed)
CONTEXT_KEY = KeySpec.of(["ctx"], strict=False)  # exchange.locus (compressed)
VERBOSE_CONTEXT_KEY = KeySpec.of(["context"], strict=False)  # exchange (verbose)
CONTEXT = KeySpec.of(["height", "time"], strict=False)
CLEARINGHOUSE = {COMPRESSED: KeySpec.of(["meta", "user_states", "oracle"], strict=False),
                 VERBOSE: KeySpec.of(["meta", "user_states"], strict=False)}
META = {COMPRESSED: KeySpec.of(["universe", "margin_tables"], strict=False),
        VERBOSE: KeySpec.of(["universe", "margin_tables", "asset_ctxs"], strict=False)}
UNIVERSE_ENTRY = KeySpec.of(["name", "sz_decimals", "max_leverage", "margin_table_id"], strict=False)
MARGIN_TABLE = KeySpec.of(["margin_tiers"], strict=False)
MARGIN_TIER = KeySpec.of(["lower_bound", "max_leverage"], strict=False)
ASSET_CTX = KeySpec.of(["mark_px", "oracle_px"], strict=False)
ORACLE = KeySpec.of(["pxs"], strict=False)
USER_STATES = KeySpec.of(["user_to_state"], strict=False)

# Compressed user state: "u", "p.p", "l", "M", "f.a", "s" are in the notes; "e", "f.o", "f.c", "I.l",
# "I.r" are ours. "C" and "D" appear on HIP-3 dexes per the notes, meaning unknown: allowed, not read.
C_USER = KeySpec.of(["u"], ["p", "C", "D"])
C_POSITIONS = KeySpec.of(["p"])
C_POSITION = KeySpec.of(["l", "M", "f", "s", "e"])
C_ISOLATED = KeySpec.of(["l", "r"])
C_FUNDING = KeySpec.of(["o"], ["a", "c"])

V_USER = KeySpec.of(["raw_usd"], ["asset_positions"])
V_ASSET_POSITION = KeySpec.of(["position"], ["type"])
V_POSITION = KeySpec.of(["coin", "szi", "entry_px", "leverage", "cum_funding"])
V_LEVERAGE = KeySpec.of(["type", "value"], ["raw_usd"])
V_FUNDING = KeySpec.of(["since_open"], ["all_time", "since_change"])

SPOT = KeySpec.of(["tokens", "user_states"], strict=False)
SPOT_TOKEN = KeySpec.of(["name", "wei_decimals"], strict=False)
SPOT_USER = KeySpec.of(["b"])
STAKING = KeySpec.of(["delegations"], strict=False)


_LEVERAGE_KINDS = frozenset({"C", "I"})


def check_compressed_user(state: Any, where: Where) -> dict:
    C_USER.check(state, where)
    held = state.get("p")
    if held is None:
        return state
    entries = C_POSITIONS.check(held, (where, ".p"))["p"]
    if type(entries) is not list:
        raise NodeLayoutError(f"{path_of(where)}.p.p: expected a list, found {_describe(entries)}")
    for k, entry in enumerate(entries):
        at = (where, f".p.p[{k}]")
        pos = C_POSITION.check(expect_pair(entry, at)[1], (at, "[1]"))
        leverage = pos["l"]
        if not (type(leverage) is dict and len(leverage) == 1 and leverage.keys() <= _LEVERAGE_KINDS):
            raise NodeLayoutError(f"{path_of(at)}[1].l: expected {{'C': leverage}} or {{'I': {{...}}}}, "
                                  f"found {_describe(leverage)}")
        if "I" in leverage:
            C_ISOLATED.check(leverage["I"], (at, "[1].l.I"))
        C_FUNDING.check(pos["f"], (at, "[1].f"))
    return state


def check_verbose_user(state: Any, where: Where) -> dict:
    V_USER.check(state, where)
    entries = state.get("asset_positions") or []
    if type(entries) is not list:
        raise NodeLayoutError(f"{path_of(where)}.asset_positions: expected a list, found {_describe(entries)}")
    for k, entry in enumerate(entries):
        at = (where, f".asset_positions[{k}]")
        pos = V_POSITION.check(V_ASSET_POSITION.check(entry, at)["position"], (at, ".position"))
        leverage = V_LEVERAGE.check(pos["leverage"], (at, ".position.leverage"))
        if leverage["type"] not in ("cross", "isolated") or (leverage["type"] == "isolated") != ("raw_usd" in leverage):
            raise NodeLayoutError(f"{path_of(at)}.position.leverage: expected type 'cross', or 'isolated' with "
                                  f"raw_usd, found {leverage!r}")
        V_FUNDING.check(pos["cum_funding"], (at, ".position.cum_funding"))
    return state


def check_meta(meta: Any, layout: str, where: str) -> dict:
    META[layout].check(meta, where)
    for i, entry in enumerate(_list(meta["universe"], where + ".universe")):
        UNIVERSE_ENTRY.check(entry, f"{where}.universe[{i}]")
    for i, entry in enumerate(_list(meta["margin_tables"], where + ".margin_tables")):
        table = MARGIN_TABLE.check(expect_pair(entry, f"{where}.margin_tables[{i}]")[1],
                                   f"{where}.margin_tables[{i}][1]")
        for k, tier in enumerate(_list(table["margin_tiers"], f"{where}.margin_tables[{i}][1].margin_tiers")):
            MARGIN_TIER.check(tier, f"{where}.margin_tables[{i}][1].margin_tiers[{k}]")
    if layout == VERBOSE:
        ctxs = _list(meta["asset_ctxs"], where + ".asset_ctxs")
        for i, ctx in enumerate(ctxs):
            ASSET_CTX.check(ctx, f"{where}.asset_ctxs[{i}]")
        if len(ctxs) != len(meta["universe"]):
            raise NodeLayoutError(f"{where}.asset_ctxs: {len(ctxs)} entries for {len(meta['universe'])} markets")
    return meta


def _list(obj: Any, where: str) -> list:
    if not isinstance(obj, list):
        raise NodeLayoutError(f"{where}: expected a list, found {_describe(obj)}")
    return obj


# ----- the walk ------------------------------------------------------------------------------------


class Visitor(Protocol):
    """What the walk hands over, already checked against the layout. `dex` is the clearinghouse's index."""

    def context(self, layout: str, ctx: dict) -> None: ...

    def meta(self, layout: str, dex: int, meta: dict) -> None: ...

    def oracle(self, dex: int, oracle: dict) -> None: ...

    def user(self, layout: str, dex: int, address: Any, state: dict, where: Where) -> None: ...

    def section(self, where: str) -> None:
        """An optional section (`SPOT_SECTION`, `STAKING_SECTION`) is present."""
        ...

    def spot_tokens(self, tokens: list) -> None: ...

    def spot_user(self, address: Any, state: dict, where: Where) -> None: ...

    def stake(self, address: Any, delegations: Any, where: Where) -> None: ...

    def optional_section_failed(self, section: str, error: NodeLayoutError) -> None:
        """A spot or staking section departs from the known layout: its columns are left null."""
        ...


@dataclass
class _Seen:
    exchange_keys: list = field(default_factory=list)
    locus_keys: list | None = None
    has_cls: bool = False
    has_locus_ctx: bool = False
    has_context: bool = False
    clearinghouses: int = 0  # perp_dexs items with a clearinghouse
    first_bare_dex: tuple[int, list] | None = None  # index and keys of the first perp_dexs item without one

    def layout(self) -> str:
        if self.has_cls and self.clearinghouses:
            raise NodeLayoutError("exchange: both exchange.locus.cls (2026 layout) and "
                                  "exchange.perp_dexs[].clearinghouse (2025 layout) are present")
        if self.has_cls:
            if not self.has_locus_ctx:
                raise NodeLayoutError(CONTEXT_KEY.problem(self.locus_keys or [], "exchange.locus"))
            return COMPRESSED
        if self.clearinghouses:
            if self.first_bare_dex is not None:
                raise NodeLayoutError(self._bare_dex_problem())
            if not self.has_context:
                raise NodeLayoutError(VERBOSE_CONTEXT_KEY.problem(self.exchange_keys, "exchange"))
            return VERBOSE
        if self.locus_keys is not None:
            raise NodeLayoutError(CLS_KEY.problem(self.locus_keys, "exchange.locus"))
        if self.first_bare_dex is not None:
            raise NodeLayoutError(self._bare_dex_problem())
        raise NodeLayoutError("exchange: expected key 'locus' (2026 layout) or 'perp_dexs' (2025 layout), "
                              f"found {sorted(map(str, self.exchange_keys))}")

    def _bare_dex_problem(self) -> str:
        assert self.first_bare_dex is not None
        i, keys = self.first_bare_dex
        return f"exchange.perp_dexs[{i}]: expected key 'clearinghouse', found {sorted(map(str, keys))}"


def walk(cur: Cursor, v: Visitor) -> str:
    """Drive `v` through the whole document; the layout's name, or `NodeLayoutError`."""
    keys = []
    layout = None
    for key in cur.map_keys("(root)"):
        keys.append(key)
        if key == "exchange":
            layout = _exchange(cur, v)
        else:
            cur.skip()
    if layout is None:
        raise NodeLayoutError(ROOT.problem(keys, "(root)"))
    return layout


def _exchange(cur: Cursor, v: Visitor) -> str:
    seen = _Seen()
    for key in cur.map_keys("exchange"):
        seen.exchange_keys.append(key)
        if key == "locus":
            _locus(cur, v, seen)
        elif key == "perp_dexs":
            _perp_dexs(cur, v, seen)
        elif key == "context":
            seen.has_context = True
            v.context(VERBOSE, CONTEXT.check(cur.read(), "exchange.context"))
        elif key == "c_staking":
            _optional(cur, v, STAKING_SECTION, _staking)
        else:
            cur.skip()
    return seen.layout()


def _locus(cur: Cursor, v: Visitor, seen: _Seen) -> None:
    seen.locus_keys = []
    for key in cur.map_keys("exchange.locus"):
        seen.locus_keys.append(key)
        if key == "cls":
            seen.has_cls = True
            for d in cur.array_items("exchange.locus.cls"):
                _clearinghouse(cur, v, COMPRESSED, d, f"exchange.locus.cls[{d}]")
        elif key == "ctx":
            seen.has_locus_ctx = True
            v.context(COMPRESSED, CONTEXT.check(cur.read(), "exchange.locus.ctx"))
        elif key == "scl":
            _optional(cur, v, SPOT_SECTION, _spot)
        else:
            cur.skip()


def _perp_dexs(cur: Cursor, v: Visitor, seen: _Seen) -> None:
    for d in cur.array_items("exchange.perp_dexs"):
        keys = []
        for key in cur.map_keys(f"exchange.perp_dexs[{d}]"):
            keys.append(key)
            if key == "clearinghouse":
                _clearinghouse(cur, v, VERBOSE, d, f"exchange.perp_dexs[{d}].clearinghouse")
            else:
                cur.skip()
        if "clearinghouse" in keys:
            seen.clearinghouses += 1
        elif seen.first_bare_dex is None:
            seen.first_bare_dex = (d, keys)


def _clearinghouse(cur: Cursor, v: Visitor, layout: str, d: int, where: str) -> None:
    keys = []
    for key in cur.map_keys(where):
        keys.append(key)
        if key == "meta":
            v.meta(layout, d, check_meta(cur.read(), layout, where + ".meta"))
        elif key == "user_states":
            _user_states(cur, v, layout, d, where + ".user_states")
        elif key == "oracle" and layout == COMPRESSED:
            v.oracle(d, ORACLE.check(cur.read(), where + ".oracle"))
        else:
            cur.skip()
    CLEARINGHOUSE[layout].check(dict.fromkeys(keys), where)


def _entries(cur: Cursor, where: str) -> Iterable[tuple[Any, Any, Where]]:
    """The (key, value, path) entries of a map stored as a map or as a list of [key, value] pairs."""
    read = cur.read
    if cur.kind() == "map":
        for key in cur.map_keys(where):
            yield key, read(), (where, (key,))
        return
    for i in cur.array_items(where):
        entry = read()
        if type(entry) is not list or len(entry) != 2:
            expect_pair(entry, (where, i))  # raises
        yield entry[0], entry[1], ((where, i), "[1]")


def _user_states(cur: Cursor, v: Visitor, layout: str, d: int, where: str) -> None:
    keys = []
    check = check_compressed_user if layout == COMPRESSED else check_verbose_user
    for key in cur.map_keys(where):
        keys.append(key)
        if key != "user_to_state":
            cur.skip()
            continue
        for address, state, at in _entries(cur, where + ".user_to_state"):
            v.user(layout, d, address, check(state, at), at)
    USER_STATES.check(dict.fromkeys(keys), where)


Fail = Callable[[NodeLayoutError], None]


def _optional(cur: Cursor, v: Visitor, where: str, read: Callable[[Cursor, Visitor, str, Fail], None]) -> None:
    """Read an optional section (spot, staking). One that departs from the known layout is reported to the
    visitor, and the walk goes on: the perp figures do not depend on it. Such a section is read with
    every check made either before a value is consumed or after it is read whole, so that an error never
    leaves the cursor inside a value."""
    v.section(where)
    errors: list[NodeLayoutError] = []
    read(cur, v, where, errors.append)
    if errors:
        v.optional_section_failed(where, errors[0])


def _keys_or_skip(cur: Cursor, where: str, fail: Fail) -> Iterable[Any]:
    kind = cur.kind()
    if kind != "map":
        fail(NodeLayoutError(f"{where}: expected a map, found a {KIND_NAMES[kind]}"))
        cur.skip()
        return
    yield from cur.map_keys(where)


def _entries_or_skip(cur: Cursor, where: str, fail: Fail) -> Iterable[tuple[Any, Any, Where]]:
    if cur.kind() == "scalar":
        fail(NodeLayoutError(f"{where}: expected a map or a list of [key, value] pairs, found a single value"))
        cur.skip()
        return
    if cur.kind() == "map":
        yield from _entries(cur, where)
        return
    for i in cur.array_items(where):
        entry = cur.read()
        if type(entry) is list and len(entry) == 2:
            yield entry[0], entry[1], ((where, i), "[1]")
        else:
            fail(NodeLayoutError(f"{where}[{i}]: expected a [key, value] pair, found {_describe(entry)}"))


def _spot(cur: Cursor, v: Visitor, where: str, fail: Fail) -> None:
    keys = []
    for key in _keys_or_skip(cur, where, fail):
        keys.append(key)
        if key == "tokens":
            tokens = cur.read()
            try:
                for i, entry in enumerate(_list(tokens, where + ".tokens")):
                    SPOT_TOKEN.check(expect_pair(entry, f"{where}.tokens[{i}]")[1], f"{where}.tokens[{i}][1]")
                v.spot_tokens(tokens)
            except NodeLayoutError as exc:
                fail(exc)
        elif key == "user_states":
            inner = []
            for k in _keys_or_skip(cur, where + ".user_states", fail):
                inner.append(k)
                if k != "user_to_state":
                    cur.skip()
                    continue
                for address, state, at in _entries_or_skip(cur, where + ".user_states.user_to_state", fail):
                    try:
                        v.spot_user(address, SPOT_USER.check(state, at), at)
                    except NodeLayoutError as exc:
                        fail(exc)
            if "user_to_state" not in inner:
                fail(NodeLayoutError(USER_STATES.problem(inner, where + ".user_states")))
        else:
            cur.skip()
    if keys and not SPOT.required <= set(keys):
        fail(NodeLayoutError(SPOT.problem(keys, where)))


def _staking(cur: Cursor, v: Visitor, where: str, fail: Fail) -> None:
    keys = []
    for key in _keys_or_skip(cur, where, fail):
        keys.append(key)
        if key != "delegations":
            cur.skip()
            continue
        for address, delegations, at in _entries_or_skip(cur, where + ".delegations", fail):
            try:
                v.stake(address, delegations, at)
            except NodeLayoutError as exc:
                fail(exc)
    if "delegations" not in keys:
        fail(NodeLayoutError(STAKING.problem(keys, where)))


# ----- the probe -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    layout: str  # "compressed" | "verbose"
    format: str  # "rmp" | "json"


class _Recognised(Exception):
    def __init__(self, layout: str):
        self.layout = layout


class _ProbeVisitor:
    def context(self, layout, ctx):
        pass

    def meta(self, layout, dex, meta):
        pass

    def oracle(self, dex, oracle):
        pass

    def user(self, layout, dex, address, state, where):
        # The walk checked the state's keys; stop at the first one holding a position, so that the
        # position keys are checked too.
        held = (state.get("p") or {}).get("p") if layout == COMPRESSED else state.get("asset_positions")
        if held:
            raise _Recognised(layout)

    def section(self, where):
        pass

    def spot_tokens(self, tokens):
        pass

    def spot_user(self, address, state, where):
        pass

    def stake(self, address, delegations, where):
        pass

    def optional_section_failed(self, section, error):
        pass


def probe_layout(path: str | Path) -> Probe:
    """The layout of the state file at `path`, read only as far as the first user state that holds a
    position (the whole file when none does); raises
    `NodeLayoutError` (naming the key path) when it is none of the known ones."""
    path = Path(path)
    backend = "yajl2_c"
    while True:
        try:
            with open_cursor(path, json_backend=backend) as cur:
                try:
                    return Probe(layout=walk(cur, _ProbeVisitor()), format=cur.format)
                except _Recognised as found:
                    return Probe(layout=found.layout, format=cur.format)
        except JsonNeedsPythonBackend:
            backend = "python"  # yajl's C parser stops at integers beyond 64 bits
        except NodeStateError as exc:
            raise exc.at(path) from exc
