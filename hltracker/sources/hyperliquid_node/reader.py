"""Stream a node state file into compact columns: one user state in memory at a time.

The walk (`probe.walk`) hands over each user state as it passes; its numbers are appended as one row
and, every `CHUNK_ROWS` rows, moved into a Polars frame, so Python objects never pile up. Nothing here
needs the markets: raw values (asset indexes, scaled integers, decimal strings) are kept as they are and
resolved against the metas once the whole file has been read (`convert.py`). That is why the key order
of the file does not matter: a clearinghouse may list its user states before its meta, and one pass
still suffices (no seeking back, no second pass over a 1 GB file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from hltracker.model.wire import parse_iso
from hltracker.sources.hyperliquid_node.cursor import JsonNeedsPythonBackend, open_cursor
from hltracker.sources.hyperliquid_node.errors import MarksUnavailableError, NodeLayoutError, NodeStateError
from hltracker.sources.hyperliquid_node.probe import (
    COMPRESSED,
    SPOT_SECTION,
    STAKING_SECTION,
    VERBOSE,
    Where,
    path_of,
    walk,
)

CHUNK_ROWS = 4_096

# Raw rows, per layout. Compressed: integers as the state scales them (USD x 1e6, size x 10^szDecimals).
# `book`: the row of the position's user state in the users rows (its cross account on that dex).
C_POSITIONS = {"book": pl.Int64, "dex_index": pl.Int32, "address": pl.String, "asset": pl.Int64, "size_raw": pl.Int64,
               "entry_ntl_raw": pl.Int64, "leverage": pl.Int64, "isolated": pl.Boolean, "iso_raw_usd_raw": pl.Int64,
               "margin_table": pl.Int64, "funding_open_raw": pl.Int64}
V_POSITIONS = {"book": pl.Int64, "dex_index": pl.Int32, "address": pl.String, "coin": pl.String, "szi": pl.Float64,
               "entry_price": pl.Float64, "leverage": pl.Int64, "isolated": pl.Boolean, "iso_raw_usd": pl.Float64,
               "funding_since_open": pl.Float64}
C_USERS = {"dex_index": pl.Int32, "address": pl.String, "raw_usd_raw": pl.Int64}
V_USERS = {"dex_index": pl.Int32, "address": pl.String, "raw_usd": pl.Float64}
SPOT = {"address": pl.String, "token": pl.Int64, "amount_wei": pl.Int64}
STAKES = {"address": pl.String, "amount_wei": pl.Int64}


class _Rows:
    """Rows appended one at a time, kept as typed Polars chunks."""

    def __init__(self, schema: dict[str, pl.DataType], where: str):
        self.schema = schema
        self.where = where  # the key path the rows come from, for type errors
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
            if s.null_count():
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


@dataclass
class RawState:
    """A state file's contents, before they are resolved against the markets."""

    layout: str
    format: str
    height: int
    time: datetime
    metas: dict[int, dict]  # by clearinghouse index
    oracles: dict[int, dict]  # compressed only
    positions: pl.DataFrame  # C_POSITIONS or V_POSITIONS
    users: pl.DataFrame  # C_USERS or V_USERS
    spot_tokens: dict[int, tuple[str, int]] | None  # index -> (name, wei decimals); None without spot
    spot: pl.DataFrame | None
    stakes: pl.DataFrame | None
    notes: list[str]  # optional sections left out, and why


def _address(value: Any, where: Where) -> str:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bytes) and len(value) == 20:
        return "0x" + value.hex()
    raise NodeLayoutError(f"{path_of(where)}: expected an address, found {value!r}")


class _Collector:
    """The visitor of `probe.walk` that keeps each user state's numbers as a row."""

    def __init__(self, have_marks: bool):
        self.have_marks = have_marks
        self.contexts: dict[str, dict] = {}
        self.metas: dict[str, dict[int, dict]] = {COMPRESSED: {}, VERBOSE: {}}
        self.oracles: dict[int, dict] = {}
        cls = "exchange.locus.cls[].user_states.user_to_state"
        dexes = "exchange.perp_dexs[].clearinghouse.user_states.user_to_state"
        self.rows = {
            (COMPRESSED, "positions"): _Rows(C_POSITIONS, cls + "[][1].p.p"),
            (COMPRESSED, "users"): _Rows(C_USERS, cls),
            (VERBOSE, "positions"): _Rows(V_POSITIONS, dexes + "[].asset_positions"),
            (VERBOSE, "users"): _Rows(V_USERS, dexes),
        }
        self._c_positions, self._c_users = self.rows[COMPRESSED, "positions"], self.rows[COMPRESSED, "users"]
        self._v_positions, self._v_users = self.rows[VERBOSE, "positions"], self.rows[VERBOSE, "users"]
        self.spot_rows = _Rows(SPOT, "exchange.locus.scl.user_states.user_to_state")
        self.stake_rows = _Rows(STAKES, "exchange.c_staking.delegations")
        self.tokens: dict[int, tuple[str, int]] | None = None
        self.sections: set[str] = set()  # optional sections present in the file
        self.failed: dict[str, NodeLayoutError] = {}

    def context(self, layout: str, ctx: dict) -> None:
        self.contexts[layout] = ctx

    def meta(self, layout: str, dex: int, meta: dict) -> None:
        if layout == COMPRESSED and not self.have_marks:
            raise MarksUnavailableError("this state has the 2026 compressed layout, which carries no mark prices")
        self.metas[layout][dex] = meta

    def oracle(self, dex: int, oracle: dict) -> None:
        self.oracles[dex] = oracle

    def user(self, layout: str, dex: int, address: Any, state: dict, where: Where) -> None:
        addr = address.lower() if type(address) is str else _address(address, where)
        try:
            if layout == COMPRESSED:
                self._compressed_user(dex, addr, state)
            else:
                self._verbose_user(dex, addr, state)
        except NodeLayoutError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise NodeLayoutError(f"{path_of(where)}: "
                                  f"unexpected value ({type(exc).__name__}: {exc})") from None

    def _compressed_user(self, dex: int, addr: str, state: dict) -> None:
        users = self._c_users
        book = len(users)
        users.add((dex, addr, state["u"]))
        held = state.get("p")
        if held and held["p"]:
            positions = self._c_positions
            for asset, pos in held["p"]:
                leverage = pos["l"]
                iso = leverage.get("I")
                lev, raw = (leverage["C"], 0) if iso is None else (iso["l"], iso["r"])
                positions.add((book, dex, addr, asset, pos["s"], pos["e"], lev, iso is not None, raw, pos["M"],
                               pos["f"]["o"]))
            positions.flush_if_full()
        users.flush_if_full()

    def _verbose_user(self, dex: int, addr: str, state: dict) -> None:
        positions, users = self._v_positions, self._v_users
        book = len(users)
        users.add((dex, addr, float(state["raw_usd"])))
        for entry in state.get("asset_positions") or ():
            pos = entry["position"]
            leverage = pos["leverage"]
            iso = leverage["type"] == "isolated"
            positions.add((book, dex, addr, pos["coin"], float(pos["szi"]), float(pos["entry_px"]),
                           int(leverage["value"]), iso, float(leverage["raw_usd"]) if iso else 0.0,
                           float(pos["cum_funding"]["since_open"])))
        positions.flush_if_full()
        users.flush_if_full()

    def section(self, where: str) -> None:
        self.sections.add(where)

    def spot_tokens(self, tokens: list) -> None:
        try:
            self.tokens = {int(index): (str(t["name"]), int(t["wei_decimals"])) for index, t in tokens}
        except (TypeError, ValueError) as exc:
            raise NodeLayoutError(f"{SPOT_SECTION}.tokens: unexpected value ({exc})") from None

    def spot_user(self, address: Any, state: dict, where: Where) -> None:
        addr = address.lower() if type(address) is str else _address(address, where)
        balances = state["b"]
        if type(balances) is not list:
            raise NodeLayoutError(f"{path_of(where)}.b: expected a list of [token, amount] pairs")
        add = self.spot_rows.add
        for balance in balances:
            if type(balance) is not list or len(balance) != 2:
                raise NodeLayoutError(f"{path_of(where)}.b: expected [token, amount] pairs, found {balance!r}")
            add((addr, balance[0], balance[1]))
        self.spot_rows.flush_if_full()

    def stake(self, address: Any, delegations: Any, where: Where) -> None:
        addr = _address(address, where)
        if not isinstance(delegations, list) or not all(isinstance(d, list) and len(d) == 2 for d in delegations):
            raise NodeLayoutError(f"{path_of(where)}: "
                                  "expected a list of [validator, amount] pairs")
        for _validator, amount in delegations:
            self.stake_rows.add((addr, amount))
        self.stake_rows.flush_if_full()

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

    def result(self, layout: str, fmt: str) -> RawState:
        ctx = self.contexts[layout]
        spot = self._optional_frame(SPOT_SECTION, self.spot_rows) if self.tokens is not None else None
        stakes = self._optional_frame(STAKING_SECTION, self.stake_rows)
        return RawState(
            layout=layout, format=fmt, height=_height(ctx), time=_time(ctx),
            metas=self.metas[layout], oracles=self.oracles,
            positions=self.rows[layout, "positions"].frame(), users=self.rows[layout, "users"].frame(),
            spot_tokens=self.tokens if spot is not None else None, spot=spot, stakes=stakes,
            notes=[f"{section} left out: {error.problem}" for section, error in self.failed.items()],
        )


def _height(ctx: dict) -> int:
    height = ctx["height"]
    if isinstance(height, bool) or not isinstance(height, int):
        raise NodeLayoutError(f"context.height: expected an integer, found {height!r}")
    return height


def _time(ctx: dict) -> datetime:
    value = ctx["time"]
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        raise NodeLayoutError(f"context.time: expected an ISO 8601 time, found {value!r}") from None


def read_raw_state(path: str | Path, have_marks: bool = True) -> RawState:
    """Stream the state file at `path` into a `RawState`; `NodeStateError` (with the file named) when it
    cannot be read, `MarksUnavailableError` as soon as a compressed layout shows up without `have_marks`."""
    path = Path(path)
    backend = "yajl2_c"
    while True:
        collector = _Collector(have_marks)
        try:
            with open_cursor(path, json_backend=backend) as cur:
                layout = walk(cur, collector)
                return collector.result(layout, cur.format)
        except JsonNeedsPythonBackend:
            backend = "python"  # yajl's C parser stops at integers beyond 64 bits
        except NodeStateError as exc:
            raise exc.at(path) from exc
        except OSError as exc:
            raise NodeStateError(f"cannot read the file: {exc}", path) from exc
