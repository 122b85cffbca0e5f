"""What a page is made of: panels (tiles, tables, charts, heat tables), each with its own rows for CSV.

Every panel keeps the rows it shows (`rows`, keyed by `columns`); its CSV link serves exactly those
rows (`to_csv`), so a download is the view, not a re-query.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Column:
    key: str
    label: str
    # text, usd, num, pct, price, time, seconds, coin, wallet, cohort, side, split, progress, badges, qty, flag
    kind: str = "text"
    sortable: bool = True


@dataclass
class Panel:
    id: str
    title: str
    kind: str  # tiles, table, chart, heat, risk, cards, facts
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    option: dict[str, Any] | None = None  # the ECharts option of a chart panel
    extra: dict[str, Any] = field(default_factory=dict)  # what a special template needs (tiles, heat cells)
    wide: bool = False
    empty: str = "No rows."  # what the panel says when it has no rows

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        keys = [c.key for c in self.columns]
        writer.writerow(keys)
        for row in self.rows:
            writer.writerow(["" if row.get(k) is None else _cell(row.get(k)) for k in keys])
        return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return " ".join(map(str, value))
    return value


@dataclass
class Page:
    title: str
    panels: list[Panel]
    heading: str = ""
    subtitle: str = ""

    def panel(self, panel_id: str) -> Panel | None:
        return next((p for p in self.panels if p.id == panel_id), None)


def time_chart(
    series: list[dict[str, Any]], *, y_axes: list[dict[str, Any]] | None = None, zoom: bool = True
) -> dict[str, Any]:
    """An ECharts option over a time axis; each series' `data` is `[[iso time, value], ...]` oldest first."""
    option: dict[str, Any] = {
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 8, "top": 48, "bottom": 56 if zoom else 24, "containLabel": True},
        "xAxis": {"type": "time"},
        "yAxis": y_axes or [{"type": "value"}],
        "series": [{"showSymbol": False, "sampling": "lttb", **s} for s in series],
    }
    if zoom:
        option["dataZoom"] = [{"type": "inside"}, {"type": "slider", "height": 18, "bottom": 8}]
    return option


def category_chart(
    categories: list[str],
    series: list[dict[str, Any]],
    *,
    horizontal: bool = False,
    y_axes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An ECharts option over category bars (cohorts, size buckets, price bins, coins)."""
    category_axis = {"type": "category", "data": categories, "inverse": horizontal}  # first category on top
    value_axes = y_axes or [{"type": "value"}]
    return {
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 8, "top": 48, "bottom": 24, "containLabel": True},
        "xAxis": value_axes[0] if horizontal else category_axis,
        "yAxis": category_axis if horizontal else value_axes,
        "series": series,
    }
