"""A trimmed fixture from a real state file: what `hltracker node record FILE --out DIR` writes.

The fixture keeps, per dex, the first `markets` markets of the universe (their oracle prices, every
margin table) and a few user states of every kind (cross, isolated, default leverage, `S`, `D`, HIP-3
asset ids, a leverage preference with `s: null`, no position), each wallet with all its user states,
spot balances and account mode; plus a few wallets of every account mode. Only wallets whose positions
all lie in the kept markets are taken, so every kept user state is whole. It is written as MessagePack
and as JSON, with `PROVENANCE.json` (height, state time, sha256 and size of the source file, when and
with which command it was recorded). Two streaming passes: one to choose, one to collect.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack

from hltracker.sources.hyperliquid_node.cursor import JsonNeedsPythonBackend, open_cursor
from hltracker.sources.hyperliquid_node.errors import NodeStateError
from hltracker.sources.hyperliquid_node.probe import UnknownKeys, walk
from hltracker.sources.hyperliquid_node.state import HIP3_ASSET_BASE, HIP3_ASSET_STRIDE

CANDIDATES = 5  # candidates per kind, for each wallet to keep
# The kinds of user state a wallet is kept for, per dex (plus "spot" and "mode/<a>").
KINDS = ("cross", "isolated", "default-leverage", "S", "D", "hip3-asset-id", "preference", "no-position")


def _kinds(state: dict) -> set[str]:
    kinds = {k for k in ("S", "D") if k in state}
    entries = (state.get("p") or {}).get("p") or []
    if not any(pos.get("s") for _, pos in entries):
        kinds.add("no-position")
    for asset, pos in entries:
        if not pos.get("s"):
            kinds.add("preference")
            continue
        lev = pos.get("l")
        kinds.add("default-leverage" if lev is None else "isolated" if "I" in lev else "cross")
        if type(asset) is int and asset >= HIP3_ASSET_BASE:
            kinds.add("hip3-asset-id")
    return kinds


def _in_kept_markets(state: Any, markets: int) -> bool:
    if type(state) is not dict:
        return False
    entries = (state.get("p") or {}).get("p") or []
    return all(type(a) is int and a % HIP3_ASSET_STRIDE < markets for a, _ in entries)


class _Pass:
    """Both passes: the first chooses wallets (`choose`), the second keeps what the chosen ones hold."""

    def __init__(self, markets: int, per_kind: int, chosen: set[str] | None = None):
        self.unknown = UnknownKeys()
        self.markets, self.per_kind, self.chosen = markets, per_kind, chosen
        self.ctx: dict | None = None
        self.metas: dict[int, dict] = {}
        self.pxs: dict[int, list] = {}
        self.picked: dict[tuple, list[str]] = defaultdict(list)  # (section, kind) -> addresses
        self.ineligible: set[str] = set()
        self.states: dict[int, list] = defaultdict(list)
        self.spot: list = []
        self.modes: list = []

    def _pick(self, key: tuple, address: str) -> None:
        # Candidates beyond `per_kind`: a wallet may turn out to hold a market that is not kept.
        if len(self.picked[key]) < CANDIDATES * self.per_kind and address not in self.picked[key] \
                and address not in self.ineligible:
            self.picked[key].append(address)

    def context(self, ctx):
        self.ctx = ctx

    def meta(self, dex, meta):
        self.metas[dex] = meta

    def oracle(self, dex, pxs):
        self.pxs[dex] = pxs

    def user(self, dex, entry, address, state, where):
        addr = address.lower() if isinstance(address, str) else "0x" + bytes(address).hex()
        eligible = _in_kept_markets(state, self.markets)
        if self.chosen is None:
            if not eligible:
                self.ineligible.add(addr)
                return
            for kind in _kinds(state):
                self._pick((dex, kind), addr)
        elif addr in self.chosen:
            if eligible:
                self.states[dex].append([address, state])
            else:
                self.ineligible.add(addr)

    def section(self, where):
        pass

    def spot_user(self, address, state, where):
        addr = address.lower() if isinstance(address, str) else "0x" + bytes(address).hex()
        if self.chosen is None:
            self._pick(("spot",), addr)
        elif addr in self.chosen:
            self.spot.append([address, state])

    def account_mode(self, address, mode, where):
        addr = address.lower() if isinstance(address, str) else "0x" + bytes(address).hex()
        if self.chosen is None:
            self._pick(("mode", str(mode)), addr)
        elif addr in self.chosen:
            self.modes.append([address, {"a": mode}])

    def stake(self, address, delegations, where):
        pass

    def optional_section_failed(self, section, error):
        pass


def _walk(path: Path, visitor: _Pass) -> None:
    backend = "yajl2_c"
    while True:
        try:
            with open_cursor(path, json_backend=backend) as cur:
                walk(cur, visitor)
                return
        except JsonNeedsPythonBackend:
            backend = "python"
        except NodeStateError as exc:
            raise exc.at(path) from exc


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Recorded:
    rmp: Path
    json: Path
    provenance: Path
    wallets: dict[str, int]  # kind -> wallets kept


def record_fixture(path: str | Path, out: str | Path, markets: int = 5, per_kind: int = 2,
                   command: str | None = None) -> Recorded:
    """Write a trimmed fixture of the state file at `path` into folder `out` (see the module doc)."""
    path, out = Path(path), Path(out)
    first = _Pass(markets, per_kind)
    _walk(path, first)
    candidates = {a for addrs in first.picked.values() for a in addrs}
    second = _Pass(markets, per_kind, candidates)
    _walk(path, second)
    whole = candidates - first.ineligible - second.ineligible
    picked = {k: [a for a in v if a in whole][:per_kind] for k, v in first.picked.items()}
    keep = {a for addrs in picked.values() for a in addrs}
    if second.ctx is None:  # the walk checks exchange.locus.ctx is there; a defence against a changed walk
        raise NodeStateError("exchange.locus: expected key 'ctx'", path)
    cls = []
    for d in sorted(second.metas):
        meta = dict(second.metas[d])
        meta["universe"] = meta["universe"][:markets]
        states = [pair for pair in second.states[d]
                  if (pair[0].lower() if isinstance(pair[0], str) else "0x" + bytes(pair[0]).hex()) in keep]
        holders = [a for a, s in states if any(pos.get("s") for _, pos in (s.get("p") or {}).get("p") or [])]
        cls.append({"meta": meta, "user_states": {"users_with_positions": holders, "user_to_state": states},
                    "oracle": {"pxs": second.pxs.get(d, [])[:markets]}})
    locus: dict[str, Any] = {"cls": cls, "ctx": second.ctx}
    if first.picked.get(("spot",)) is not None or second.spot:
        locus["scl"] = {"user_states": [p for p in second.spot if _norm(p[0]) in keep]}
    if second.modes or any(k[0] == "mode" for k in first.picked):
        locus["ust"] = [p for p in second.modes if _norm(p[0]) in keep]
    doc = {"exchange": {"locus": locus}}
    height = second.ctx["height"]
    out.mkdir(parents=True, exist_ok=True)
    rmp, js = out / f"{height}.rmp", out / f"{height}.json"
    rmp.write_bytes(msgpack.packb(doc))
    js.write_text(json.dumps(doc, default=lambda b: "0x" + bytes(b).hex()))
    kinds = {"/".join(map(str, k)): len(v) for k, v in sorted(picked.items(), key=str)}
    provenance = {
        "source_file": str(path.resolve()), "source_size_bytes": path.stat().st_size, "source_sha256": _sha256(path),
        "height": height, "state_time": str(second.ctx.get("time")),
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "hl_node_build": None,  # the operator writes the node's build here (not in the state file)
        "markets_per_dex": markets, "wallets_per_kind": per_kind, "wallets_kept": len(keep),
        "picked_by_kind": kinds,
    }
    prov = out / "PROVENANCE.json"
    prov.write_text(json.dumps(provenance, indent=2) + "\n")
    return Recorded(rmp=rmp, json=js, provenance=prov, wallets=kinds)


def _norm(address: Any) -> str:
    return address.lower() if isinstance(address, str) else "0x" + bytes(address).hex()
