"""One forward-only cursor over a state document, MessagePack or JSON, so the walk is written once.

A node's state is ~1.1 GB of MessagePack (~5.5 GB as JSON): it is never loaded whole. The walker asks
for the keys of a map or the items of a list one at a time and, for each, either `read()`s the value
(a user state, a meta: small) or `skip()`s it (order books, EVM state: large). MessagePack goes through
`msgpack.Unpacker` (header reads and `skip` in C); JSON through ijson's event stream.

    for key in cursor.map_keys("exchange"):     # after each key, consume its value exactly once
        if key == "locus": ...                  # descend: map_keys / array_items
        else: cursor.skip()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import ijson
import msgpack

from hltracker.sources.hyperliquid_node.errors import NodeLayoutError, NodeStateError, TruncatedStateError

READ_SIZE = 1 << 18  # bytes per read from the file
# The largest single value the walker reads whole (a user state, a meta); sections are streamed.
MAX_BUFFER = 256 << 20
KIND_NAMES = {"map": "map", "array": "list", "scalar": "single value"}


class Cursor(Protocol):
    format: str  # "rmp" | "json"

    def kind(self) -> str:
        """What comes next: "map", "array" or "scalar" (consumes nothing)."""
        ...

    def map_keys(self, path: str) -> Iterator[Any]:
        """The keys of the map that comes next; the caller consumes each key's value in between."""
        ...

    def array_items(self, path: str) -> Iterator[int]:
        """The indexes of the list that comes next; the caller consumes each item in between."""
        ...

    def read(self) -> Any:
        """The next value, whole."""
        ...

    def skip(self) -> None:
        """Pass over the next value."""
        ...


class MsgpackCursor:
    format = "rmp"

    def __init__(self, f: BinaryIO):
        self._u = msgpack.Unpacker(f, raw=False, strict_map_key=False, read_size=READ_SIZE,
                                   max_buffer_size=MAX_BUFFER)
        self._pending: tuple[str, int] | None = None  # a container header read by kind()

    def kind(self) -> str:
        if self._pending is None:
            try:
                self._pending = ("map", self._u.read_map_header())
            except ValueError:  # not a map: the header is left unread
                try:
                    self._pending = ("array", self._u.read_array_header())
                except ValueError:
                    return "scalar"
        return self._pending[0]

    def _header(self, want: str, path: str) -> int:
        found = self.kind()
        if found != want:
            raise NodeLayoutError(f"{path}: expected a {KIND_NAMES[want]}, found a {KIND_NAMES[found]}")
        assert self._pending is not None
        n = self._pending[1]
        self._pending = None
        return n

    def map_keys(self, path: str) -> Iterator[Any]:
        for _ in range(self._header("map", path)):
            yield self._u.unpack()

    def array_items(self, path: str) -> Iterator[int]:
        yield from range(self._header("array", path))

    def read(self) -> Any:
        if self._pending is None:
            return self._u.unpack()
        kind, n = self._pending
        self._pending = None
        unpack = self._u.unpack
        if kind == "map":
            return {unpack(): unpack() for _ in range(n)}
        return [unpack() for _ in range(n)]

    def skip(self) -> None:
        if self._pending is None:
            self._u.skip()
            return
        kind, n = self._pending
        self._pending = None
        for _ in range(2 * n if kind == "map" else n):
            self._u.skip()


_STARTS = {"start_map": "map", "start_array": "array"}
_ENDS = ("end_map", "end_array")


class JsonCursor:
    format = "json"

    def __init__(self, f: BinaryIO, backend: str = "yajl2_c"):
        parse = ijson.get_backend(backend).basic_parse
        self._events = iter(parse(f, use_float=True, buf_size=READ_SIZE))
        self._peeked: tuple[str, Any] | None = None

    def _next(self) -> tuple[str, Any]:
        if self._peeked is not None:
            event, self._peeked = self._peeked, None
            return event
        try:
            return next(self._events)
        except StopIteration:
            raise TruncatedStateError("the JSON document ends early") from None

    def kind(self) -> str:
        if self._peeked is None:
            self._peeked = self._next()
        return _STARTS.get(self._peeked[0], "scalar")

    def _open(self, want: str, path: str) -> None:
        found = self.kind()
        if found != want:
            raise NodeLayoutError(f"{path}: expected a {KIND_NAMES[want]}, found a {KIND_NAMES[found]}")
        self._next()

    def map_keys(self, path: str) -> Iterator[Any]:
        self._open("map", path)
        while True:
            event, value = self._next()
            if event == "end_map":
                return
            yield value

    def array_items(self, path: str) -> Iterator[int]:
        self._open("array", path)
        i = 0
        while True:
            self.kind()  # peek
            if self._peeked is not None and self._peeked[0] == "end_array":
                self._next()
                return
            yield i
            i += 1

    def read(self) -> Any:
        return self._build(*self._next())

    def _build(self, event: str, value: Any) -> Any:
        if event == "start_map":
            obj = {}
            while True:
                event, key = self._next()
                if event == "end_map":
                    return obj
                obj[key] = self._build(*self._next())
        if event == "start_array":
            items = []
            while True:
                event, value = self._next()
                if event == "end_array":
                    return items
                items.append(self._build(event, value))
        return value

    def skip(self) -> None:
        event, _ = self._next()
        if event not in _STARTS:
            return
        depth = 1
        while depth:
            event, _ = self._next()
            if event in _STARTS:
                depth += 1
            elif event in _ENDS:
                depth -= 1


def sniff_format(f: BinaryIO) -> str:
    """"json" when the document starts with `{` or `[` (after blanks), else "rmp": a MessagePack document
    cannot start with those bytes, which are small integers there."""
    head = f.read(64).lstrip()
    f.seek(0)
    return "json" if head[:1] in (b"{", b"[") else "rmp"


class JsonNeedsPythonBackend(Exception):
    """yajl's C parser stops at integers beyond 64 bits; the caller reads again with ijson's Python one."""


@contextmanager
def open_cursor(path: Path, json_backend: str = "yajl2_c") -> Iterator[Cursor]:
    """A cursor over the state file at `path`; decoding failures inside the block become `NodeStateError`s."""
    with open(path, "rb") as f:
        fmt = sniff_format(f)
        cursor: Cursor = JsonCursor(f, json_backend) if fmt == "json" else MsgpackCursor(f)
        try:
            yield cursor
        except msgpack.OutOfData:
            raise TruncatedStateError("the MessagePack document ends early") from None
        except msgpack.UnpackException as exc:
            raise NodeStateError(f"not valid MessagePack: {exc}") from exc
        except ijson.JSONError as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "integer overflow" in text and json_backend != "python":
                raise JsonNeedsPythonBackend(text) from exc
            if "premature EOF" in text:
                raise TruncatedStateError("the JSON document ends early") from None
            raise NodeStateError(f"not valid JSON: {text}") from exc
        except UnicodeDecodeError as exc:
            raise NodeStateError(f"a string is not valid UTF-8: {exc}") from exc
