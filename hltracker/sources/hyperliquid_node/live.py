"""`HyperliquidNodeLiveSource`: the whole market every few seconds of chain time, from a node's files.

It starts from the first state file under `{path}/periodic_abci_states`, replays the block streams
(`blocks.NodeBlocks`, `replay.Replay`) and yields a snapshot every `interval` seconds of chain time: the
snapshot at instant T holds every block whose time is <= T (it is made when the first later block
arrives; with no block in between, one snapshot at the latest instant stands for the others).

At every state file the replay reaches (block number = the file's height) the replayed ledger is
compared with the file (`compare.compare_ledgers`), the figures go to the log and the next snapshot's
`extra`, and the file wins: the replay continues from it, keeping what the file lacks (opening times,
leverage settings, marks) for positions that are still on the same side. While following, a block
whose number is due for a state file (`state_every`, the node's 10,000 by default) waits up to
`state_wait` seconds for it.

Anything the replay cannot apply (a bad line, a block out of order, a gap, an unknown event) is handed
to `on_problem` with its file and offset, and snapshots stop until the next state file re-anchors the
replay. A restart replays from the first state file again (deterministic: the same files give the same
snapshots, so ingest's skipping of landed snapshots makes a restart seamless).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from hltracker.model import Snapshot
from hltracker.sources.hyperliquid_node.anchor import Ledger, ledger_from_node_state
from hltracker.sources.hyperliquid_node.blocks import NodeBlocks
from hltracker.sources.hyperliquid_node.compare import LedgerMatch, carry_over, compare_ledgers
from hltracker.sources.hyperliquid_node.ledger_frames import MarksMissing, ledger_snapshot
from hltracker.sources.hyperliquid_node.reader import read_node_state
from hltracker.sources.hyperliquid_node.replay import BlockEvents, Replay, ReplayError
from hltracker.sources.hyperliquid_node.source import list_state_files
from hltracker.sources.hyperliquid_node.streams import FILL_FORMS, StreamError, find_stream, hourly_files, node_ms

log = logging.getLogger("hltracker.sources.hyperliquid_node.live")
SOURCE_NAME = "hyperliquid-node"


@dataclass(frozen=True)
class StreamProblem:
    """Something the replay could not use: what, where, and what the source does about it."""

    reason: str
    where: str
    consequence: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason} ({self.consequence})"


def read_ledger(path: Path) -> Ledger:
    return ledger_from_node_state(read_node_state(path))


class HyperliquidNodeLiveSource:
    name: ClassVar[str] = SOURCE_NAME
    description: ClassVar[str] = ("A node's state files plus its fill and event streams: every position, "
                                  "every --interval seconds of chain time")
    full_market: ClassVar[bool] = True

    def __init__(self, path: str | Path, interval: float = 10.0, follow: bool = False, poll_seconds: float = 1.0,
                 markets_from: Callable[[], pl.DataFrame] | None = None,
                 on_problem: Callable[[StreamProblem], None] | None = None,
                 state_every: int = 10_000, state_wait: float = 60.0,
                 ledger_reader: Callable[[Path], Ledger] = read_ledger,
                 sleep: Callable[[float], None] = time.sleep):
        self.root = Path(path).expanduser()
        self.states_dir = self.root / "periodic_abci_states"
        self.interval_ms = round(interval * 1000)
        if self.interval_ms <= 0:
            raise ValueError("interval must be positive")
        self.follow = follow
        self.poll_seconds = poll_seconds
        self.markets_from = markets_from
        self.on_problem = on_problem
        self.state_every = state_every
        self.state_wait = state_wait
        self.read_ledger = ledger_reader
        self.sleep = sleep
        self.problems: list[StreamProblem] = []
        self.matches: list[LedgerMatch] = []
        self._stop = False

    def stop(self) -> None:
        self._stop = True

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "full_market": self.full_market,
                "path": str(self.root), "interval_s": self.interval_ms / 1000, "follow": self.follow,
                "state_files": len(list_state_files(self.states_dir))}

    def expected_snapshots(self) -> int:
        """How many snapshots the files already written give (from the first state file to the last block
        of the fill stream): the backfill, for a progress bar."""
        files = self._state_files()
        folder = find_stream(self.root, FILL_FORMS[:2])
        hourly = hourly_files(folder) if folder is not None and files else []
        if not hourly:
            return 0
        first_ms = _block_time_ms(hourly, files[0][0])
        tail = hourly[-1][1].read_bytes()[-65536:].rstrip(b"\n").rsplit(b"\n", 1)[-1]
        try:
            last_ms = node_ms(json.loads(tail)["block_time"], None)
        except (ValueError, KeyError, TypeError, StreamError):
            return 0
        if first_ms is None or last_ms < first_ms:
            return 0
        return (last_ms // self.interval_ms) - (_ceil(first_ms, self.interval_ms) // self.interval_ms) + 1

    # ----- the loop -----------------------------------------------------------------------------

    def snapshots(self) -> Iterator[Snapshot]:
        files = self._state_files()
        while not files:
            if not self.follow or self._stop:
                raise FileNotFoundError(f"no state file under {self.states_dir}: the replay starts from one")
            self.sleep(self.poll_seconds)
            files = self._state_files()
        height, first = files[0]
        ledger = self.read_ledger(first)
        replay = Replay(ledger)
        blocks = NodeBlocks(self.root, after=ledger.height, since_ms=ledger.time_ms)
        broken = False
        next_t = _ceil(ledger.time_ms, self.interval_ms)
        pending_extra: dict[str, str] = {"anchor": f"{first.name} (height {height})"}
        waited_for: int | None = None
        while not self._stop:
            try:
                block = None if broken else blocks.next(on_skipped=replay.apply_marks)
            except (StreamError, ReplayError) as exc:
                self._problem(exc, "live snapshots stop until the next state file")
                broken = True
                continue
            if block is None:
                if broken:
                    later = [(h, p) for h, p in self._state_files() if h > replay.ledger.height]
                    if later:
                        h, p = later[0]
                        replay = self._reanchor(replay, self.read_ledger(p), None)
                        blocks.resync(replay.ledger.height)
                        pending_extra = {"anchor": f"{p.name} (height {h}, after a stream problem)"}
                        next_t = _ceil(replay.ledger.time_ms, self.interval_ms)
                        broken = False
                        continue
                elif next_t == replay.ledger.time_ms:
                    snap = self._snapshot(replay, next_t, pending_extra)
                    if snap is not None:
                        pending_extra = {}
                        yield snap
                    next_t += self.interval_ms
                    continue
                if not self.follow:
                    return
                self.sleep(self.poll_seconds)
                continue
            if block.time_ms > next_t:
                last_instant = next_t + (block.time_ms - 1 - next_t) // self.interval_ms * self.interval_ms
                snap = self._snapshot(replay, last_instant, pending_extra)
                if snap is not None:
                    pending_extra = {}
                    yield snap
                next_t = last_instant + self.interval_ms
            try:
                replay.apply(block)
            except ReplayError as exc:
                self._problem(exc, "live snapshots stop until the next state file")
                broken = True
                continue
            state = self._state_at(block.number, waited_for)
            waited_for = block.number
            if state is not None:
                match = compare_ledgers(replay.ledger, file_ledger := self.read_ledger(state))
                self.matches.append(match)
                log.info("state %s: %s", state.name, match.summary())
                replay = self._reanchor(replay, file_ledger, match)
                pending_extra = {**pending_extra, **match.as_extra(), "checked_state": state.name}

    # ----- pieces -------------------------------------------------------------------------------

    def _state_files(self) -> list[tuple[int, Path]]:
        return [(h, p) for h, p in list_state_files(self.states_dir) if h is not None]

    def _state_at(self, number: int, waited_for: int | None) -> Path | None:
        """The state file of block `number`; while following, one that is due is waited for."""
        deadline = None
        while True:
            for h, p in self._state_files():
                if h == number:
                    return p
            due = self.follow and self.state_every and number % self.state_every == 0 and waited_for != number
            if not due or self._stop:
                return None
            now = time.monotonic()
            deadline = deadline or now + self.state_wait
            if now >= deadline:
                log.warning("no state file for block %d after %.0f s: going on without the check", number,
                            self.state_wait)
                return None
            self.sleep(self.poll_seconds)

    def _reanchor(self, replay: Replay, file_ledger: Ledger, match: LedgerMatch | None) -> Replay:
        carry_over(replay.ledger, file_ledger)
        fresh = Replay(file_ledger)
        fresh.marks_from, fresh.marks_ms = replay.marks_from, replay.marks_ms
        fresh.fills, fresh.fundings = replay.fills, replay.fundings  # rows not yet in a snapshot
        return fresh

    def _snapshot(self, replay: Replay, at_ms: int, extra: dict[str, str]) -> Snapshot | None:
        fills, fundings = replay.take_rows()
        try:
            return ledger_snapshot(replay.ledger, at_ms, fills, fundings, replay.marks_from, replay.marks_ms,
                                   self.markets_from, source=SOURCE_NAME, extra=extra)
        except MarksMissing as exc:
            self._problem(StreamError(str(exc)), "no snapshot at this instant")
            replay.fills, replay.fundings = fills + replay.fills, fundings + replay.fundings
            return None

    def _problem(self, exc: Exception, consequence: str) -> None:
        where = getattr(exc, "where", None) or (f"{exc.file} at byte {exc.offset}"
                                                 if getattr(exc, "file", None) else str(self.root))
        reason = getattr(exc, "reason", None) or str(exc)
        problem = StreamProblem(reason, where, consequence)
        self.problems.append(problem)
        log.warning("%s", problem)
        if self.on_problem is not None:
            self.on_problem(problem)


def _block_time_ms(hourly: list[tuple[tuple[str, int], Path]], number: int) -> int | None:
    """The time of block `number` in a block stream (its hourly files), or None if it is not there."""
    candidate = None
    for _, path in hourly:
        with open(path, "rb") as f:
            first = f.readline()
        try:
            if json.loads(first)["block_number"] <= number:
                candidate = path
        except (ValueError, KeyError, TypeError):
            continue
    if candidate is None:
        return None
    needle = f'"block_number":{number},'.encode()
    with open(candidate, "rb") as f:
        for line in f:
            if needle in line.replace(b" ", b""):
                try:
                    return node_ms(json.loads(line)["block_time"], None)
                except (ValueError, KeyError, StreamError):
                    return None
    return None


def _ceil(ms: int, step: int) -> int:
    return -(-ms // step) * step


__all__ = ["BlockEvents", "HyperliquidNodeLiveSource", "StreamProblem"]
