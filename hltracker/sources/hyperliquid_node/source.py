"""`HyperliquidNodeSource`: a non-validator node's periodic ABCI state snapshots, oldest first.

    HyperliquidNodeSource(path="~/hl/data/periodic_abci_states", follow=False, poll_seconds=10.0,
                          markets_from=None, on_invalid=None)

`path` is the node's `periodic_abci_states` folder (one `YYYYMMDD` folder per day, `{height}.rmp` files in
them), one date folder, or one file. Files are read in height order, MessagePack (`.rmp`) or translated
JSON (`.json`; when a height has both, the `.rmp`). Anything else is ignored, so are dot-files and
partial copies (`.123.rmp.tmp`, `123.rmp.part`). With `follow=True` the source then polls for files of a
greater height; one that lands after a greater height was read is skipped with a warning, and one
that ends early while following is tried again at the next poll as long as it keeps growing.
`stop()` ends the polling from another thread. The constructor does no I/O.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from hltracker.model import Snapshot
from hltracker.sources.hyperliquid_node.convert import SOURCE_NAME, to_snapshot
from hltracker.sources.hyperliquid_node.errors import MarksUnavailableError, NodeStateError, TruncatedStateError
from hltracker.sources.hyperliquid_node.probe import KNOWN_LAYOUTS
from hltracker.sources.hyperliquid_node.reader import read_node_state

log = logging.getLogger(__name__)

DEFAULT_PATH = "~/hl/data/periodic_abci_states"
STATE_FILE = re.compile(r"^(\d+)\.(rmp|json)$")
DATE_FOLDER = re.compile(r"^\d{8}$")
_FORMAT_PREFERENCE = {"rmp": 0, "json": 1}


def list_state_files(path: str | Path) -> list[tuple[int | None, Path]]:
    """(height, file) of every state file under `path`, by height; a single file is listed as given (its
    height from its name when it has one: the node's `abci_state.rmp` link has none)."""
    path = Path(path).expanduser()
    if path.is_file():
        match = STATE_FILE.match(path.name)
        return [(int(match.group(1)) if match else None, path)]
    if not path.is_dir():
        return []
    folders = [path, *sorted(p for p in path.iterdir() if p.is_dir() and DATE_FOLDER.match(p.name))]
    best: dict[int, Path] = {}
    for folder in folders:
        for entry in folder.iterdir():
            match = STATE_FILE.match(entry.name)
            if not match or not entry.is_file():
                continue
            height = int(match.group(1))
            held = best.get(height)
            if held is None or _FORMAT_PREFERENCE[match.group(2)] < _FORMAT_PREFERENCE[held.suffix[1:]]:
                best[height] = entry
    return sorted(best.items())


def read_state_file(path: str | Path, markets_from: Callable[[], pl.DataFrame] | None = None) -> Snapshot:
    """The snapshot in one state file (see `HyperliquidNodeSource`). Keys no evidence names are counted
    per key path in `extra["unknown_keys"]` and logged; they never stop the read."""
    path = Path(path)
    if markets_from is None:  # before reading a 1 GB file: a setting, not a bad file
        raise MarksUnavailableError("a node's state file carries no mark prices")
    state = read_node_state(path)
    if state.unknown_keys:
        log.warning("node state %s: keys no evidence names (counted per key path, not read): %s", path.name,
                    "; ".join(f"{k} x{n}" for k, n in sorted(state.unknown_keys.items())))
    try:
        return to_snapshot(state, markets_from, path)
    except NodeStateError as exc:
        raise exc.at(path) from exc


class HyperliquidNodeSource:
    name: ClassVar[str] = SOURCE_NAME  # "hyperliquid-node"
    description: ClassVar[str] = (
        "Experimental: a Hyperliquid non-validator node's periodic ABCI state snapshots "
        "(periodic_abci_states/{date}/{height}.rmp, or their translated JSON), read in the layout "
        "public readers of real files show; a missing key stops with its key path, unknown keys are "
        "counted."
    )
    # The state holds every wallet of every market, so long and short sizes balance.
    full_market: ClassVar[bool] = True

    def __init__(self, path: str | Path = DEFAULT_PATH, follow: bool = False, poll_seconds: float = 10.0,
                 markets_from: Callable[[], pl.DataFrame] | None = None,
                 on_invalid: Callable[[NodeStateError], None] | None = None):
        """`markets_from`: returns a markets frame (the contract's schema) whose marks, mids, premiums,
        funding rates and 24h volumes are used (a state file carries no marks); the CLI builds it from the
        public info API's `metaAndAssetCtxs` (a node's local info server does not serve it). `on_invalid`:
        called with the error of each unreadable or invalid file, which is then skipped; without it such a
        file raises."""
        if poll_seconds <= 0:
            raise ValueError(f"poll_seconds must be positive, got {poll_seconds}")
        self.path = Path(path).expanduser()
        self.follow = follow
        self.poll_seconds = poll_seconds
        self.markets_from = markets_from
        self.on_invalid = on_invalid
        self._stop = threading.Event()
        self._warned: set[Path] = set()
        self._growing: dict[Path, int] = {}  # truncated files being retried: size at the last attempt

    def stop(self) -> None:
        """End a following `snapshots()` at its next poll (safe to call from another thread)."""
        self._stop.set()

    def snapshots(self) -> Iterator[Snapshot]:
        """Every state file's snapshot in height order; with `follow`, then each new file as it lands."""
        if self.path.is_file():
            snap = self._read(self.path, retry=False)
            if snap is not None:
                yield snap
            return
        last: int | None = None
        while True:
            for height, path in self._new_files(last):
                snap = self._read(path, retry=self.follow)
                if snap is None and path in self._growing:
                    break  # still being written: look again at the next poll
                if snap is not None:
                    yield snap
                last = height
            if not self.follow or self._stop.wait(self.poll_seconds):
                return

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "full_market": self.full_market,
            "path": str(self.path),
            "follow": self.follow,
            "poll_seconds": self.poll_seconds,
            "markets_from": self.markets_from is not None,  # marks: a state file has none
            "files": len(list_state_files(self.path)),
            "layouts": dict(KNOWN_LAYOUTS),
        }

    def _new_files(self, last: int | None) -> list[tuple[int, Path]]:
        files = list_state_files(self.path)
        if last is None:
            return files
        for height, path in files:
            if height < last and path not in self._warned:
                log.warning("node state %s landed after the greater height %d was read; skipped", path, last)
                self._warned.add(path)
        return [(h, p) for h, p in files if h > last]

    def _read(self, path: Path, retry: bool) -> Snapshot | None:
        """The file's snapshot; None when it was skipped as invalid, or (with `retry`) when it ends early
        and has grown since the last attempt, which leaves it in `_growing` to be read again."""
        try:
            snap = read_state_file(path, self.markets_from)
        except TruncatedStateError as exc:
            size = path.stat().st_size if path.exists() else -1
            if retry and self._growing.get(path) != size:
                self._growing[path] = size
                return None
            self._growing.pop(path, None)
            return self._invalid(exc)
        except NodeStateError as exc:
            return self._invalid(exc)
        self._growing.pop(path, None)
        return snap

    def _invalid(self, exc: NodeStateError) -> None:
        if self.on_invalid is None:
            raise exc
        self.on_invalid(exc)
        return None
