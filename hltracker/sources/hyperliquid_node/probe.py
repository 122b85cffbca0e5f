"""The evidenced layout of a node's periodic state file, its checks, and the single-pass walk over it.

Only the 2026 layout has real-file evidence (../shared/reference/node-state-evidence.md, summarised in
docs/node-source.md), so it is the only one recognised:

    exchange.locus.cls[d]{meta, user_states.user_to_state, oracle.pxs}, exchange.locus.ctx,
    exchange.locus.scl.user_states (spot), exchange.locus.ust (account modes)

Strict where it matters, lenient where it is safe: a key the reader needs that is missing stops with a
`NodeLayoutError` naming its key path ("exchange.locus.cls[0].meta.universe[3]: expected key
'szDecimals', found [...]"); a key no evidence names, in a map whose meaning we read (user states,
positions, metas), is counted per key path (`UnknownKeys`) and reported, never fatal. Maps the reader
only picks a few keys from (the clearinghouse's 18 fields, the locus) are not counted.

`walk` drives a `Visitor` through a file in the file's own key order: it never assumes that a meta comes
before its user states. `probe_layout` is the same walk stopped at the first user state holding a
position.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hltracker.sources.hyperliquid_node.cursor import KIND_NAMES, Cursor, JsonNeedsPythonBackend, open_cursor
from hltracker.sources.hyperliquid_node.errors import NodeLayoutError, NodeStateError

LAYOUT = "2026"
KNOWN_LAYOUTS: dict[str, str] = {
    LAYOUT: "exchange.locus.cls[] with camelCase metas, integer oracle prices and compressed user states "
            "(real-file evidence); no mark prices",
}

SPOT_SECTION = "exchange.locus.scl"
MODES_SECTION = "exchange.locus.ust"
STAKING_SECTION = "exchange.c_staking"
CLS = "exchange.locus.cls[]"
USER = CLS + ".user_states.user_to_state[][1]"
POSITION = USER + ".p.p[][1]"

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


class UnknownKeys(Counter):
    """Keys no evidence names, counted per key path template ("exchange.locus.cls[].….S2")."""

    def add(self, template: str, keys: Iterable[Any]) -> None:
        for key in keys:
            self[f"{template}.{key}"] += 1

    def summary(self, limit: int = 20) -> str:
        parts = [f"{path} x{n}" for path, n in self.most_common(limit)]
        more = len(self) - limit
        return "; ".join(parts) + (f"; and {more} more path(s)" if more > 0 else "")


@dataclass(frozen=True)
class KeySpec:
    """A map's keys: the ones that must be there, and the ones evidence names but that may be absent.
    `template` is the key path (lists as `[]`) under which unknown keys are counted; None: not counted."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    template: str | None = None
    known: frozenset[str] = field(init=False)
    _valid: set = field(init=False, repr=False, compare=False)  # key tuples seen valid, without unknown keys

    def __post_init__(self):
        object.__setattr__(self, "known", self.required | self.optional)
        object.__setattr__(self, "_valid", set())

    @classmethod
    def of(cls, required: Iterable[str], optional: Iterable[str] = (), template: str | None = None) -> KeySpec:
        return cls(frozenset(required), frozenset(optional), template)

    def check(self, obj: Any, where: Where, unknown: UnknownKeys | None = None) -> dict:
        """`obj` when it is a map holding the required keys (else a `NodeLayoutError` naming the path);
        keys outside `known` are counted in `unknown`."""
        if type(obj) is not dict:
            raise NodeLayoutError(f"{path_of(where)}: expected a map, found {describe(obj)}")
        shape = tuple(obj)  # a few shapes repeat over millions of user states: checked once each
        if shape in self._valid:
            return obj
        keys = obj.keys()
        if not self.required <= keys:
            raise NodeLayoutError(self.problem(list(keys), path_of(where)))
        if not keys <= self.known:
            if unknown is not None and self.template is not None:
                unknown.add(self.template, (k for k in keys if k not in self.known))
        elif len(self._valid) < 4096:
            self._valid.add(shape)
        return obj

    def problem(self, keys: list, path: str) -> str:
        missing = sorted(self.required - set(keys))
        return f"{path}: expected key {missing[0]!r}, found {sorted(map(str, keys))}"


def describe(obj: Any) -> str:
    if isinstance(obj, list):
        return "a list"
    if isinstance(obj, dict):
        return "a map"
    return f"{type(obj).__name__} {obj!r}"[:80]


def expect_pair(obj: Any, where: Where) -> list:
    """A `[key, value]` entry of a list-of-pairs map."""
    if type(obj) is list and len(obj) == 2:
        return obj
    raise NodeLayoutError(f"{path_of(where)}: expected a [key, value] pair, found {describe(obj)}")


def expect_int(value: Any, where: Where) -> int:
    if type(value) is int:
        return value
    raise NodeLayoutError(f"{path_of(where)}: expected an integer, found {describe(value)}")


def as_list(obj: Any, where: Where) -> list:
    if type(obj) is not list:
        raise NodeLayoutError(f"{path_of(where)}: expected a list, found {describe(obj)}")
    return obj


# ----- key specs (evidence: R, K, V of docs/node-source.md) ------------------------------------------

ROOT = KeySpec.of(["exchange"])
EXCHANGE = KeySpec.of(["locus"])
LOCUS = KeySpec.of(["cls", "ctx"])
CONTEXT = KeySpec.of(["height", "time"])
CLEARINGHOUSE = KeySpec.of(["meta", "user_states", "oracle"])
META = KeySpec.of(["universe", "marginTableIdToMarginTable"],
                  ["collateralToken", "pdi", "collateralIsAlignedQuoteToken", "collateralTokenName"],
                  CLS + ".meta")
UNIVERSE_ENTRY = KeySpec.of(["name", "szDecimals", "marginTableId"],
                            ["marginMode", "onlyIsolated", "isDelisted", "maxLeverage"], CLS + ".meta.universe[]")
MARGIN_TABLE = KeySpec.of(["margin_tiers"], ["description"], CLS + ".meta.marginTableIdToMarginTable[][1]")
MARGIN_TIER = KeySpec.of(["lower_bound", "max_leverage"], ["maintenance_deduction"],
                         CLS + ".meta.marginTableIdToMarginTable[][1].margin_tiers[]")
ORACLE = KeySpec.of(["pxs"])
ORACLE_PX = KeySpec.of(["px"])
USER_STATES = KeySpec.of(["user_to_state"])

USER_STATE = KeySpec.of(["u"], ["p", "S", "D"], USER)
HELD = KeySpec.of(["p"], (), USER + ".p")
POSITION_SPEC = KeySpec.of(["s", "e", "M"], ["l", "f"], POSITION)
ISOLATED = KeySpec.of(["l", "u"], (), POSITION + ".l.I")
FUNDING = KeySpec.of([], ["a", "o", "c"], POSITION + ".f")

SPOT_USER = KeySpec.of(["b"], (), SPOT_SECTION + ".user_states[][1]")
SPOT_BALANCE = KeySpec.of(["t"], (), SPOT_SECTION + ".user_states[][1].b[][1]")
STAKING = KeySpec.of(["delegations"])



# ----- the walk ------------------------------------------------------------------------------------


class Visitor(Protocol):
    """What the walk hands over. `dex` is the clearinghouse's index; `entry` a user state's index in
    user_to_state. Unknown keys go to `unknown`, required ones are checked by the visitor's reader."""

    unknown: UnknownKeys

    def context(self, ctx: dict) -> None: ...

    def meta(self, dex: int, meta: dict) -> None: ...

    def oracle(self, dex: int, pxs: list) -> None: ...

    def user(self, dex: int, entry: int, address: Any, state: Any, where: Where) -> None: ...

    def section(self, where: str) -> None:
        """An optional section (`SPOT_SECTION`, `MODES_SECTION`, `STAKING_SECTION`) is present."""

    def spot_user(self, address: Any, state: dict, where: Where) -> None: ...

    def account_mode(self, address: Any, mode: Any, where: Where) -> None: ...

    def stake(self, address: Any, delegations: Any, where: Where) -> None: ...

    def optional_section_failed(self, section: str, error: NodeLayoutError) -> None:
        """An optional section departs from the evidenced layout: it is left out, and the walk goes on."""


def walk(cur: Cursor, v: Visitor) -> None:
    """Drive `v` through the whole document, or raise `NodeLayoutError`."""
    keys = []
    for key in cur.map_keys("(root)"):
        keys.append(key)
        if key == "exchange":
            _exchange(cur, v)
        else:
            cur.skip()
    ROOT.check(dict.fromkeys(keys), "(root)")


def _exchange(cur: Cursor, v: Visitor) -> None:
    keys = []
    for key in cur.map_keys("exchange"):
        keys.append(key)
        if key == "locus":
            _locus(cur, v)
        elif key == "c_staking":
            _optional(cur, v, STAKING_SECTION, _staking)
        else:
            cur.skip()
    EXCHANGE.check(dict.fromkeys(keys), "exchange")


def _locus(cur: Cursor, v: Visitor) -> None:
    keys = []
    for key in cur.map_keys("exchange.locus"):
        keys.append(key)
        if key == "cls":
            for d in cur.array_items("exchange.locus.cls"):
                _clearinghouse(cur, v, d, f"exchange.locus.cls[{d}]")
        elif key == "ctx":
            v.context(CONTEXT.check(cur.read(), "exchange.locus.ctx"))
        elif key == "scl":
            _optional(cur, v, SPOT_SECTION, _spot)
        elif key == "ust":
            _optional(cur, v, MODES_SECTION, _modes)
        else:
            cur.skip()
    LOCUS.check(dict.fromkeys(keys), "exchange.locus")


def _clearinghouse(cur: Cursor, v: Visitor, d: int, where: str) -> None:
    keys = []
    for key in cur.map_keys(where):
        keys.append(key)
        if key == "meta":
            v.meta(d, META.check(cur.read(), where + ".meta", v.unknown))
        elif key == "user_states":
            _user_states(cur, v, d, where + ".user_states")
        elif key == "oracle":
            _oracle(cur, v, d, where + ".oracle")
        else:
            cur.skip()
    CLEARINGHOUSE.check(dict.fromkeys(keys), where)


def _oracle(cur: Cursor, v: Visitor, d: int, where: str) -> None:
    keys = []
    for key in cur.map_keys(where):
        keys.append(key)
        if key == "pxs":
            v.oracle(d, as_list(cur.read(), where + ".pxs"))
        else:
            cur.skip()  # external_perp_pxs, err_dur_guard, lpxk [V]
    ORACLE.check(dict.fromkeys(keys), where)


def _entries(cur: Cursor, where: str) -> Iterable[tuple[int, Any, Any, Where]]:
    """The (index, key, value, path) entries of a map stored as a list of [key, value] pairs (or a map)."""
    read = cur.read
    if cur.kind() == "map":
        for i, key in enumerate(cur.map_keys(where)):
            yield i, key, read(), (where, (key,))
        return
    for i in cur.array_items(where):
        entry = read()
        if type(entry) is not list or len(entry) != 2:
            expect_pair(entry, (where, i))  # raises
        yield i, entry[0], entry[1], ((where, i), "[1]")


def _user_states(cur: Cursor, v: Visitor, d: int, where: str) -> None:
    keys = []
    for key in cur.map_keys(where):
        keys.append(key)
        if key != "user_to_state":
            cur.skip()  # users_with_positions, ... [R]
            continue
        for i, address, state, at in _entries(cur, where + ".user_to_state"):
            v.user(d, i, address, state, at)
    USER_STATES.check(dict.fromkeys(keys), where)


Fail = Callable[[NodeLayoutError], None]


def _optional(cur: Cursor, v: Visitor, where: str, read: Callable[[Cursor, Visitor, str, Fail], None]) -> None:
    """Read an optional section (spot, account modes, staking). One that departs from the evidenced
    layout is reported to the visitor and the walk goes on: the perp figures do not depend on it. Every
    check is made before a value is consumed or after it is read whole, so an error never leaves the
    cursor inside a value."""
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


def _pairs_or_skip(cur: Cursor, where: str, fail: Fail) -> Iterable[tuple[Any, Any, Where]]:
    """Entries of a list of [key, value] pairs (or a map); a malformed entry is reported to `fail`."""
    if cur.kind() == "scalar":
        fail(NodeLayoutError(f"{where}: expected a map or a list of [key, value] pairs, found a single value"))
        cur.skip()
        return
    if cur.kind() == "map":
        for key in cur.map_keys(where):
            yield key, cur.read(), (where, (key,))
        return
    for i in cur.array_items(where):
        entry = cur.read()
        if type(entry) is list and len(entry) == 2:
            yield entry[0], entry[1], ((where, i), "[1]")
        else:
            fail(NodeLayoutError(f"{where}[{i}]: expected a [key, value] pair, found {describe(entry)}"))


def _spot(cur: Cursor, v: Visitor, where: str, fail: Fail) -> None:
    keys = []
    for key in _keys_or_skip(cur, where, fail):
        keys.append(key)
        if key != "user_states":
            cur.skip()
            continue
        for address, state, at in _pairs_or_skip(cur, where + ".user_states", fail):
            try:
                v.spot_user(address, SPOT_USER.check(state, at, v.unknown), at)
            except NodeLayoutError as exc:
                fail(exc)
    if keys and "user_states" not in keys:
        fail(NodeLayoutError(f"{where}: expected key 'user_states', found {sorted(map(str, keys))}"))


def _modes(cur: Cursor, v: Visitor, where: str, fail: Fail) -> None:
    """`ust[[addr, {..., "a": mode}]]` (1.8M entries on mainnet [V]): only `a` is read. Each entry is
    decoded whole, in C: cheaper than passing over its other keys one by one in Python."""
    for address, state, at in _pairs_or_skip(cur, where, fail):
        if type(state) is not dict:
            fail(NodeLayoutError(f"{path_of(at)}: expected a map, found {describe(state)}"))
        elif "a" in state:
            v.account_mode(address, state["a"], at)


def _staking(cur: Cursor, v: Visitor, where: str, fail: Fail) -> None:
    keys = []
    for key in _keys_or_skip(cur, where, fail):
        keys.append(key)
        if key != "delegations":
            cur.skip()
            continue
        for address, delegations, at in _pairs_or_skip(cur, where + ".delegations", fail):
            try:
                v.stake(address, delegations, at)
            except NodeLayoutError as exc:
                fail(exc)
    if "delegations" not in keys:
        fail(NodeLayoutError(STAKING.problem(keys, where)))


# ----- the probe -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    layout: str  # "2026"
    format: str  # "rmp" | "json"


class _Recognised(Exception):
    pass


class _ProbeVisitor:
    """Checks what it is handed with the reader's own checks, and stops at the first user state holding
    a position (once its positions are checked)."""

    def __init__(self):
        from hltracker.sources.hyperliquid_node.reader import check_user_state

        self.unknown = UnknownKeys()
        self._check = check_user_state

    def context(self, ctx):
        pass

    def meta(self, dex, meta):
        pass

    def oracle(self, dex, pxs):
        pass

    def user(self, dex, entry, address, state, where):
        if self._check(state, where, self.unknown):
            raise _Recognised

    def section(self, where):
        pass

    def spot_user(self, address, state, where):
        pass

    def account_mode(self, address, mode, where):
        pass

    def stake(self, address, delegations, where):
        pass

    def optional_section_failed(self, section, error):
        pass


def probe_layout(path: str | Path) -> Probe:
    """The layout of the state file at `path`, read only as far as the first user state holding a position
    (the whole file when none does); `NodeLayoutError` (naming the key path) when it departs from it."""
    path = Path(path)
    backend = "yajl2_c"
    while True:
        try:
            with open_cursor(path, json_backend=backend) as cur:
                with suppress(_Recognised):
                    walk(cur, _ProbeVisitor())
                return Probe(layout=LAYOUT, format=cur.format)
        except JsonNeedsPythonBackend:
            backend = "python"  # yajl's C parser stops at integers beyond 64 bits
        except NodeStateError as exc:
            raise exc.at(path) from exc
