"""`SnapshotFilesSource`: the snapshots of a folder written in the snapshot-files layout, oldest first.

    SnapshotFilesSource(path, follow=False, poll_seconds=5.0)

`path` is a root folder of snapshot folders, or one snapshot folder (read once, even with `follow`). With
`follow=True` the source keeps polling the root for snapshot folders newer than the last one it yielded,
so a producer can keep writing while hltracker ingests; a folder that lands after a newer one was yielded
is skipped with a warning. `stop()` ends the polling from another thread. The constructor does no I/O.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from hltracker.model import Snapshot
from hltracker.sources.snapshot_files.layout import (
    MANIFEST,
    SnapshotFilesError,
    list_snapshot_dirs,
    read_snapshot,
    snapshot_dir_name,
)

log = logging.getLogger(__name__)


class SnapshotFilesSource:
    name: ClassVar[str] = "snapshot-files"
    description: ClassVar[str] = (
        "Snapshots stored as Parquet files, one folder per snapshot (docs/snapshot-files.md): "
        "a data vendor's dump, or snapshots another hltracker source wrote."
    )
    # The files carry whatever their producer saw: a full-market dump balances long and short sizes
    # per market, a watchlist dump does not, so balance is not assumed.
    full_market: ClassVar[bool] = False

    def __init__(self, path: str | Path = "snapshots", follow: bool = False, poll_seconds: float = 5.0,
                 on_invalid: Callable[[SnapshotFilesError], None] | None = None):
        """`on_invalid`: called with the error of each unreadable or invalid folder, which is then
        skipped; without it such a folder raises `SnapshotFilesError`."""
        if poll_seconds <= 0:
            raise ValueError(f"poll_seconds must be positive, got {poll_seconds}")
        self.path = Path(path)
        self.follow = follow
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._warned: set[str] = set()  # late folders already reported
        self.on_invalid = on_invalid

    def stop(self) -> None:
        """End a following `snapshots()` at its next poll (safe to call from another thread)."""
        self._stop.set()

    def snapshots(self) -> Iterator[Snapshot]:
        """Every snapshot under `path` in `taken_at` order; with `follow`, then each new one as it lands."""
        if (self.path / MANIFEST).is_file():
            try:
                yield read_snapshot(self.path)
            except SnapshotFilesError as exc:
                if self.on_invalid is None:
                    raise
                self.on_invalid(exc)
            return
        last: str | None = None
        while True:
            for folder in self._new_dirs(last):
                try:
                    snap = self._read(folder)
                except SnapshotFilesError as exc:
                    if self.on_invalid is None:
                        raise
                    self.on_invalid(exc)
                    last = folder.name
                    continue
                if snap is None:  # vanished while being replaced: look again at the next poll
                    break
                yield snap
                last = folder.name
            if not self.follow or self._stop.wait(self.poll_seconds):
                return

    def describe(self) -> dict[str, Any]:
        try:
            count = 1 if (self.path / MANIFEST).is_file() else len(list_snapshot_dirs(self.path))
        except SnapshotFilesError:
            count = 0
        return {
            "name": self.name,
            "description": self.description,
            "full_market": self.full_market,
            "path": str(self.path),
            "follow": self.follow,
            "poll_seconds": self.poll_seconds,
            "snapshots": count,
        }

    def _new_dirs(self, last: str | None) -> list[Path]:
        """The complete snapshot folders after `last`; a folder that lands later than a newer one was
        already yielded is skipped (snapshots are yielded in time order), with a warning."""
        dirs = list_snapshot_dirs(self.path)
        if last is None:
            return dirs
        late = [d.name for d in dirs if d.name < last and d.name not in self._warned]
        for name in late:
            log.warning("snapshot %s landed after the newer %s was ingested; skipped", name, last)
            self._warned.add(name)
        return [d for d in dirs if d.name > last]

    def _read(self, folder: Path) -> Snapshot | None:
        try:
            snap = read_snapshot(folder)
        except SnapshotFilesError:
            if self.follow and not (folder / MANIFEST).is_file():
                return None
            raise
        expected = snapshot_dir_name(snap.taken_at)
        if folder.name != expected:
            raise SnapshotFilesError(
                folder,
                f"folder name does not match the manifest's taken_at (expected {expected!r}); "
                "folder names order the snapshots in time",
            )
        return snap
