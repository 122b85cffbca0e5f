"""Typed answers: a page of a list route (`Page`), a downloaded file (`Download`).

`.to_polars()` imports polars only when called (it is a core dependency of hltracker but not needed
to use the client); `.to_pandas()` needs pandas installed.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any


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

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def to_polars(self):
        return _frame(self.items, self.columns)

    def to_pandas(self):
        return self.to_polars().to_pandas()


def page_of(body: Any, key: str | None) -> Page:
    """Wrap a list route's JSON; `key` names the list (`positions`, `metrics`, ...), None for a bare list."""
    if key is None:
        return Page(list(body), raw=body)
    structure = body.get("historySnapshotStructure") if isinstance(body, dict) else None
    return Page(list(body[key]), body.get("nextCursor"), body.get("totalCount"), body,
                [str(c) for c in structure] if isinstance(structure, list) else None)


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
