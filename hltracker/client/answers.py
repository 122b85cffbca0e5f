"""Answers: a page of a list route (`Page`), a downloaded file (`Download`).

A page's `items` are the JSON rows, or the typed records of `records.py` on a client made with
`typed=True`; `Page.typed()` gives the records either way, and frames are always built from the JSON.

`.to_polars()` imports polars only when called (it is a core dependency of hltracker but not needed
to use the client); `.to_pandas()` needs pandas installed.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from .records import Record


def _polars():
    try:
        import polars
    except ImportError as missing:  # pragma: no cover - polars ships with hltracker
        raise ImportError("to_polars() needs polars: pip install polars") from missing
    return polars


def _frame(rows: list[Any], columns: list[str] | None = None):
    pl = _polars()
    if columns is not None:  # rows are arrays (bias history): name the columns
        return pl.DataFrame(rows, schema=columns, orient="row")
    return pl.DataFrame(rows, infer_schema_length=None)


@dataclass(frozen=True)
class Page:
    """One answer of a list route: its `items`, the cursor or total to go on, and the whole JSON."""

    items: list[Any]
    next_cursor: str | None = None
    total_count: int | None = None
    raw: dict[str, Any] | list[Any] = field(default_factory=dict, repr=False)
    columns: list[str] | None = None  # the names of array rows (`historySnapshotStructure`)
    record: type[Record] | None = field(default=None, repr=False)  # the typed record of a row, if any
    rows: list[Any] | None = field(default=None, repr=False)  # the JSON rows when `items` are records

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    @property
    def json_rows(self) -> list[Any]:
        """The rows as the server sent them (the same as `items` unless the client is typed)."""
        return self.items if self.rows is None else self.rows

    def typed(self) -> list[Any]:
        """The rows as typed records (`Position`, `Wallet`, ...); a TypeError for a route without one."""
        if self.record is None:
            raise TypeError("this route's rows have no typed record; use .items")
        return [self.record.from_json(row) for row in self.json_rows]

    def to_polars(self):
        return _frame(self.json_rows, self.columns)

    def to_pandas(self):
        return self.to_polars().to_pandas()


def page_of(body: Any, key: str | None, record: type[Record] | None = None, typed: bool = False) -> Page:
    """Wrap a list route's JSON; `key` names the list (`positions`, `metrics`, ...), None for a bare list.

    With `typed` (and a `record`), `items` are records and `rows` keeps the JSON.
    """
    rows = list(body) if key is None else list(body[key])
    items = [record.from_json(row) for row in rows] if typed and record else rows
    kept = rows if items is not rows else None
    if key is None:
        return Page(items, raw=body, record=record, rows=kept)
    structure = body.get("historySnapshotStructure") if isinstance(body, dict) else None
    return Page(items, body.get("nextCursor"), body.get("totalCount"), body,
                [str(c) for c in structure] if isinstance(structure, list) else None, record, kept)


@dataclass(frozen=True)
class Download:
    """A downloaded file (the target of a 302 or a `downloadUrl`): its URL, content type and text."""

    url: str
    content_type: str
    text: str

    @property
    def is_csv(self) -> bool:
        return "csv" in self.content_type or not self.text.lstrip().startswith(("[", "{"))

    def rows(self) -> list[dict[str, Any]]:
        """The records: CSV rows as strings, JSON as parsed (an object file is one record)."""
        if self.is_csv:
            return list(csv.DictReader(io.StringIO(self.text)))
        body = json.loads(self.text)
        return body if isinstance(body, list) else [body]

    def json(self) -> Any:
        return json.loads(self.text)

    def to_polars(self):
        pl = _polars()
        if self.is_csv:
            return pl.read_csv(io.StringIO(self.text), infer_schema_length=None)
        return _frame(self.rows())

    def to_pandas(self):
        return self.to_polars().to_pandas()
