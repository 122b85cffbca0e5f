"""Reading the dashboard's HTML in tests: heat cells, table rows, tiles, chart options, CSV links."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from html.parser import HTMLParser


class Elements(HTMLParser):
    """Every start tag with its attributes, with the `data-coin` of the table row it is in."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[dict] = []
        self._coin: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr":
            self._coin = a.get("data-coin")
        self.found.append({"tag": tag, "coin": self._coin, **a})

    def with_class(self, tag: str, cls: str) -> list[dict]:
        return [e for e in self.found if e["tag"] == tag and cls in (e.get("class") or "").split()]


def heat_cells(html: str) -> dict[tuple[str, int], dict]:
    """(coin, segment id) -> the cell's data attributes of the heatmap table."""
    return {(e["coin"], int(e["data-segment"])): e for e in Elements(html).with_class("td", "cell")
            if "data-segment" in e}


def heat_rows(html: str) -> list[str]:
    return [e["data-coin"] for e in Elements(html).found if e["tag"] == "tr" and e.get("data-coin")]


def number(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def chart_option(html: str, panel_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="option-{re.escape(panel_id)}">(.*?)</script>', html, re.S)
    assert match, f"no chart {panel_id}"
    return json.loads(match.group(1))


def csv_links(html: str) -> dict[str, str]:
    """panel id -> its CSV link."""
    out = {}
    for e in Elements(html).found:
        if e["tag"] == "section" and e.get("data-panel"):
            current = e["data-panel"]
        if e["tag"] == "a" and "csv" in (e.get("class") or "").split():
            out[current] = unescape(e["href"])
    return out


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def tiles(html: str) -> dict[str, float | None]:
    return {e["data-key"]: number(e.get("data-value")) for e in Elements(html).with_class("div", "tile")}
