"""Numbered schema migrations, one folder per backend: `<backend>/NNNN_name.sql`.

A backend applies the ones its `schema_migrations` table does not list yet, in version order, each in
its own transaction together with its `schema_migrations` row, so a crash leaves every migration
either applied and recorded or not applied at all. Versions count 1, 2, 3, ... without gaps; a file is
never edited once released (add the next number instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from hltracker.store.base import StoreError

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(backend: str) -> list[Migration]:
    """The migrations of `backend` (a folder name here, e.g. "duckdb"), in version order."""
    folder = resources.files(__package__) / backend
    found = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise ValueError(f"{backend} migrations must be numbered 1, 2, 3, ... without gaps; found {versions}")
    return found


def pending(backend: str, applied: set[int], where: str) -> list[Migration]:
    """The migrations of `backend` not in `applied`, in order; StoreError when the database at `where`
    has a version this code does not know (it is newer than this hltracker)."""
    known = migrations(backend)
    if applied - {m.version for m in known}:
        raise StoreError(f"{where}: the database has schema version {max(applied)}, newer than this hltracker "
                         f"knows ({len(known)}); upgrade hltracker")
    return [m for m in known if m.version not in applied]


def check_current(backend: str, applied: set[int], where: str) -> None:
    """A read-only open cannot migrate: StoreError unless `applied` is exactly this code's versions."""
    known = {m.version for m in migrations(backend)}
    if applied != known:
        raise StoreError(f"{where}: schema versions {sorted(applied)} differ from this hltracker's "
                         f"{sorted(known)}; open it once for writing (e.g. run ingest) to migrate")
