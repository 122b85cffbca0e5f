"""`ExportFiles`: the export files on disk, built once per snapshot and served from there.

Layout under `root`, one folder per snapshot id:

    <root>/<snapshot_id>/<name><suffix>                      global files
    <root>/<snapshot_id>/coins/<coin slug>/<name><suffix>    per-coin files

A file is built on its first request (to a hidden temp file in the same folder, then `os.replace`,
so a reader never sees half a file) and reused after; a per-file lock makes concurrent first requests
build it once. When a snapshot is first seen, the folders of all but the newest `keep_snapshots`
snapshots are removed. `resolve` maps a relative path back to a file and never leaves `root`.

Several API servers (each with its own `root`, one store) can serve each other's links: `rebuild_latest`
builds a file another server named, parsed strictly by `parse_relative_path`, when it is of the latest
snapshot. An older snapshot's file cannot be rebuilt: the current tables hold only the latest rows.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import string
import tempfile
import threading
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from hltracker.exports.base import ExportError, ExportSpec
from hltracker.exports.registry import EXPORTS
from hltracker.store import SnapshotInfo, Store

_SLUG_SAFE = frozenset(string.ascii_letters + string.digits)
_SLUG_MAX = 200
_SLUG_SYNTAX = re.compile(r"(?:[A-Za-z0-9]|_[0-9A-F]{2})+")
_SLUG_ESCAPE = re.compile(r"_([0-9A-F]{2})")
_SNAPSHOT_ID_DIGITS = 19  # a BIGINT


def coin_slug(coin: str) -> str:
    """A file- and URL-safe folder name for a coin: `[A-Za-z0-9]` kept, every other UTF-8 byte as `_XX`.

    `xyz:GOLD` -> `xyz_3AGOLD`, `kPEPE` -> `kPEPE`. `_` itself is escaped, so distinct coins get
    distinct slugs, and a slug is never `.`, `..` or holds a `/`. (Case is kept: the cache assumes a
    case-sensitive file system, as Linux has.)
    """
    if not coin:
        raise ExportError("empty coin")
    slug = "".join(
        ch if ch in _SLUG_SAFE else "".join(f"_{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        for ch in coin
    )
    if len(slug) > _SLUG_MAX:
        raise ExportError("coin name too long")
    return slug


def coin_from_slug(slug: str) -> str:
    """The coin whose `coin_slug` is `slug`: `xyz_3AGOLD` -> `xyz:GOLD`, `a_5Fb` -> `a_b`.

    ExportError for any text `coin_slug` never writes: a bare `_`, lowercase hex, an escaped letter or
    digit (`_42TC`), escapes that are not UTF-8, or more than 200 characters.
    """
    if not isinstance(slug, str) or len(slug) > _SLUG_MAX or not _SLUG_SYNTAX.fullmatch(slug):
        raise ExportError("bad coin slug")
    raw = _SLUG_ESCAPE.sub(lambda m: chr(int(m[1], 16)), slug).encode("latin-1")
    try:
        coin = raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise ExportError("bad coin slug") from None
    if coin_slug(coin) != slug:
        raise ExportError("bad coin slug")
    return coin


class ExportPath(NamedTuple):
    """What a relative path names: a snapshot, an export, and the coin (None for a market-wide file)."""

    snapshot_id: int
    spec: ExportSpec
    coin: str | None


class ExportFiles:
    """The per-snapshot file cache of the exports in `EXPORTS`, built from `store`."""

    def __init__(self, root: Path, store: Store, keep_snapshots: int = 2):
        if keep_snapshots < 1:
            raise ValueError("keep_snapshots must be at least 1")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._real_root = self.root.resolve()
        self.store = store
        self.keep_snapshots = keep_snapshots
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._seen: set[int] = set()

    def path_for(self, snapshot: SnapshotInfo, name: str, coin: str | None) -> str:
        """The relative path of the file `name` (for `coin`) at `snapshot`, building it on first request."""
        spec = _spec(name, coin)
        relative = relative_path(snapshot.snapshot_id, spec, coin)
        target = self._real_root / relative
        if target.is_file():
            return relative
        self._enter(snapshot.snapshot_id)
        with self._lock(relative):
            if not target.is_file():
                self._build(spec, snapshot, coin, target)
        return relative

    def resolve(self, relative: str) -> Path:
        """The file at `relative` under root; ExportError for anything absolute, escaping, hidden or missing."""
        if not isinstance(relative, str) or not relative or "\x00" in relative or "\\" in relative:
            raise ExportError("bad export path")
        pure = PurePosixPath(relative)
        if pure.is_absolute() or any(part.startswith(".") for part in pure.parts):
            raise ExportError("bad export path")
        try:
            path = (self._real_root / pure).resolve(strict=True)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ExportError("no such export file") from exc
        if not path.is_relative_to(self._real_root) or not path.is_file():
            raise ExportError("no such export file")
        return path

    def rebuild_latest(self, relative: str, latest: SnapshotInfo) -> Path:
        """The file at `relative`, built here when it names a file of `latest` (a link another server made
        over the same store); ExportError for any other path, an older snapshot's file included."""
        parsed = parse_relative_path(relative)
        if parsed.snapshot_id != latest.snapshot_id:
            raise ExportError("not a file of the latest snapshot")
        return self.resolve(self.path_for(latest, parsed.spec.name, parsed.coin))

    def _build(self, spec: ExportSpec, snapshot: SnapshotInfo, coin: str | None, target: Path) -> None:
        data = spec.build(self.store, snapshot, coin)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _lock(self, relative: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(relative, threading.Lock())

    def _enter(self, snapshot_id: int) -> None:
        """On the first request for a snapshot, drop the folders of snapshots older than the newest kept."""
        with self._guard:
            if snapshot_id in self._seen:
                return
            self._seen.add(snapshot_id)
            present = {int(p.name) for p in self._real_root.iterdir() if p.is_dir() and p.name.isdigit()}
            newest = sorted(present | {snapshot_id}, reverse=True)[: self.keep_snapshots]
            for old in present - set(newest) - {snapshot_id}:
                shutil.rmtree(self._real_root / str(old), ignore_errors=True)
                self._seen.discard(old)
                prefix = f"{old}/"
                for key in [k for k in self._locks if k.startswith(prefix)]:
                    del self._locks[key]


def _spec(name: str, coin: str | None) -> ExportSpec:
    spec = EXPORTS.get(name)
    if spec is None:
        raise ExportError(f"unknown export {name!r}")
    if spec.per_coin and coin is None:
        raise ExportError(f"export {name!r} needs a coin")
    if not spec.per_coin and coin is not None:
        raise ExportError(f"export {name!r} is not per coin")
    return spec


_BY_FILENAME: dict[str, ExportSpec] = {f"{spec.name}{spec.suffix}": spec for spec in EXPORTS.values()}


def relative_path(snapshot_id: int, spec: ExportSpec, coin: str | None) -> str:
    """`<snapshot_id>/<name><suffix>` or `<snapshot_id>/coins/<coin slug>/<name><suffix>`."""
    filename = f"{spec.name}{spec.suffix}"
    if coin is None:
        return f"{int(snapshot_id)}/{filename}"
    return f"{int(snapshot_id)}/coins/{coin_slug(coin)}/{filename}"


def parse_relative_path(relative: str) -> ExportPath:
    """The inverse of `relative_path`: ExportError unless `relative_path` gives exactly `relative` back
    (no leading zero, other folder, wrong suffix, coin given to a market-wide file or missing, ...)."""
    parts = relative.split("/") if isinstance(relative, str) else []
    if len(parts) not in (2, 4) or (len(parts) == 4 and parts[1] != "coins"):
        raise ExportError("not an export file path")
    head, spec = parts[0], _BY_FILENAME.get(parts[-1])
    if spec is None or not (head.isascii() and head.isdigit() and len(head) <= _SNAPSHOT_ID_DIGITS):
        raise ExportError("not an export file path")
    coin = coin_from_slug(parts[2]) if len(parts) == 4 else None
    parsed = ExportPath(int(head), _spec(spec.name, coin), coin)
    if relative_path(*parsed) != relative:
        raise ExportError("not an export file path")
    return parsed
