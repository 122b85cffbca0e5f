"""The snapshot-files layout: one folder of Parquet files per snapshot (docs/snapshot-files.md).

    <root>/
        20260321T001500.000Z/        snapshot_dir_name(taken_at): UTC, so lexical order is time order
            markets.parquet          one file per frame, columns and dtypes of FRAME_SCHEMAS
            accounts.parquet
            positions.parquet
            fills.parquet            only when the snapshot has a fills frame
            fundings.parquet         only when the snapshot has a fundings frame
            manifest.json            written last: its presence marks the folder complete; lists
                                     each file with its row count and SHA-256
        .tmp-20260321T001500.000Z-1a2b3c4d/   a write in progress; readers skip dot-folders

Errors:

    ValueError
    └── SnapshotFilesError   a folder that is not a readable, valid snapshot (names the folder and why)

`write_snapshot` raises `SnapshotError` (from the model) for a snapshot that breaks the contract:
nothing is written for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from hltracker.model import FRAME_SCHEMAS, NULLABLE, Snapshot, SnapshotError, conform, validate_snapshot

FORMAT = "hltracker-snapshot"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
REQUIRED_FRAMES = ("markets", "accounts", "positions")
OPTIONAL_FRAMES = ("fills", "fundings")
COMPRESSION = "zstd"
_DIR_NAME_FORMAT = "%Y%m%dT%H%M%S"
CHECKSUM = "sha256"  # the manifest key of a frame file's checksum: lowercase hex SHA-256 of its bytes
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")

log = logging.getLogger(__name__)
_warned_unchecked: set[str] = set()  # folders already reported as carrying no checksums


class SnapshotFilesError(ValueError):
    """A snapshot folder that cannot be read as a valid snapshot; `path` is the folder, `problems` the
    reasons (the contract's `SnapshotError.problems` when the frames break it)."""

    def __init__(self, path: Path | str, problems: list[str] | str):
        self.path = Path(path)
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(f"snapshot folder {str(self.path)!r}: " + "; ".join(self.problems))


# ---- names and timestamps ------------------------------------------------------------------------


def _utc(taken_at: datetime) -> datetime:
    if taken_at.tzinfo is None or taken_at.utcoffset() is None:
        raise ValueError(f"taken_at must be timezone-aware (UTC), got {taken_at!r}")
    return taken_at.astimezone(UTC)


def snapshot_dir_name(taken_at: datetime) -> str:
    """The folder name of the snapshot taken at `taken_at`: `20260321T001500.000Z` (UTC, milliseconds)."""
    t = _utc(taken_at)
    return f"{t.strftime(_DIR_NAME_FORMAT)}.{t.microsecond // 1000:03d}Z"


def format_taken_at(taken_at: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z: `2026-03-21T00:15:00.000Z` (the manifest's `taken_at`)."""
    t = _utc(taken_at)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_taken_at(text: str) -> datetime:
    """The UTC datetime of an ISO 8601 timestamp that carries a UTC offset (`Z` or `+00:00`, ...)."""
    t = datetime.fromisoformat(text)
    return _utc(t)


def list_snapshot_dirs(root: str | Path) -> list[Path]:
    """Every complete snapshot folder directly under `root`, in name (= time) order.

    A folder counts when its name does not start with a dot and it holds a `manifest.json`; anything
    else (temporary folders, folders still being copied, stray files) is skipped.
    """
    root = Path(root)
    if not root.is_dir():
        raise SnapshotFilesError(root, "no such folder")
    found = [
        entry
        for entry in root.iterdir()
        if not entry.name.startswith(".") and entry.is_dir() and (entry / MANIFEST).is_file()
    ]
    return sorted(found, key=lambda p: p.name)


# ---- writing -------------------------------------------------------------------------------------


def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema of a frame file: contract dtypes, non-nullable outside NULLABLE."""
    template = pl.DataFrame(schema=FRAME_SCHEMAS[name]).to_arrow().schema
    nullable = NULLABLE[name]
    return pa.schema([field.with_nullable(field.name in nullable) for field in template])


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # platforms that cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_frame(df: pl.DataFrame, name: str, path: Path) -> None:
    table = conform(df, name).to_arrow().cast(arrow_schema(name))
    with open(path, "wb") as f:
        pq.write_table(table, f, compression=COMPRESSION)
        f.flush()
        os.fsync(f.fileno())


def file_sha256(path: Path) -> str:
    """The lowercase hex SHA-256 of the file's bytes (the manifest's `sha256` of a frame file)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _manifest(snap: Snapshot, rows: Mapping[str, int], checksums: Mapping[str, str]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "taken_at": format_taken_at(snap.taken_at),
        "source": snap.source,
        "height": snap.height,
        "extra": dict(snap.extra),
        "frames": {name: {"rows": n, "file": f"{name}.parquet", CHECKSUM: checksums[name]}
                   for name, n in rows.items()},
    }


def _write_manifest(manifest: dict[str, Any], folder: Path) -> None:
    with open(folder / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename `tmp` to `final`, replacing a previous `final` (a directory rename cannot overwrite a
    non-empty directory, so the old one is first moved aside under a dot-name, then deleted)."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{secrets.token_hex(4)}")
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    _fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_snapshot(snap: Snapshot, root: str | Path) -> Path:
    """Write `snap` as a snapshot folder under `root` (created if missing) and return the folder.

    The frames are written into a temporary dot-folder, `manifest.json` last, and the folder is then
    renamed into place, so a reader sees either the whole snapshot or none of it. Writing a snapshot
    with the same `taken_at` again replaces the earlier folder. `taken_at` is kept to the millisecond.
    """
    validate_snapshot(snap)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    name = snapshot_dir_name(snap.taken_at)
    tmp = root / f".tmp-{name}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        rows, checksums = {}, {}
        for frame_name, df in snap.frames().items():
            path = tmp / f"{frame_name}.parquet"
            _write_frame(df, frame_name, path)
            rows[frame_name] = df.height
            checksums[frame_name] = file_sha256(path)
        _write_manifest(_manifest(snap, rows, checksums), tmp)
        _fsync_dir(tmp)
        final = root / name
        _move_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


# ---- reading -------------------------------------------------------------------------------------


def _load_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise SnapshotFilesError(folder, f"no {MANIFEST} (an incomplete or foreign folder)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotFilesError(folder, f"{MANIFEST} is not readable JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise SnapshotFilesError(folder, f"{MANIFEST} is not a JSON object")
    if manifest.get("format") != FORMAT:
        raise SnapshotFilesError(
            folder, f"{MANIFEST}: format is {manifest.get('format')!r}, expected {FORMAT!r}"
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise SnapshotFilesError(
            folder,
            f"{MANIFEST}: format_version {version!r} is not supported "
            f"(this hltracker reads format_version {FORMAT_VERSION}; upgrade hltracker for newer files)",
        )
    return manifest


def _manifest_fields(folder: Path, manifest: dict[str, Any]) -> tuple[datetime, str, int | None, dict]:
    problems = []
    taken_at = None
    try:
        taken_at = parse_taken_at(manifest.get("taken_at"))
    except (TypeError, ValueError):
        problems.append(
            f"taken_at {manifest.get('taken_at')!r} is not an ISO 8601 UTC timestamp "
            "such as '2026-03-21T00:15:00.000Z'"
        )
    source = manifest.get("source")
    if not isinstance(source, str) or not source:
        problems.append(f"source {source!r} is not a non-empty string")
    height = manifest.get("height")
    if height is not None and (isinstance(height, bool) or not isinstance(height, int)):
        problems.append(f"height {height!r} is neither an integer nor null")
    extra = manifest.get("extra", {})
    if not isinstance(extra, dict):
        problems.append(f"extra {extra!r} is not a JSON object")
    if problems:
        raise SnapshotFilesError(folder, [f"{MANIFEST}: {p}" for p in problems])
    return taken_at, source, height, extra


def _frame_entries(folder: Path, manifest: dict[str, Any]) -> dict[str, tuple[Path, int, str | None]]:
    """Per frame listed: (its file, its row count, its SHA-256 or None when the manifest has none)."""
    frames = manifest.get("frames")
    if not isinstance(frames, dict):
        raise SnapshotFilesError(folder, f"{MANIFEST}: frames is missing or not a JSON object")
    problems = []
    known = REQUIRED_FRAMES + OPTIONAL_FRAMES
    problems += [f"{MANIFEST}: unknown frame {n!r} (known: {list(known)})" for n in frames if n not in known]
    problems += [f"{MANIFEST}: frame {n!r} is missing" for n in REQUIRED_FRAMES if n not in frames]
    entries = {}
    for name in known:
        entry = frames.get(name)
        if entry is None:
            continue
        file, rows, digest = ((entry.get("file"), entry.get("rows"), entry.get(CHECKSUM))
                              if isinstance(entry, dict) else (None, None, None))
        if not isinstance(file, str) or not file or Path(file).name != file or file.startswith("."):
            problems.append(f"{MANIFEST}: frames.{name}.file {file!r} is not a file name in the folder")
        elif isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            problems.append(f"{MANIFEST}: frames.{name}.rows {rows!r} is not a row count")
        elif digest is not None and not (isinstance(digest, str) and _HEX_DIGEST.match(digest)):
            problems.append(f"{MANIFEST}: frames.{name}.{CHECKSUM} {digest!r} is not 64 lowercase hex digits")
        else:
            entries[name] = (folder / file, rows, digest)
    if problems:
        raise SnapshotFilesError(folder, problems)
    return entries


def _column_expr(col: str, got: pl.DataType, want: pl.DataType) -> pl.Expr | None:
    """How to bring column `col` of dtype `got` to the contract dtype `want`; None when it cannot."""
    c = pl.col(col)
    if got == want:
        return c
    if got == pl.Null:
        return c.cast(want)
    if want == pl.Float64 and got.is_numeric():
        return c.cast(want)
    if want.is_integer() and got.is_integer():
        return c.cast(want, strict=True)
    if want == pl.String and isinstance(got, pl.Categorical | pl.Enum):
        return c.cast(want)
    if isinstance(want, pl.Datetime) and isinstance(got, pl.Datetime):
        utc = c.dt.replace_time_zone("UTC") if got.time_zone is None else c.dt.convert_time_zone("UTC")
        return utc.dt.cast_time_unit(want.time_unit)
    return None


def _conform_file(df: pl.DataFrame, name: str) -> tuple[pl.DataFrame | None, list[str]]:
    """`df` cast to the contract schema (columns in contract order, extra columns dropped), or the
    reasons it cannot be: missing columns, or dtypes that do not safely convert."""
    problems, exprs = [], []
    for col, want in FRAME_SCHEMAS[name].items():
        if col not in df.schema:
            problems.append(f"{name}: missing column {col!r}")
            continue
        expr = _column_expr(col, df.schema[col], want)
        if expr is None:
            problems.append(f"{name}.{col}: expected {want}, got {df.schema[col]}")
        else:
            exprs.append(expr.alias(col))
    if problems:
        return None, problems
    try:
        return df.select(exprs), []
    except pl.exceptions.PolarsError as exc:
        return None, [f"{name}: cannot convert to the contract dtypes: {exc}"]


def _read_frame(name: str, path: Path, rows: int, digest: str | None) -> tuple[pl.DataFrame | None, list[str]]:
    if not path.is_file():
        return None, [f"{name}: file {path.name!r} is missing"]
    if digest is not None:
        actual = file_sha256(path)
        if actual != digest:
            return None, [f"{name}: {path.name!r} does not match its {CHECKSUM} in {MANIFEST} (the file has "
                          f"{actual}, the manifest says {digest}): it changed or was damaged after it was written"]
    try:
        df = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        return None, [f"{name}: {path.name!r} is not a readable Parquet file: {exc}"]
    if df.height != rows:
        return None, [f"{name}: {path.name!r} has {df.height} rows, the manifest says {rows}"]
    return _conform_file(df, name)


def _warn_unchecked(folder: Path, names: list[str]) -> None:
    """Folders written before checksums (or by a producer without them) are read, with one warning each."""
    key = str(folder.resolve())
    if names and key not in _warned_unchecked:
        _warned_unchecked.add(key)
        log.warning("snapshot folder %s: no %s checksum in %s for %s; read without checking the files",
                    folder, CHECKSUM, MANIFEST, ", ".join(names))


def read_snapshot(folder: str | Path) -> Snapshot:
    """The snapshot stored in `folder`, its frames in the contract's exact schema, validated.

    Raises `SnapshotFilesError` naming the folder and every reason when the manifest is missing or of
    an unknown format or version, a frame file is missing, unreadable or does not match its checksum,
    or the frames break the contract. A frame without a checksum is read unchecked (one warning per
    folder).
    """
    folder = Path(folder)
    manifest = _load_manifest(folder)
    taken_at, source, height, extra = _manifest_fields(folder, manifest)
    frames, problems = {}, []
    entries = _frame_entries(folder, manifest)
    _warn_unchecked(folder, [name for name, (_, _, digest) in entries.items() if digest is None])
    for name, (path, rows, digest) in entries.items():
        df, found = _read_frame(name, path, rows, digest)
        problems += found
        frames[name] = df
    if problems:
        raise SnapshotFilesError(folder, problems)
    snap = Snapshot(
        taken_at=taken_at,
        source=source,
        markets=frames["markets"],
        accounts=frames["accounts"],
        positions=frames["positions"],
        fills=frames.get("fills"),
        fundings=frames.get("fundings"),
        height=height,
        extra=extra,
    )
    try:
        return validate_snapshot(snap)
    except SnapshotError as exc:
        raise SnapshotFilesError(folder, ["snapshot breaks the contract", *exc.problems]) from exc
