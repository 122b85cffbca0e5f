"""Following a node's line streams: hourly files appended as the node writes them, one JSON value a line.

A stream is a folder `{name}/hourly/{YYYYMMDD}/{H}` (the node's layout for `node_fills`, the
`*_by_block` / `*_streaming` block batches, `misc_events*`, `replica_cmds`, `hip3_oracle_updates*`).
`LineTail` hands over complete lines in file order with the file and byte offset each came from; a last
line without its newline is the node still writing it and is waited for, not parsed, unless a later
file has begun (then it was cut short: an error). `BlockStream` parses block batches and checks their
numbers: each block must follow the previous one by exactly one; a block out of order or a gap is an
error naming the file and offset. Resuming after a restart: `BlockStream(..., after=height)` skips
every block up to `height`, starting from the file of the hour before `since_ms`.

Errors (all `StreamError`, a ValueError): `reason` says what, `file` and `offset` where.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hltracker.model.wire import parse_iso

FILL_FORMS = ("node_fills_by_block", "node_fills_streaming", "node_fills")
MISC_FORMS = ("misc_events_by_block", "misc_events_streaming", "misc_events")
HIP3_FORMS = ("hip3_oracle_updates_by_block", "hip3_oracle_updates_streaming", "hip3_oracle_updates")
REPLICA_FORMS = ("replica_cmds",)


class StreamError(ValueError):
    """A stream line that cannot be used: what and where (file, byte offset of the line)."""

    def __init__(self, reason: str, file: Path | str | None = None, offset: int | None = None):
        self.reason = reason
        self.file = None if file is None else str(file)
        self.offset = offset
        where = "" if file is None else f"{file} at byte {offset}: "
        super().__init__(where + reason)


class StreamGap(StreamError):
    """Blocks missing between two lines: the replay cannot go on until a state file re-anchors it."""


def find_stream(root: Path, forms: tuple[str, ...]) -> Path | None:
    """The first of `forms` present under `root` (its `hourly` folder), or None."""
    for name in forms:
        folder = root / name / "hourly"
        if folder.is_dir():
            return folder
    return None


def hourly_files(folder: Path) -> list[tuple[tuple[str, int], Path]]:
    """`{YYYYMMDD}/{H}` files in time order; anything else (dot-files, other names) is ignored."""
    out = []
    for day in folder.iterdir() if folder.is_dir() else ():
        if not (day.is_dir() and len(day.name) == 8 and day.name.isdigit()):
            continue
        for f in day.iterdir():
            if f.is_file() and f.name.isdigit() and int(f.name) < 24:
                out.append(((day.name, int(f.name)), f))
    return sorted(out)


def _hour_key(ms: int) -> tuple[str, int]:
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%Y%m%d"), t.hour


@dataclass(frozen=True)
class Line:
    text: bytes
    file: Path
    offset: int


class LineTail:
    """Complete lines of a stream folder, in order, as the node appends them."""

    def __init__(self, folder: Path, since_ms: int | None = None):
        self.folder = folder
        self.since = None if since_ms is None else _hour_key(since_ms - 3_600_000)
        self._key: tuple[str, int] | None = None
        self._file: Path | None = None
        self._offset = 0

    def lines(self) -> Iterator[Line | None]:
        """Each complete line; None when there is nothing new yet (a follower polls again later)."""
        while True:
            if self._file is None and not self._open_next():
                yield None
                continue
            assert self._file is not None
            with open(self._file, "rb") as f:
                f.seek(self._offset)
                data = f.read()
            end = data.rfind(b"\n")
            if end >= 0:
                start = 0
                for chunk in data[: end + 1].split(b"\n")[:-1]:
                    line = Line(chunk, self._file, self._offset + start)
                    start += len(chunk) + 1
                    if chunk.strip():
                        yield line
                self._offset += end + 1
                continue
            if self._open_next(partial=data):
                continue
            yield None

    def _open_next(self, partial: bytes = b"") -> bool:
        """Move to the next file if one exists; a partial line left in the current one is an error."""
        for key, path in hourly_files(self.folder):
            if (self._key is not None and key <= self._key) or (self.since is not None and key < self.since):
                continue
            cut = (self._file, self._offset)
            self._key, self._file, self._offset = key, path, 0
            if partial.strip():  # reported once: reading goes on in the next file
                raise StreamError(f"truncated line ({len(partial)} bytes without a newline) before the next "
                                  f"file {path.parent.name}/{path.name} began", *cut)
            return True
        return False


@dataclass(frozen=True)
class Block:
    number: int
    time_ms: int
    events: list
    file: Path
    offset: int

    @property
    def where(self) -> str:
        return f"{self.file} at byte {self.offset}"


def parse_json(line: Line) -> Any:
    try:
        return json.loads(line.text)
    except ValueError as exc:
        raise StreamError(f"not a JSON line ({exc.args[0][:80]})", line.file, line.offset) from None


def node_ms(value: Any, line: Line | None) -> int:
    """A node time (ISO 8601, nanoseconds, no zone = UTC) or ms integer, as UTC ms."""
    if isinstance(value, int):
        return value
    try:
        return int(parse_iso(value).timestamp() * 1000) if isinstance(value, str) else _bad()
    except ValueError:
        raise StreamError(f"bad time {value!r}", line and line.file, line and line.offset) from None


def _bad():
    raise ValueError


def block_of(obj: Any, line: Line) -> Block:
    """A block batch line: `{local_time, block_time, block_number, events}` or a replica_cmds line
    `{abci_block{time, round, ...}, resps}` (`round` read as the block number: ours, unverified)."""
    if isinstance(obj, dict) and "abci_block" in obj:
        ab = obj["abci_block"]
        if not isinstance(ab, dict) or not isinstance(ab.get("round"), int):
            raise StreamError("replica_cmds line without abci_block.round", line.file, line.offset)
        return Block(ab["round"], node_ms(ab.get("time"), line), ab.get("signed_action_bundles") or [],
                     line.file, line.offset)
    if not isinstance(obj, dict):
        raise StreamError(f"expected a block batch object, found {type(obj).__name__}", line.file, line.offset)
    missing = [k for k in ("block_number", "block_time", "events") if k not in obj]
    if missing:
        raise StreamError(f"block batch without {missing}", line.file, line.offset)
    if not isinstance(obj["block_number"], int) or not isinstance(obj["events"], list):
        raise StreamError("block_number must be an integer and events a list", line.file, line.offset)
    return Block(obj["block_number"], node_ms(obj["block_time"], line), obj["events"], line.file, line.offset)


class BlockStream:
    """Blocks of one stream, checked to follow each other by exactly one number."""

    def __init__(self, folder: Path, after: int | None = None, since_ms: int | None = None):
        self.folder = folder
        self.tail = LineTail(folder, since_ms)
        self.last = after  # the last block handed over (or skipped)
        self._lines = self.tail.lines()

    def next(self) -> Block | None:
        """The next block, None if it is not written yet. Raises StreamError / StreamGap."""
        while True:
            try:
                line = next(self._lines)
            except StreamError:
                self._lines = self.tail.lines()  # the tail has moved past the bad part
                raise
            if line is None:
                return None
            block = block_of(parse_json(line), line)
            if self.last is not None:
                if block.number <= self.last:
                    if self._skipping:
                        continue
                    raise StreamError(f"block {block.number} out of order after block {self.last}",
                                      line.file, line.offset)
                if block.number != self.last + 1:
                    gap = StreamGap(f"gap: block {block.number} follows block {self.last} "
                                    f"({block.number - self.last - 1} missing)", line.file, line.offset)
                    self.last = block.number
                    self._skipping = False
                    raise gap
            self._skipping = False
            self.last = block.number
            return block

    _skipping = True  # until the first block after `after`: earlier ones are skipped, not errors


def fill_lines(folder: Path) -> Iterator[tuple[str, dict, Line]]:
    """The hourly `node_fills` form: one `[user, fill]` a line, no block numbers (not replayable)."""
    for line in LineTail(folder).lines():
        if line is None:
            return
        obj = parse_json(line)
        if not (isinstance(obj, list) and len(obj) == 2 and isinstance(obj[0], str) and isinstance(obj[1], dict)):
            raise StreamError("expected [user, fill]", line.file, line.offset)
        yield obj[0].lower(), obj[1], line
