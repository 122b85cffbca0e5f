"""The simulator's steps as a non-validator node's block streams (docs/node-source.md, "Streams").

Attach a `NodeStreamWriter` to a `SimulatedMarket` (`writer = NodeStreamWriter(sim, root)`); every step
then appends its blocks to

    root/node_fills_by_block/hourly/{YYYYMMDD}/{H}      {local_time, block_time, block_number, events:
                                                         [[user, fill], ...]}   (`--write-fills --batch-by-block`)
    root/misc_events_by_block/hourly/{YYYYMMDD}/{H}     events: [{time, hash, inner: {Funding | LedgerUpdate}}]
    root/replica_cmds/hourly/{YYYYMMDD}/{H}             {abci_block{time, round, proposer, signed_action_bundles},
                                                         resps}: SetGlobalAction marks, user actions
    root/hip3_oracle_updates_by_block/hourly/{YYYYMMDD}/{H}   events: [{dex, oracle_pxs{coin_to_mark_px}}]

(`form="streaming"` writes `*_streaming` folders instead, as `--stream-with-block-info` does.) Every block
is written to every stream, with empty `events` when nothing happened, so a missing block is a gap. The
writer only reads what a step does (the market's `recorder` hooks); the market is the same without it.

Block clock: block `GENESIS_HEIGHT + (t - start) / block_ms`, one block per `block_ms` (default 1 s, not
the mainnet ~80 ms, to keep files small); write state files with `height=writer.height()`. A step of
(t0, t1] fills the blocks after t0 up to t1, in exchange order:

    1  marks (SetGlobalAction for the main dex, hip3_oracle_updates for HIP-3) and hourly Funding deltas
    2  backstop liquidations: the liquidator's leverage settings, the fills, LedgerUpdate liquidations
       (isolated ones first, then each seized cross book)
    3  trades: leverage settings of the positions they open, the fills
    4  margin top-ups: deposits (main dex), sends to HIP-3 dexes, updateIsolatedMargin
    5.. empty

What the evidence names (fill keys, Funding deltas, LedgerUpdate liquidations, the block envelope,
SetGlobalAction pxs, hip3 coin_to_mark_px) follows it; the rest is ours and marked so in the docs:
the user named beside each replica action (a real node has only the signature), `round` used as the
block number, `ntli` written as a USD decimal string, and the fills' `oid`/`hash` (no orders simulated).
Numbers are decimal strings that round-trip the simulator's floats exactly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hltracker.sources.simulator.frames import _dir
from hltracker.sources.simulator.market import FundingBatch, SimulatedMarket
from hltracker.sources.simulator.node_state import GENESIS_HEIGHT

Form = Literal["by_block", "streaming"]
STEP_BLOCKS = 4  # blocks a step needs (see the module docstring)
ZERO_HASH = "0x" + "0" * 64
PROPOSER = "0x" + "5a" * 20
ORACLE_UPDATER = "0x" + "4b" * 20


def node_time(ms: int) -> str:
    """ISO 8601 with nanoseconds and no zone (UTC), as node files write times."""
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(ms % 1000) * 1_000_000:09d}"


def _num(x: float) -> str:
    return repr(float(x))


def _size(lots: int, szd: int) -> str:
    """Exact decimal of lots x 10^-szd."""
    if szd == 0:
        return str(int(lots))
    sign = "-" if lots < 0 else ""
    digits = str(abs(int(lots))).rjust(szd + 1, "0")
    return f"{sign}{digits[:-szd]}.{digits[-szd:]}"


def asset_id(sim: SimulatedMarket, market: int) -> int:
    """Hyperliquid's asset id: the main dex's universe index, or 100000 + 10000 x dex + index for HIP-3."""
    uni = sim.uni
    d = int(uni.dex_index[market])
    index = int(market - np.flatnonzero(uni.dex_index == d)[0])
    return index if d == 0 else 100_000 + 10_000 * d + index


class NodeStreamWriter:
    """Writes the node's block streams of every step of `sim` under `root` (see the module docstring)."""

    def __init__(self, sim: SimulatedMarket, root: str | Path, form: Form = "by_block", block_ms: int = 1000,
                 write_marks: bool = True):
        """`write_marks=False`: no SetGlobalAction and no HIP-3 mark lines (a node whose marks must come
        from an info endpoint)."""
        self.sim = sim
        self.write_marks = write_marks
        self.root = Path(root)
        self.form = form
        self.block_ms = int(block_ms)
        self.origin_ms = sim.now_ms
        self._asset = np.array([asset_id(sim, m) for m in range(sim.uni.n)], dtype=np.int64)
        self._main = np.flatnonzero(sim.uni.dex_index == 0)
        self._lines: dict[str, list[str]] = {}
        sim.recorder = self

    # ----- the block clock ----------------------------------------------------------------------

    def height(self, ms: int | None = None) -> int:
        ms = self.sim.now_ms if ms is None else ms
        return GENESIS_HEIGHT + (ms - self.origin_ms) // self.block_ms

    def block_ms_of(self, number: int) -> int:
        return self.origin_ms + (number - GENESIS_HEIGHT) * self.block_ms

    def folder(self, stream: str) -> Path:
        if stream == "replica_cmds":
            return self.root / "replica_cmds" / "hourly"
        suffix = "_by_block" if self.form == "by_block" else "_streaming"
        return self.root / f"{stream}{suffix}" / "hourly"

    # ----- recorder hooks (called by SimulatedMarket.step) --------------------------------------

    def step_started(self, sim: SimulatedMarket, t0: int, t1: int) -> None:
        if (t1 - t0) % self.block_ms or (t1 - t0) // self.block_ms < STEP_BLOCKS:
            raise ValueError(f"a step of {t1 - t0} ms is not a whole number of at least {STEP_BLOCKS} blocks "
                             f"of {self.block_ms} ms")
        self.t0, self.t1 = t0, t1
        self.fundings: list[tuple[FundingBatch, np.ndarray]] = []
        self.liq_fills: list[list] = []
        self.liq_actions: list[dict] = []
        self.liq_iso: list[dict] = []
        self.liq_cross: list[dict] = []
        self.trade_fills: list[list] = []
        self.trade_actions: list[dict] = []
        self.topups: list[dict] = []
        self.topup_actions: list[dict] = []
        self.marks = (sim.mark.copy(), sim.oracle_px.copy())

    def funding(self, batch: FundingBatch, isolated: np.ndarray) -> None:
        self.fundings.append((batch, isolated))

    def liquidation(self, before, intents, res, n_victims: int, was_isolated: np.ndarray, kept: np.ndarray,
                    liquidator: int) -> None:
        sim, uni = self.sim, self.sim.uni
        self.liq_actions += self._opening_settings(before, intents)
        self.liq_fills += self._fills(res.fills)
        addr = sim.people.address
        for i in np.flatnonzero(was_isolated):
            m = int(intents.market[i])
            szi = -int(intents.delta[i])
            self.liq_iso.append({"users": [addr[intents.wallet[i]]], "delta": {
                "type": "liquidation", "liquidatedNtlPos": _num(abs(szi) * uni.lot[m] * sim.mark[m]),
                "accountValue": _num(kept[i]), "leverageType": "Isolated",
                "liquidatedPositions": [{"coin": str(uni.coin[m]), "szi": _size(szi, int(uni.sz_decimals[m]))}]}})
        cross = ~was_isolated
        self._cross_positions = getattr(self, "_cross_positions", {})
        for i in np.flatnonzero(cross):
            m = int(intents.market[i])
            key = (int(intents.wallet[i]), int(uni.dex_index[m]))
            self._cross_positions.setdefault(key, []).append((m, -int(intents.delta[i])))

    def cross_books_seized(self, books: np.ndarray, cash: np.ndarray, liquidator: int) -> None:
        sim, uni = self.sim, self.sim.uni
        n_d = len(uni.dexes)
        held = getattr(self, "_cross_positions", {})
        for flat, amount in zip(books.tolist(), cash.tolist(), strict=True):
            w, d = divmod(int(flat), n_d)
            positions = held.get((w, d), [])
            ntl = sum(abs(s) * uni.lot[m] * sim.mark[m] for m, s in positions)
            self.liq_cross.append({"users": [sim.people.address[w]], "delta": {
                "type": "liquidation", "liquidatedNtlPos": _num(ntl), "accountValue": _num(amount),
                "leverageType": "Cross", "liquidatedPositions": [
                    {"coin": str(uni.coin[m]), "szi": _size(s, int(uni.sz_decimals[m]))} for m, s in positions]}})
        self._cross_positions = {}

    def trades(self, before, intents, res) -> None:
        self.trade_actions += self._opening_settings(before, intents)
        self.trade_fills += self._fills(res.fills)

    def deposits(self, deposit: np.ndarray) -> None:
        sim = self.sim
        n_d = len(sim.uni.dexes)
        for flat in np.flatnonzero(deposit):
            w, d = divmod(int(flat), n_d)
            usdc = _num(deposit[flat])
            if d == 0:
                delta = {"type": "deposit", "usdc": usdc}
            else:
                delta = {"type": "send", "usdc": usdc, "sourceDex": "spot", "destinationDex": sim.uni.dexes[d]}
            self.topups.append({"users": [sim.people.address[w]], "delta": delta})

    def withdrawals(self, amount: np.ndarray) -> None:
        """Main-dex withdrawals, one per wallet (`amount` indexed by wallet), as the node's ledger updates."""
        sim = self.sim
        for w in np.flatnonzero(amount):
            self.topups.append({"users": [sim.people.address[w]],
                                "delta": {"type": "withdraw", "usdc": _num(amount[w]), "fee": "0.0"}})

    def isolated_top_ups(self, wallet: np.ndarray, market: np.ndarray, amount: np.ndarray) -> None:
        sim = self.sim
        for w, m, a in zip(wallet.tolist(), market.tolist(), amount.tolist(), strict=True):
            self.topup_actions.append({"user": sim.people.address[w], "action": {
                "type": "updateIsolatedMargin", "asset": int(self._asset[m]),
                "isBuy": bool(self._lots_of(w, m) > 0), "ntli": _num(a)}})

    def step_done(self, sim: SimulatedMarket) -> None:
        first = self.height(self.t0) + 1
        last = self.height(self.t1)
        mark, oracle = self.marks
        set_global = {"user": None, "action": {"type": "SetGlobalAction", "pxs": [
            [_num(mark[m]), _num(oracle[m])] for m in self._main]}}
        hip3 = []
        for d, dex in enumerate(sim.uni.dexes[1:], start=1):
            ms = np.flatnonzero(sim.uni.dex_index == d)
            hip3.append({"dex": dex, "oracle_pxs": {"coin_to_mark_px": [
                [str(sim.uni.coin[m]), {"px": _num(mark[m])}] for m in ms]}})
        t_liq, t_top = node_time(self.block_ms_of(first + 1)), node_time(self.block_ms_of(first + 3))
        misc = {first: [(node_time(int(batch.time_ms[0])) if len(batch.time_ms) else node_time(self.t1),
                         {"Funding": {"deltas": self._funding_deltas(batch)}}) for batch, _ in self.fundings],
                first + 1: [(t_liq, {"LedgerUpdate": u}) for u in self.liq_iso + self.liq_cross],
                first + 3: [(t_top, {"LedgerUpdate": u}) for u in self.topups]}
        fills = {first + 1: self.liq_fills, first + 2: self.trade_fills}
        actions = {first: [set_global] if self.write_marks else [], first + 1: self.liq_actions,
                   first + 2: self.trade_actions, first + 3: self.topup_actions}
        for n in range(first, last + 1):
            ms = self.block_ms_of(n)
            t = node_time(ms)
            self._add("node_fills", ms, self._block(n, t, fills.get(n, [])))
            self._add("misc_events", ms, self._block(n, t, [
                {"time": when, "hash": ZERO_HASH, "inner": e} for when, e in misc.get(n, [])]))
            self._add("hip3_oracle_updates", ms, self._block(n, t, hip3 if n == first and self.write_marks else []))
            self._add("replica_cmds", ms, json.dumps({"abci_block": {
                "time": t, "round": n, "proposer": PROPOSER,
                "signed_action_bundles": [[ZERO_HASH, {"signed_actions": actions.get(n, [])}]] if actions.get(n)
                else []}, "resps": None}, separators=(",", ":")))
        self.flush()

    # ----- rendering ----------------------------------------------------------------------------

    def _block(self, n: int, t: str, events: list) -> str:
        return json.dumps({"local_time": t, "block_time": t, "block_number": n, "events": events},
                          separators=(",", ":"))

    def _add(self, stream: str, ms: int, line: str) -> None:
        t = datetime.fromtimestamp(ms / 1000, tz=UTC)
        path = self.folder(stream) / t.strftime("%Y%m%d") / str(t.hour)
        self._lines.setdefault(str(path), []).append(line)

    def flush(self) -> None:
        """Append every pending line, one write per file (a reader may still see a partial last line)."""
        for path, lines in self._lines.items():
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            with open(p, "a", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        self._lines = {}

    def _lots_of(self, w: int, m: int) -> int:
        b = self.sim.book
        row = b.lookup(np.array([w * self.sim.uni.n + m]), self.sim.uni.n)[0]
        return int(b.lots[row]) if row >= 0 else 0

    def _opening_settings(self, before, intents) -> list[dict]:
        """updateLeverage for every intent that opens a side: the setting the new position takes."""
        uni = self.sim.uni
        row = before.lookup(intents.wallet * uni.n + intents.market, uni.n)
        old = np.where(row >= 0, before.lots[np.maximum(row, 0)], 0)
        new = old + intents.delta
        opens = (new != 0) & ((old == 0) | (np.sign(new) != np.sign(old)))
        addr = self.sim.people.address
        return [{"user": addr[intents.wallet[i]], "action": {
            "type": "updateLeverage", "asset": int(self._asset[intents.market[i]]),
            "isCross": not bool(intents.isolated[i]), "leverage": int(intents.leverage[i])}}
            for i in np.flatnonzero(opens)]

    def _fills(self, f) -> list[list]:
        sim, uni = self.sim, self.sim.uni
        signed = np.where(f.is_buy, f.lots, -f.lots)
        dirs = _dir(f.start_lots, f.start_lots + signed)
        order = np.lexsort((~f.is_buy, f.tid))
        out = []
        addr = sim.people.address
        for i in order.tolist():
            m = int(f.market[i])
            szd = int(uni.sz_decimals[m])
            fill: dict[str, Any] = {
                "coin": str(uni.coin[m]), "px": _num(f.px[i]), "sz": _size(int(f.lots[i]), szd),
                "side": "B" if f.is_buy[i] else "A", "time": int(f.time_ms[i]),
                "startPosition": _size(int(f.start_lots[i]), szd), "dir": str(dirs[i]),
                "closedPnl": _num(f.closed_pnl[i]), "hash": ZERO_HASH, "oid": int(f.tid[i]),
                "crossed": bool(f.crossed[i]), "fee": _num(f.fee[i]), "tid": int(f.tid[i]), "feeToken": "USDC",
            }
            if f.liquidated_wallet[i] >= 0:
                fill["liquidation"] = {"liquidatedUser": addr[f.liquidated_wallet[i]],
                                       "markPx": _num(f.liquidation_mark[i]), "method": "backstop"}
            out.append([addr[f.wallet[i]], fill])
        return out

    def _funding_deltas(self, batch: FundingBatch) -> list[dict]:
        sim, uni = self.sim, self.sim.uni
        out = []
        addr = sim.people.address
        for w, m, lots, pay, rate in zip(batch.wallet.tolist(), batch.market.tolist(), batch.lots.tolist(),
                                         batch.pay.tolist(), batch.rate.tolist(), strict=True):
            out.append({"user": addr[w], "coin": str(uni.coin[m]), "funding_amount": _num(-pay),
                        "szi": _size(lots, int(uni.sz_decimals[m])), "funding_rate": _num(rate)})
        return out
