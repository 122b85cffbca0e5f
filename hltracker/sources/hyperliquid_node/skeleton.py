"""A state file's key skeleton (paths, types, counts; no values) and the evidenced layout's rows it
matches or breaks: what `hltracker node probe FILE` prints, so that an operator can report a drift in
one paste.

The walk is generic and samples: it descends into the first `sample` items of each list and the first
`sample` keys of each map, and passes over the rest in the cursor (in C for MessagePack), counting them.
Key paths write list items as `[]` (the two items of a `[key, value]` pair as `[0]` and `[1]`) and the
keys of address- or number-keyed maps as `{}`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hltracker.sources.hyperliquid_node.cursor import Cursor, JsonNeedsPythonBackend, open_cursor
from hltracker.sources.hyperliquid_node.errors import NodeStateError
from hltracker.sources.hyperliquid_node.probe import CLS, POSITION, USER

DEFAULT_SAMPLE = 200
_ID_KEY = re.compile(r"^(0x[0-9a-fA-F]{40}|\d+)$")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float", str: "str", bytes: "bytes"}.get(type(value), type(value).__name__)


@dataclass
class Skeleton:
    """Per key path: how often it was seen, with which types; lists: items in all (sampled or not)."""

    format: str = ""
    seen: Counter = field(default_factory=Counter)
    types: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    items: Counter = field(default_factory=Counter)  # list / map path -> entries, sampled or not

    def lines(self) -> list[str]:
        out = []
        for path in sorted(self.seen):
            types = ",".join(t if n == self.seen[path] else f"{t}:{n}" for t, n in sorted(self.types[path].items()))
            extra = f"  ({self.items[path]:,} entries)" if path in self.items else ""
            out.append(f"{path}  {types}  x{self.seen[path]:,}{extra}")
        return out


class _Walker:
    def __init__(self, cur: Cursor, sample: int):
        self.cur, self.sample, self.sk = cur, sample, Skeleton(format=cur.format)

    def value(self, path: str) -> None:
        cur, sk = self.cur, self.sk
        kind = cur.kind()
        sk.seen[path] += 1
        if kind == "scalar":
            sk.types[path][_type_name(cur.read())] += 1
        elif kind == "array":
            sk.types[path]["list"] += 1
            pair = False
            for i in cur.array_items(path):
                sk.items[path] += 1
                if i == 0:  # a list of [key, value] pairs: its items are [0] and [1]
                    pair = cur.kind() == "scalar"
                if i < self.sample:
                    self.value(path + (f"[{i}]" if pair and i < 2 else "[]"))
                else:
                    cur.skip()
        else:
            sk.types[path]["map"] += 1
            for i, key in enumerate(cur.map_keys(path)):
                sk.items[path] += 1
                name = "{}" if not isinstance(key, str) or _ID_KEY.match(key) else key
                if i < self.sample:
                    self.value(f"{path}.{name}" if path else name)
                else:
                    cur.skip()


def skeleton(path: str | Path, sample: int = DEFAULT_SAMPLE) -> Skeleton:
    """The sampled key skeleton of the state file at `path` (`NodeStateError` when it cannot be decoded)."""
    path = Path(path)
    backend = "yajl2_c"
    while True:
        try:
            with open_cursor(path, json_backend=backend) as cur:
                walker = _Walker(cur, sample)
                walker.value("")
                return walker.sk
        except JsonNeedsPythonBackend:
            backend = "python"
        except NodeStateError as exc:
            raise exc.at(path) from exc


# ----- the evidenced layout, row by row -------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    path: str  # the key path in skeleton form (a leading "" is the root)
    expect: frozenset[str]  # the types evidence shows
    required: bool = True  # False: may be absent (e.g. `l`, `S`, `ust`)
    evidence: str = ""

    def check(self, sk: Skeleton) -> tuple[str, str]:
        """("match" | "breaks" | "not seen", detail)."""
        n = sk.seen.get(self.path, 0)
        if not n:
            return ("breaks" if self.required else "not seen", "absent")
        found = set(sk.types[self.path])
        if not found <= self.expect:
            return "breaks", f"found {sorted(found)}, expected {sorted(self.expect)}"
        return "match", f"x{n:,}"


def _r(path: str, types: str, required: bool = True, evidence: str = "R, K") -> Row:
    return Row(path, frozenset(types.split("|")), required, evidence)


PAIRS = "user_states.user_to_state[][1]"
ROWS: tuple[Row, ...] = (
    _r("exchange.locus.cls", "list", evidence="R, K, V"),
    _r("exchange.locus.ctx.height", "int", evidence="V"),
    _r("exchange.locus.ctx.time", "str", evidence="V"),
    _r(CLS + ".meta.universe[].name", "str"),
    _r(CLS + ".meta.universe[].szDecimals", "int"),
    _r(CLS + ".meta.universe[].marginTableId", "int"),
    _r(CLS + ".meta.universe[].marginMode", "str", required=False, evidence="R"),
    _r(CLS + ".meta.marginTableIdToMarginTable[][0]", "int", evidence="R, K, V"),
    _r(CLS + ".meta.marginTableIdToMarginTable[][1].margin_tiers[].lower_bound", "int"),
    _r(CLS + ".meta.marginTableIdToMarginTable[][1].margin_tiers[].max_leverage", "int"),
    _r(CLS + ".meta.collateralToken", "int", evidence="R, V"),
    _r(CLS + ".oracle.pxs[][].px", "int"),
    _r(CLS + ".user_states.user_to_state[][0]", "str|bytes", evidence="R"),
    _r(USER + ".u", "int"),
    _r(USER + ".S", "map", required=False, evidence="K"),
    _r(USER + ".p.p[][0]", "int"),
    _r(POSITION + ".s", "int|null"),
    _r(POSITION + ".e", "int"),
    _r(POSITION + ".M", "int", evidence="V"),
    _r(POSITION + ".l.C", "int", required=False, evidence="R, V"),
    _r(POSITION + ".l.I.l", "int", required=False, evidence="R"),
    _r(POSITION + ".l.I.u", "int", required=False, evidence="R"),
    _r(POSITION + ".f.a", "int", required=False, evidence="R, K, V"),
    _r(POSITION + ".f.o", "int", required=False, evidence="R, K"),
    _r("exchange.locus.scl.user_states[][0]", "str|bytes", required=False, evidence="R"),
    _r("exchange.locus.scl.user_states[][1].b[][0]", "int", required=False, evidence="R"),
    _r("exchange.locus.scl.user_states[][1].b[][1].t", "int", required=False, evidence="R"),
    _r("exchange.locus.ust[][1].a", "str", required=False, evidence="R"),
)


def layout_report(sk: Skeleton) -> list[tuple[Row, str, str]]:
    return [(row, *row.check(sk)) for row in ROWS]
