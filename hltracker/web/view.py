"""The state of a view, all of it in the URL: a link reproduces what the reader saw.

| parameter | values | default | meaning |
|---|---|---|---|
| `window` | all, 24h, 7d, 30d | all | position age: only positions (or wallets' positions) opened within it |
| `span` | 24h, 7d, 30d, all | 7d | how far back the time-series charts go |
| `metric` | bias, value, count | bias | what a heatmap cell shows (its colour is always the bias) |
| `sort` | value, bias, name (heatmap); risk, value, name (liquidations) | value / risk | row order |
| `min` | a number | 0 | hide coins whose open interest is below it (USD) |
| `coin` | a coin | the largest | the liquidation page's coin |
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import timedelta
from urllib.parse import urlencode

from hltracker.api.errors import bad_request

WINDOWS = ("all", "24h", "7d", "30d")
SPANS: dict[str, timedelta | None] = {
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
METRICS = ("bias", "value", "count")
SORTS = ("value", "bias", "name", "risk")


@dataclass(frozen=True)
class View:
    window: str = "all"
    span: str = "7d"
    metric: str = "bias"
    sort: str = ""
    min: float = 0.0
    coin: str = ""

    @classmethod
    def from_query(cls, query: dict[str, str]) -> View:
        window = query.get("window") or "all"
        span = query.get("span") or "7d"
        metric = query.get("metric") or "bias"
        sort = query.get("sort") or ""
        _check("window", window, WINDOWS)
        _check("span", span, tuple(SPANS))
        _check("metric", metric, METRICS)
        if sort:
            _check("sort", sort, SORTS)
        try:
            minimum = float(query.get("min") or 0)
        except ValueError:
            raise bad_request("min must be a number (USD of open interest)") from None
        if minimum < 0 or minimum != minimum:
            raise bad_request("min must not be less than 0")
        return cls(window=window, span=span, metric=metric, sort=sort, min=minimum, coin=(query.get("coin") or "")[:64])

    def query(self, **changes) -> str:
        """The query string of this view with `changes`, defaults left out (`?window=24h&sort=name`)."""
        view = replace(self, **changes)
        defaults = View()
        params = {
            f.name: getattr(view, f.name) for f in fields(view) if getattr(view, f.name) != getattr(defaults, f.name)
        }
        if "min" in params:
            params["min"] = f"{params['min']:g}"
        return "?" + urlencode(params) if params else ""


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise bad_request(f"{name} must be one of the following values: {', '.join(allowed)}")
