"""The pages of the dashboard (dashboard-spec section 2), each a list of panels built from the API's
answers (`ApiReader`): the figures are the API's, only arranged."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import accumulate

from hltracker.api.errors import bad_request, not_found
from hltracker.model.cohorts import COHORTS_BY_ID, PNL_COHORT_IDS, SIZE_COHORT_IDS
from hltracker.model.wire import iso_ms
from hltracker.web.format import sparkline
from hltracker.web.panels import Column, Page, Panel, category_chart, time_chart
from hltracker.web.reader import FILLS_PAGE, MAX_FILL_PAGES, ApiReader
from hltracker.web.view import SPANS, View

EPOCH_ISO = "1970-01-01T00:00:00.000Z"
COHORT_ORDER = [*SIZE_COHORT_IDS, *PNL_COHORT_IDS]  # size cohorts small to large, then PnL cohorts
WHALE_IDS = (4, 5, 6, 7)  # Small Whale, Whale, Tidal Whale, Leviathan: the "whale bias" of the coins table
SPARK_DAYS = 7


def cohort_label(segment_id: int) -> str:
    c = COHORTS_BY_ID[segment_id]
    return f"{c.emoji} {c.name}"


def span_start(reader: ApiReader, span: str) -> str:
    """The `start` of a time-series request covering `span` back from the page's snapshot."""
    delta = SPANS[span]
    return EPOCH_ISO if delta is None else iso_ms(reader.snapshot.taken_at - delta)


def _long_share(long_value: float, total: float) -> float | None:
    return round(long_value / total, 3) if total else None


# --- Overview ---------------------------------------------------------------------------------------


def overview(reader: ApiReader, view: View) -> Page:
    return Page(
        "Overview",
        [_tiles(reader), _coins_table(reader, view), _cohort_cards(reader, view)],
        subtitle="Hyperliquid perp positioning at the latest snapshot",
    )


def _tiles(reader: ApiReader) -> Panel:
    start = iso_ms(reader.snapshot.taken_at - timedelta(days=SPARK_DAYS))
    general = list(reversed(reader.general(start)))
    volume = {r["createdAt"]: r["volume"] for r in reader.perp_volume(start)}
    rows = [
        {
            **r,
            "percentInProfit": r["countInProfit"] / r["count"] if r["count"] else None,
            "volume": volume.get(r["createdAt"]),
        }
        for r in general
    ]
    specs = [
        ("Open interest", "openInterest", "usd"),
        ("Long OI", "openInterestLong", "usd"),
        ("Short OI", "openInterestShort", "usd"),
        ("Positions", "count", "compact"),
        ("In profit", "percentInProfit", "pct"),
        ("Perp equity", "perpEquity", "usd"),
        ("24h volume", "volume", "usd"),
    ]
    tiles = []
    for label, key, kind in specs:
        series = [r[key] for r in rows]
        now = series[-1] if series else None
        day_ago = _value_24h_ago(rows, key, reader)
        change = (now - day_ago) / day_ago if now is not None and day_ago else None
        tiles.append(
            {"label": label, "key": key, "kind": kind, "value": now, "change": change, "spark": sparkline(series)}
        )
    columns = [
        Column("createdAt", "time", "time"),
        *(Column(k, label, kind) for label, k, kind in specs),
        Column("countLong", "long positions", "compact"),
        Column("countShort", "short positions", "compact"),
        Column("countInProfit", "positions in profit", "compact"),
    ]
    return Panel(
        "tiles",
        "Market",
        "tiles",
        columns,
        rows,
        extra={"tiles": tiles},
        note=f"{SPARK_DAYS}-day sparklines; change against 24 hours earlier",
    )


def _value_24h_ago(rows: list[dict], key: str, reader: ApiReader):
    cutoff = iso_ms(reader.snapshot.taken_at - timedelta(hours=24))
    earlier = [r for r in rows if r["createdAt"] <= cutoff]
    return earlier[-1][key] if earlier else (rows[0][key] if rows else None)


def _coins_table(reader: ApiReader, view: View) -> Panel:
    """`/positions/coins` for all positions; the heatmap's coin totals for an age window (the route that
    takes `openedWithin`); the whale columns from the heatmap's cells."""
    rows = []
    heat = reader.heatmap(view.window)
    totals = {r["coin"]: r for r in (heat if view.window != "all" else reader.coins())}
    for cells_row in heat:
        row = totals.get(cells_row["coin"])
        if row is None or row["totalValue"] < view.min:
            continue
        cells = {c["segmentId"]: c for c in cells_row["segments"]}
        whales = [cells[i] for i in WHALE_IDS if i in cells]  # a cohort without positions has no cell
        whale_long = sum(c["totalLongValue"] for c in whales)
        whale_total = sum(c["totalValue"] for c in whales)
        long_value = row.get("totalLongValue", row.get("totalValueLong"))  # heatmap / coins route keys
        rows.append(
            {
                "coin": row["coin"],
                "totalValue": row["totalValue"],
                "totalLongValue": long_value,
                "totalShortValue": row.get("totalShortValue", row.get("totalValueShort")),
                "longShare": _long_share(long_value, row["totalValue"]),
                "count": row["count"],
                "countLong": row["countLong"],
                "countShort": row["countShort"],
                "whaleValue": whale_total,
                "whaleBias": _long_share(whale_long, whale_total),
            }
        )
    columns = [
        Column("coin", "coin", "coin"),
        Column("totalValue", "open interest", "usd"),
        Column("longShare", "long / short", "split"),
        Column("totalLongValue", "long", "usd"),
        Column("totalShortValue", "short", "usd"),
        Column("count", "positions", "compact"),
        Column("countLong", "longs", "compact"),
        Column("countShort", "shorts", "compact"),
        Column("whaleValue", "whale OI", "usd"),
        Column("whaleBias", "whale long share", "pct"),
    ]
    return Panel(
        "coins",
        "Coins",
        "table",
        columns,
        rows,
        wide=True,
        note="positions opened within the age window; whales = the four cohorts of $100k+ equity",
    )


def _cohort_rows(reader: ApiReader, view: View) -> list[dict]:
    rows = []
    for sid in COHORT_ORDER:
        s = reader.segment_summary(sid, view.window)["openPerpsSummary"]
        total = s["totalValue"]
        rows.append(
            {
                "segmentId": sid,
                "cohort": cohort_label(sid),
                "category": COHORTS_BY_ID[sid].category,
                "countTradersInPosition": s["countTradersInPosition"],
                "countTradersInProfit": s["countTradersInProfit"],
                "perpBias": s["perpBias"],
                "exposureRatio": s["exposureRatio"],
                "totalValue": total,
                "longShare": _long_share(s["totalLongValue"], total),
                "countOpenPositions": s["countOpenPositions"],
            }
        )
    return rows


def _cohort_cards(reader: ApiReader, view: View) -> Panel:
    rows = _cohort_rows(reader, view)
    for row in rows:
        history = sorted(reader.bias_history(row["segmentId"], view.window)["history"])
        row["spark"] = sparkline([h[1] for h in history[-84:]])  # the last week of 2-hour samples
    columns = [
        Column("cohort", "cohort", "cohort"),
        Column("countTradersInPosition", "traders in position", "compact"),
        Column("perpBias", "bias", "num"),
        Column("longShare", "long share", "pct"),
        Column("exposureRatio", "exposure", "num"),
        Column("totalValue", "open value", "usd"),
        Column("countOpenPositions", "positions", "compact"),
    ]
    return Panel(
        "cohorts",
        "Cohorts",
        "cards",
        columns,
        rows,
        note="bias = (long - short) / active perp equity; sparkline: bias, last 7 days",
    )


# --- Heatmap ----------------------------------------------------------------------------------------

HEAT_CELL_KEYS = ("totalValue", "totalLongValue", "totalShortValue", "count", "countLong", "countShort", "bias")


def heatmap(reader: ApiReader, view: View) -> Page:
    coins = [r for r in reader.heatmap(view.window) if r["totalValue"] >= view.min]
    sort = view.sort or "value"
    if sort == "name":
        coins.sort(key=lambda r: r["coin"].lower())
    elif sort == "bias":
        coins.sort(key=lambda r: -abs((_long_share(r["totalLongValue"], r["totalValue"]) or 0.5) - 0.5))
    elif sort == "risk":
        raise bad_request("sort must be one of the following values: value, bias, name")
    for row in coins:
        row["longShare"] = _long_share(row["totalLongValue"], row["totalValue"])
        by_id = {c["segmentId"]: c for c in row["segments"]}
        row["cells"] = [by_id.get(sid) for sid in COHORT_ORDER]  # the route leaves out cohorts without positions
    rows = [
        {
            "coin": c["coin"],
            "segmentId": cell["segmentId"],
            "cohort": COHORTS_BY_ID[cell["segmentId"]].name,
            **{k: cell[k] for k in HEAT_CELL_KEYS},
        }
        for c in coins
        for cell in c["cells"]
        if cell
    ]
    columns = [
        Column("coin", "coin"),
        Column("segmentId", "segment id"),
        Column("cohort", "cohort"),
        *(Column(k, k) for k in HEAT_CELL_KEYS),
    ]
    segments = [
        {"id": sid, "label": cohort_label(sid), "name": COHORTS_BY_ID[sid].name, "emoji": COHORTS_BY_ID[sid].emoji}
        for sid in COHORT_ORDER
    ]
    panel = Panel(
        "heatmap",
        "Coin x cohort",
        "heat",
        columns,
        rows,
        wide=True,
        extra={"coins": coins, "segments": segments, "metric": view.metric, "sort": sort},
        note="colour: long share of value (0.5 neutral, green long, red short); grey: no positions",
    )
    return Page(
        "Heatmap",
        [panel],
        subtitle=f"{len(coins)} coins x 16 cohorts, positions opened within "
        f"{'any time' if view.window == 'all' else view.window}",
    )


# --- Coin -------------------------------------------------------------------------------------------


def coin(reader: ApiReader, view: View, name: str) -> Page:
    canonical = reader.canonical_coin(name)  # 404 for an unknown coin
    panels = [
        _coin_history(reader, view, canonical),
        _coin_cohorts(reader, view, canonical),
        _coin_sizes(reader, canonical),
        liquidation_map(reader, canonical),
        _coin_risk(reader, canonical),
        _positions_table(reader, "positions", "Open positions", reader.positions(coin=canonical, open=True)),
    ]
    return Page(canonical, panels, heading=canonical, subtitle="open interest, cohorts, sizes, liquidation levels")


def _coin_history(reader: ApiReader, view: View, canonical: str) -> Panel:
    metrics = list(reversed(reader.coin_metrics(canonical, span_start(reader, view.span))))
    rows = [
        {
            "createdAt": m["createdAt"],
            "totalPositionValue": m["totalPositionValue"],
            "totalPositionValueLong": m["totalPositionValueLong"],
            "totalPositionValueShort": m["totalPositionValue"] - m["totalPositionValueLong"],
            "positionCount": m["positionCount"],
            "positionCountLong": m["positionCountLong"],
        }
        for m in metrics
    ]
    option = time_chart(
        [
            {
                "name": "Long OI",
                "type": "line",
                "stack": "oi",
                "areaStyle": {},
                "color": "#16a36a",
                "data": [[r["createdAt"], r["totalPositionValueLong"]] for r in rows],
            },
            {
                "name": "Short OI",
                "type": "line",
                "stack": "oi",
                "areaStyle": {},
                "color": "#dc3c50",
                "data": [[r["createdAt"], r["totalPositionValueShort"]] for r in rows],
            },
            {
                "name": "Positions",
                "type": "line",
                "yAxisIndex": 1,
                "color": "#6b7bd6",
                "data": [[r["createdAt"], r["positionCount"]] for r in rows],
            },
        ],
        y_axes=[{"type": "value", "name": "USD"}, {"type": "value", "name": "positions", "splitLine": {"show": False}}],
    )
    columns = [Column(k, k) for k in rows[0]] if rows else [Column("createdAt", "createdAt")]
    return Panel(
        "history",
        "Open interest",
        "chart",
        columns,
        rows,
        option=option,
        wide=True,
        note=f"one point per snapshot, last {view.span}",
    )


def _window_suffix(window: str) -> str:
    return "" if window == "all" else f"-{window}"


def _coin_cohorts(reader: ApiReader, view: View, canonical: str) -> Panel:
    data = reader.export("position-breakdown-by-cohort" + _window_suffix(view.window), canonical)
    by_id = {r["segmentId"]: r for r in data["breakdownByCohort"]}
    rows = [
        {
            "segmentId": sid,
            "cohort": cohort_label(sid),
            "positionCount": by_id[sid]["positionCount"],
            "totalPositionValue": by_id[sid]["totalPositionValue"],
            "totalPositionValueLong": by_id[sid]["totalPositionValueLong"],
            "bias": by_id[sid]["bias"],
            "valueCloseToLiquidation": by_id[sid]["valueCloseToLiquidation"],
        }
        for sid in COHORT_ORDER
    ]
    option = category_chart(
        [r["cohort"] for r in rows],
        [
            {
                "name": "Long share",
                "type": "bar",
                "data": [r["bias"] for r in rows],
                "color": "#16a36a",
                "markLine": {"silent": True, "symbol": "none", "data": [{"xAxis": 0.5}]},
            },
        ],
        horizontal=True,
        y_axes=[{"type": "value", "min": 0, "max": 1, "name": "long share"}],
    )
    option["grid"]["left"] = 8
    columns = [Column(k, k) for k in rows[0]]
    return Panel(
        "cohorts",
        "Cohort positioning",
        "chart",
        columns,
        rows,
        option=option,
        note="long share of each cohort's value in this coin (position-breakdown-by-cohort)",
    )


def _coin_sizes(reader: ApiReader, canonical: str) -> Panel:
    data = reader.export("position-breakdown-by-size", canonical)["breakdownBySize"]
    rows = [
        {
            "sizeSegmentId": b["sizeSegmentId"],
            "size": b["size"],
            "positionCount": b["positionCount"],
            "totalPositionValue": b["totalPositionValue"],
            "totalPositionValueLong": b["totalPositionValueLong"],
            "totalPositionValueShort": b["totalPositionValue"] - b["totalPositionValueLong"],
            "valueCloseToLiquidation": b["valueCloseToLiquidation"],
            "bias": b["bias"],
        }
        for b in data
    ]
    option = category_chart(
        [r["size"] for r in rows],
        [
            {
                "name": "Long",
                "type": "bar",
                "stack": "v",
                "color": "#16a36a",
                "data": [r["totalPositionValueLong"] for r in rows],
            },
            {
                "name": "Short",
                "type": "bar",
                "stack": "v",
                "color": "#dc3c50",
                "data": [r["totalPositionValueShort"] for r in rows],
            },
            {
                "name": "Close to liquidation",
                "type": "bar",
                "color": "#ea580c",
                "data": [r["valueCloseToLiquidation"] for r in rows],
            },
        ],
    )
    return Panel(
        "sizes",
        "Position sizes",
        "chart",
        [Column(k, k) for k in rows[0]],
        rows,
        option=option,
        note="value by position size; close to liquidation: liquidation progress >= 75%",
    )


def liquidation_map(reader: ApiReader, canonical: str) -> Panel:
    data = reader.export("liquidation-heatmap", canonical)
    mark = data.get("markPrice")
    bins = data["heatmap"]
    rows = [
        {
            "priceBinIndex": b["priceBinIndex"],
            "priceBinStart": b["priceBinStart"],
            "priceBinEnd": b["priceBinEnd"],
            "liquidationValueLong": b["liquidationValueLong"],
            "liquidationValueShort": b["liquidationValueShort"],
            "cumulativeValue": b["cumulativeValue"],
            "positionsCount": b["positionsCount"],
            "mostImpactedSegment": b["mostImpactedSegment"],
        }
        for b in bins
    ]
    labels = [f"{(b['priceBinStart'] + b['priceBinEnd']) / 2:.6g}" for b in bins]
    below = [mark is not None and b["priceBinEnd"] <= mark for b in bins]
    mark_index = next(
        (i for i, b in enumerate(bins) if mark is not None and b["priceBinStart"] <= mark < b["priceBinEnd"]), None
    )
    series = [
        {
            "name": "Long liquidations",
            "type": "bar",
            "stack": "liq",
            "color": "#16a36a",
            "data": [r["liquidationValueLong"] for r in rows],
        },
        {
            "name": "Short liquidations",
            "type": "bar",
            "stack": "liq",
            "color": "#dc3c50",
            "data": [r["liquidationValueShort"] for r in rows],
        },
        {
            "name": "Cumulative longs",
            "type": "line",
            "yAxisIndex": 1,
            "showSymbol": False,
            "color": "#0e7a4e",
            "data": [r["cumulativeValue"] if low else None for r, low in zip(rows, below, strict=True)],
        },
        {
            "name": "Cumulative shorts",
            "type": "line",
            "yAxisIndex": 1,
            "showSymbol": False,
            "color": "#a3243a",
            "data": [None if low else r["cumulativeValue"] for r, low in zip(rows, below, strict=True)],
        },
    ]
    if mark_index is not None:
        series[0]["markLine"] = {
            "silent": True,
            "symbol": "none",
            "label": {"formatter": f"mark {mark:.6g}"},
            "lineStyle": {"type": "dashed"},
            "data": [{"xAxis": labels[mark_index]}],
        }
    option = category_chart(
        labels,
        series,
        y_axes=[
            {"type": "value", "name": "USD"},
            {"type": "value", "name": "cumulative", "splitLine": {"show": False}},
        ],
    )
    option["dataZoom"] = [{"type": "inside"}]
    columns = [Column(k, k) for k in rows[0]] if rows else [Column("priceBinIndex", "priceBinIndex")]
    return Panel(
        "liqmap",
        f"Liquidation map · {canonical}",
        "chart",
        columns,
        rows,
        option=option,
        wide=True,
        extra={"markPrice": mark},
        note="value liquidated per price bin (0.5x to 1.5x the mark); longs below the mark, shorts above",
    )


def _coin_risk(reader: ApiReader, canonical: str) -> Panel:
    rows = []
    for sid in COHORT_ORDER:
        item = next((i for i in reader.liquidation_risk(sid) if i["coin"] == canonical), None)
        if item is not None:
            rows.append(
                {
                    "segmentId": sid,
                    "cohort": cohort_label(sid),
                    "totalValue": item["totalValue"],
                    "riskValue": item["riskValue"],
                    "percentRisk": item["percentRisk"],
                }
            )
    columns = [
        Column("cohort", "cohort", "cohort"),
        Column("totalValue", "value", "usd"),
        Column("riskValue", "at risk", "usd"),
        Column("percentRisk", "% at risk", "pct100"),
    ]
    return Panel(
        "risk", "Liquidation risk by cohort", "table", columns, rows, note="at risk: liquidation progress >= 75%"
    )


POSITION_COLUMNS = [
    Column("coin", "coin", "coin"),
    Column("address", "wallet", "wallet"),
    Column("side", "side", "side"),
    Column("positionValue", "value", "usd"),
    Column("entryPrice", "entry", "price"),
    Column("markPrice", "mark", "price"),
    Column("liquidationPrice", "liq. price", "price"),
    Column("liquidationDistance", "to liquidation", "progress"),
    Column("leverage", "leverage", "lev"),
    Column("unrealizedPnl", "uPnL", "usd"),
    Column("segments", "cohorts", "badges"),
    Column("openTime", "opened", "time"),
]


def _positions_table(
    reader: ApiReader, panel_id: str, title: str, positions: list[dict], columns: list[Column] | None = None
) -> Panel:
    rows = []
    for p in positions:
        liq, mark = p["liquidationPrice"], p["markPrice"]
        rows.append(
            {
                "coin": p["coin"],
                "address": p["address"],
                "side": p["side"],
                "positionValue": p["positionValue"],
                "entryPrice": p["entryPrice"],
                "markPrice": mark,
                "liquidationPrice": liq,
                "liquidationDistance": abs(mark - liq) / mark if liq is not None and mark else None,
                "leverage": p["crossLeverage"] or p["isolatedLeverage"],
                "unrealizedPnl": p["unrealizedPnl"],
                "segments": p["profile"]["segments"],
                "openTime": p["openTime"],
                "closeTime": p["closeTime"],
            }
        )
    return Panel(
        panel_id,
        title,
        "table",
        columns or POSITION_COLUMNS,
        rows,
        wide=True,
        note=f"the {len(rows)} largest by value" if len(rows) >= 100 else "",
    )


# --- Cohorts ----------------------------------------------------------------------------------------


def cohorts(reader: ApiReader, view: View) -> Page:
    series, rows = [], []
    for sid in COHORT_ORDER:
        history = sorted(reader.bias_history(sid, view.window)["history"])
        series.append({"name": cohort_label(sid), "type": "line", "data": [[h[0], h[1]] for h in history]})
        rows += [{"timestamp": h[0], "segmentId": sid, "bias": h[1], "exposureRatio": h[2]} for h in history]
    series[0]["markLine"] = {"silent": True, "symbol": "none", "data": [{"yAxis": 0}]}
    option = time_chart(series, y_axes=[{"type": "value", "name": "bias"}])
    chart = Panel(
        "bias",
        "Bias of every cohort",
        "chart",
        [Column(k, k) for k in ("timestamp", "segmentId", "bias", "exposureRatio")],
        rows,
        option=option,
        wide=True,
        note="(long - short) / active perp equity, 2-hour samples over 60 days; click the legend to toggle a cohort",
    )
    summary_rows = _cohort_rows(reader, view)
    table = Panel(
        "summary",
        "Cohorts now",
        "table",
        [
            Column("cohort", "cohort", "cohort"),
            Column("countTradersInPosition", "in position", "compact"),
            Column("countTradersInProfit", "in profit", "compact"),
            Column("perpBias", "bias", "num"),
            Column("exposureRatio", "exposure", "num"),
            Column("totalValue", "open value", "usd"),
            Column("longShare", "long share", "pct"),
            Column("countOpenPositions", "positions", "compact"),
        ],
        summary_rows,
        wide=True,
    )
    return Page("Cohorts", [chart, table], subtitle="16 cohorts: 8 by account size, 8 by all-time PnL")


def cohort(reader: ApiReader, view: View, segment_id: int) -> Page:
    if segment_id not in COHORTS_BY_ID:
        raise not_found(f"Segment {segment_id} not found: segment ids are 1 to 16")
    summary = reader.segment_summary(segment_id, view.window)
    s = summary["openPerpsSummary"]
    facts = [
        ("Traders", summary["summary"]["countTraders"], "compact"),
        ("24 hours ago", summary["countTraders24HoursAgo"], "compact"),
        ("In position", s["countTradersInPosition"], "compact"),
        ("In profit", s["countTradersInProfit"], "compact"),
        ("Bias", s["perpBias"], "num"),
        ("Exposure", s["exposureRatio"], "num"),
        ("Open value", s["totalValue"], "usd"),
        ("Long value", s["bySide"]["long"]["value"], "usd"),
        ("Short value", s["bySide"]["short"]["value"], "usd"),
        ("Perp equity", s["totalPerpEquity"], "usd"),
        ("Coins held", s["countAssets"], "compact"),
    ]
    tiles = Panel(
        "summary",
        "Summary",
        "tiles",
        [Column("label", "figure"), Column("value", "value")],
        [{"label": label, "value": value} for label, value, _ in facts],
        extra={
            "tiles": [
                {"label": label, "value": value, "kind": kind, "change": None, "spark": ""}
                for label, value, kind in facts
            ]
        },
        note=_criteria_text(summary["segment"]),
    )
    history = sorted(reader.bias_history(segment_id, view.window)["history"])
    rows = [{"timestamp": h[0], "bias": h[1], "exposureRatio": h[2], "openValue": h[3]} for h in history]
    option = time_chart(
        [
            {"name": "Bias", "type": "line", "data": [[r["timestamp"], r["bias"]] for r in rows]},
            {
                "name": "Exposure",
                "type": "line",
                "yAxisIndex": 1,
                "data": [[r["timestamp"], r["exposureRatio"]] for r in rows],
            },
        ],
        y_axes=[{"type": "value", "name": "bias"}, {"type": "value", "name": "exposure", "splitLine": {"show": False}}],
    )
    chart = Panel(
        "bias",
        "Bias and exposure",
        "chart",
        [Column(k, k) for k in ("timestamp", "bias", "exposureRatio", "openValue")],
        rows,
        option=option,
        wide=True,
    )
    top = Panel(
        "top",
        "Top assets",
        "table",
        [
            Column("coin", "coin", "coin"),
            Column("totalValue", "value", "usd"),
            Column("totalLongValue", "long", "usd"),
            Column("totalShortValue", "short", "usd"),
            Column("count", "positions", "compact"),
            Column("bias", "long share", "pct"),
        ],
        summary["topAssets"],
    )
    risk_rows = reader.liquidation_risk(segment_id)
    risk = Panel(
        "risk",
        "Liquidation risk by asset",
        "table",
        [
            Column("coin", "coin", "coin"),
            Column("totalValue", "value", "usd"),
            Column("riskValue", "at risk", "usd"),
            Column("percentRisk", "% at risk", "pct100"),
        ],
        risk_rows,
    )
    positions = _positions_table(
        reader, "positions", "The cohort's largest open positions", reader.positions(segment_id=segment_id, open=True)
    )
    return Page(
        summary["segment"]["name"],
        [tiles, chart, top, risk, positions],
        heading=cohort_label(segment_id),
        subtitle=f"{summary['segment']['category']} cohort",
    )


def _criteria_text(segment: dict) -> str:
    criteria = segment["criteria"]
    low = criteria.get("minSize", criteria.get("minPnl"))
    high = criteria.get("maxSize", criteria.get("maxPnl"))
    what = "perp equity" if segment["category"] == "size" else "all-time perp PnL"
    bounds = " and ".join(
        b for b in (f">= ${low:,.0f}" if low is not None else "", f"< ${high:,.0f}" if high is not None else "") if b
    )
    return f"wallets with {what} {bounds}"


# --- Liquidations -----------------------------------------------------------------------------------


def liquidations(reader: ApiReader, view: View) -> Page:
    by_coin: dict[str, dict[int, dict]] = {}
    for sid in COHORT_ORDER:
        for item in reader.liquidation_risk(sid):
            by_coin.setdefault(item["coin"], {})[sid] = item
    coins = []
    for name, cells in by_coin.items():
        total = sum(c["totalValue"] for c in cells.values()) / 2  # each position is in a size and a PnL cohort
        at_risk = sum(c["riskValue"] for c in cells.values()) / 2
        if total < view.min:
            continue
        coins.append(
            {"coin": name, "totalValue": total, "riskValue": at_risk, "cells": [cells.get(sid) for sid in COHORT_ORDER]}
        )
    sort = view.sort or "risk"
    if sort == "bias":
        raise bad_request("sort must be one of the following values: risk, value, name")
    coins.sort(
        key={
            "risk": lambda c: -c["riskValue"],
            "value": lambda c: -c["totalValue"],
            "name": lambda c: c["coin"].lower(),
        }[sort]
    )
    rows = [
        {"coin": name, "segmentId": sid, "cohort": COHORTS_BY_ID[sid].name, **item}
        for name, cells in by_coin.items()
        for sid, item in sorted(cells.items())
    ]
    rows = [{k: r[k] for k in ("coin", "segmentId", "cohort", "totalValue", "riskValue", "percentRisk")} for r in rows]
    segments = [
        {"id": sid, "label": cohort_label(sid), "name": COHORTS_BY_ID[sid].name, "emoji": COHORTS_BY_ID[sid].emoji}
        for sid in COHORT_ORDER
    ]
    matrix = Panel(
        "matrix",
        "Share of value close to liquidation",
        "risk",
        [Column(k, k) for k in ("coin", "segmentId", "cohort", "totalValue", "riskValue", "percentRisk")],
        rows,
        wide=True,
        extra={"coins": coins, "segments": segments, "sort": sort},
        note="percentRisk: share of the cohort's value in the coin at liquidation progress >= 75%",
    )
    chosen = reader.canonical_coin(view.coin) if view.coin else (coins[0]["coin"] if coins else None)
    panels = [liquidation_map(reader, chosen), matrix] if chosen else [matrix]  # the map first: the matrix is long
    return Page("Liquidations", panels, subtitle="liquidation risk by coin and cohort")


# --- Stats ------------------------------------------------------------------------------------------

EQUITY_KINDS = ("perpWalletsEquity", "spotWalletsEquity", "stakingWalletsEquity", "vaultWalletsEquity")


def stats(reader: ApiReader, view: View) -> Page:
    equity = reader.export("total-wallets-equity-chart-data")
    columns = equity["history"]["columns"]
    history = [dict(zip(columns, r, strict=True)) for r in equity["history"]["data"]]
    ath = dict(zip(equity["athData"]["columns"], equity["athData"]["data"], strict=True))
    ago = dict(zip(equity["data24HoursAgo"]["columns"], equity["data24HoursAgo"]["data"], strict=True))
    now = history[-1] if history else {}
    tiles = Panel(
        "equity-tiles",
        "Wallet equity",
        "tiles",
        [Column("figure", "figure"), *(Column(c, c) for c in equity["athData"]["columns"])],
        [
            {"figure": "now", **{k: now.get(k) for k in ath}},
            {"figure": "all-time high", **ath},
            {"figure": "24 hours ago", **ago},
        ],
        extra={
            "tiles": [
                {
                    "label": "Total equity",
                    "value": now.get("totalWalletsEquity"),
                    "kind": "usd",
                    "change": None,
                    "spark": sparkline([h["totalWalletsEquity"] for h in history]),
                },
                {
                    "label": "All-time high",
                    "value": ath["totalWalletsEquity"],
                    "kind": "usd",
                    "change": None,
                    "spark": "",
                },
                {
                    "label": "24 hours ago",
                    "value": ago["totalWalletsEquity"],
                    "kind": "usd",
                    "change": None,
                    "spark": "",
                },
            ]
        },
    )
    colours = ("#6b7bd6", "#16a36a", "#e0a526", "#a855f7")
    area = time_chart(
        [
            {
                "name": k.removesuffix("WalletsEquity"),
                "type": "line",
                "stack": "eq",
                "areaStyle": {},
                "color": colour,
                "data": [[h["timestamp"], h[k]] for h in history],
            }
            for k, colour in zip(EQUITY_KINDS, colours, strict=True)
        ]
    )
    equity_chart = Panel(
        "equity",
        "Wallet equity by kind",
        "chart",
        [Column(c, c) for c in columns],
        history,
        option=area,
        wide=True,
        note="the last snapshot of each UTC day (total-wallets-equity-chart-data)",
    )
    start = span_start(reader, view.span)
    general = list(reversed(reader.general(start)))
    oi_rows = [
        {
            "createdAt": g["createdAt"],
            "openInterest": g["openInterest"],
            "perpEquity": g["perpEquity"],
            "oiToEquity": g["openInterest"] / g["perpEquity"] if g["perpEquity"] else None,
        }
        for g in general
    ]
    oi_chart = Panel(
        "oi",
        "Open interest and perp equity",
        "chart",
        [Column(k, k) for k in ("createdAt", "openInterest", "perpEquity", "oiToEquity")],
        oi_rows,
        wide=True,
        option=time_chart(
            [
                {
                    "name": "Open interest",
                    "type": "line",
                    "data": [[r["createdAt"], r["openInterest"]] for r in oi_rows],
                },
                {"name": "Perp equity", "type": "line", "data": [[r["createdAt"], r["perpEquity"]] for r in oi_rows]},
                {
                    "name": "OI / equity",
                    "type": "line",
                    "yAxisIndex": 1,
                    "data": [[r["createdAt"], r["oiToEquity"]] for r in oi_rows],
                },
            ],
            y_axes=[{"type": "value", "name": "USD"}, {"type": "value", "name": "ratio", "splitLine": {"show": False}}],
        ),
    )
    count_rows = [
        {
            "createdAt": g["createdAt"],
            "countLong": g["countLong"],
            "countShort": g["countShort"],
            "countInProfit": g["countInProfit"],
        }
        for g in general
    ]
    counts = Panel(
        "counts",
        "Positions: long, short, in profit",
        "chart",
        [Column(k, k) for k in ("createdAt", "countLong", "countShort", "countInProfit")],
        count_rows,
        option=time_chart(
            [
                {
                    "name": "Long",
                    "type": "line",
                    "color": "#16a36a",
                    "data": [[r["createdAt"], r["countLong"]] for r in count_rows],
                },
                {
                    "name": "Short",
                    "type": "line",
                    "color": "#dc3c50",
                    "data": [[r["createdAt"], r["countShort"]] for r in count_rows],
                },
                {
                    "name": "In profit",
                    "type": "line",
                    "color": "#e0a526",
                    "data": [[r["createdAt"], r["countInProfit"]] for r in count_rows],
                },
            ]
        ),
    )
    volume = daily_volume(list(reversed(reader.perp_volume(start))))
    volume_chart = Panel(
        "volume",
        "Daily volume",
        "chart",
        [Column(k, k) for k in ("day", "createdAt", "volume", "cumulative")],
        volume,
        option=category_chart(
            [r["day"] for r in volume],
            [
                {"name": "24h volume", "type": "bar", "data": [r["volume"] for r in volume]},
                {"name": "Cumulative", "type": "line", "yAxisIndex": 1, "data": [r["cumulative"] for r in volume]},
            ],
            y_axes=[
                {"type": "value", "name": "USD"},
                {"type": "value", "name": "cumulative", "splitLine": {"show": False}},
            ],
        ),
        note="the 24h volume at each UTC day's last snapshot, and its running sum",
    )
    return Page("Stats", [tiles, equity_chart, oi_chart, counts, volume_chart], subtitle="market-wide figures")


def daily_volume(series: list[dict]) -> list[dict]:
    """The last perp-volume row of each UTC day (oldest first), with the running sum of those days."""
    last: dict[str, dict] = {}
    for row in series:
        last[row["createdAt"][:10]] = row
    days = sorted(last)
    sums = list(accumulate(last[d]["volume"] for d in days))
    return [
        {"day": d, "createdAt": last[d]["createdAt"], "volume": last[d]["volume"], "cumulative": s}
        for d, s in zip(days, sums, strict=True)
    ]


# --- Wallet -----------------------------------------------------------------------------------------


def wallet(reader: ApiReader, view: View, address: str) -> Page:
    address = address.strip().lower()
    if not (len(address) == 42 and address.startswith("0x") and all(c in "0123456789abcdef" for c in address[2:])):
        raise not_found(f"Wallet {address[:64]} not found: an address is 0x and 40 hex digits")
    open_positions = reader.positions(address=address, open=True)
    closed = reader.positions(address=address, open=False, order_by="openTime", order="desc")
    profile = reader.ctx.store.query("wallet", address=address)
    if not open_positions and not closed and profile.height == 0:
        raise not_found(f"Wallet {address} not found")
    segments = (open_positions or closed)[0]["profile"]["segments"] if (open_positions or closed) else []
    open_panel = _positions_table(reader, "open", "Open positions", open_positions)
    closed_columns = [
        c for c in POSITION_COLUMNS if c.key not in ("markPrice", "liquidationDistance", "liquidationPrice")
    ]
    closed_panel = _positions_table(
        reader, "closed", "Closed positions", closed, [*closed_columns, Column("closeTime", "closed", "time")]
    )
    exposure: dict[str, dict] = {}
    for p in open_positions:
        e = exposure.setdefault(p["coin"], {"coin": p["coin"], "long": 0.0, "short": 0.0})
        e["long" if p["side"] == "long" else "short"] += p["positionValue"]
    rows = sorted(exposure.values(), key=lambda e: -(e["long"] + e["short"]))
    chart = Panel(
        "exposure",
        "Exposure by coin",
        "chart",
        [Column("coin", "coin"), Column("long", "long"), Column("short", "short")],
        rows,
        option=category_chart(
            [r["coin"] for r in rows],
            [
                {"name": "Long", "type": "bar", "stack": "x", "color": "#16a36a", "data": [r["long"] for r in rows]},
                {"name": "Short", "type": "bar", "stack": "x", "color": "#dc3c50", "data": [r["short"] for r in rows]},
            ],
        ),
    )
    page = Page(
        "Wallet",
        [open_panel, chart, _wallet_summary(reader, address), _wallet_fills(reader, address),
         _wallet_trades(reader, address), closed_panel],
        heading=address,
        subtitle="positions, fills and closed trades",
    )
    page.panels[0].extra["wallet_segments"] = segments
    return page


FILLS_SHOWN = 100
FILL_COLUMNS = [
    Column("time", "time", "seconds"),
    Column("coin", "coin", "coin"),
    Column("dir", "dir"),
    Column("px", "price", "price"),
    Column("sz", "size", "qty"),
    Column("closedPnl", "closed PnL", "usd"),
    Column("fee", "fee", "usd"),
    Column("liquidation", "liquidation", "flag"),
]
TRADE_COLUMNS = [
    Column("coin", "coin", "coin"),
    Column("direction", "direction", "side"),
    Column("openTime", "opened", "time"),
    Column("closeTime", "closed", "time"),
    Column("size", "size", "qty"),
    Column("avgEntryPrice", "entry", "price"),
    Column("avgExitPrice", "exit", "price"),
    Column("netPnl", "net PnL", "usd"),
    Column("liquidated", "liquidated", "flag"),
]
SUMMARY_TILES = [
    ("Win rate", "winRate", "pct"),
    ("Profit factor", "profitFactor", "num"),
    ("Expectancy", "expectancy", "usd"),
    ("Net PnL", "netPnl", "usd"),
    ("Closed trades", "totalTrades", "compact"),
]


def day_windows(start: datetime, end: datetime) -> list[tuple[str, str]]:
    """[start, end] cut at UTC midnights into windows of one day each (what `/fills` takes), newest first."""
    windows = []
    while end >= start:
        midnight = datetime.combine(end.date(), time.min, end.tzinfo)
        windows.append((iso_ms(max(start, midnight)), iso_ms(end)))
        end = midnight - timedelta(milliseconds=1)
    return windows


def _wallet_fills(reader: ApiReader, address: str) -> Panel:
    """The newest fills of the 24 hours before the snapshot (`/fills`, one request per UTC day)."""
    end = reader.snapshot.taken_at
    days = [reader.fills(address, start, stop) for start, stop in day_windows(end - timedelta(hours=24), end)]
    fills = [f for day in days for f in reversed(day)][:FILLS_SHOWN]
    rows = [{**{c.key: f.get(c.key) for c in FILL_COLUMNS}, "liquidation": f["fillType"] == "liquidation"}
            for f in fills]
    note = f"the last 24 hours before the snapshot, newest first (at most {FILLS_SHOWN})"
    if any(len(day) >= MAX_FILL_PAGES * FILLS_PAGE for day in days):  # the reader stopped before the day's end
        note += f"; over {MAX_FILL_PAGES * FILLS_PAGE:,} fills in a UTC day: the newest of the first read"
    return Panel("fills", "Recent fills", "table", FILL_COLUMNS, rows, note=note, wide=True,
                 empty="No fills in the 24 hours before the snapshot.")


def _wallet_trades(reader: ApiReader, address: str) -> Panel:
    trades = reader.closed_trades(address)
    rows = [{c.key: t[c.key] for c in TRADE_COLUMNS} for t in trades]
    return Panel("trades", "Closed trades", "table", TRADE_COLUMNS, rows, wide=True,
                 note="trades (open to flat) closed in the 7 days before the snapshot, newest first (at most 100); "
                 "net PnL = closed PnL - fees - funding",
                 empty="No trades closed in the 7 days before the snapshot.")


def _wallet_summary(reader: ApiReader, address: str) -> Panel:
    summary = reader.closed_trades_summary(address)
    keys = ["totalTrades", "winningTrades", "losingTrades", "liquidatedTrades", "winRate", "profitFactor",
            "expectancy", "netPnl", "avgGain", "avgLoss", "totalVolume", "totalFees"]
    rows = [{k: summary[k] for k in keys}] if summary["totalTrades"] else []
    tiles = [{"label": label, "key": key, "kind": kind, "value": summary[key], "change": None, "spark": ""}
             for label, key, kind in SUMMARY_TILES]
    return Panel("summary", "Trading summary", "tiles", [Column(k, k) for k in keys], rows,
                 extra={"tiles": tiles}, note="over every closed trade the store has rebuilt for the wallet",
                 empty="No closed trades rebuilt from fills yet.")


# --- Status -----------------------------------------------------------------------------------------

EXPORT_ROUTES = [
    ("/api/external/exports/coins/{coin}/position-metrics", "a coin's figures, 2-hour samples over 14 days"),
    ("/api/external/exports/coins/{coin}/position-breakdown-by-size", "10 size buckets, now and 24 h earlier"),
    ("/api/external/exports/coins/{coin}/position-breakdown-by-cohort", "16 cohorts (-24h, -7d, -30d variants)"),
    ("/api/external/exports/coins/{coin}/segment-metrics", "per cohort, 12-hour samples over 7 days"),
    ("/api/external/exports/coins/{coin}/liquidation-heatmap", "100 liquidation price bins"),
    ("/api/external/exports/coins/{coin}/positions", "the coin's open positions (JSON)"),
    ("/api/external/positions/open/coin/{coin}", "open positions, CSV with Accept: text/csv"),
    ("/api/external/exports/segments-bias-charts-data-24h", "every cohort's bias over 72 hours"),
    ("/api/external/exports/total-wallets-equity-chart-data", "wallet equity: all-time high, 24 h ago, daily"),
]


def status_page(reader: ApiReader, view: View) -> Page:
    health = reader.health()
    state = reader.state_status()
    facts = Panel(
        "health",
        "Health",
        "facts",
        [Column("name", "name"), Column("value", "value")],
        [{"name": k, "value": v} for k, v in health.items()],
    )
    state_panel = Panel(
        "state",
        "State status",
        "facts",
        [Column("name", "name"), Column("value", "value")],
        [{"name": k, "value": v} for k, v in state.items()],
    )
    exports = Panel(
        "exports",
        "Exports (API key needed)",
        "table",
        [Column("route", "route"), Column("file", "file")],
        [{"route": r, "file": f} for r, f in EXPORT_ROUTES],
        wide=True,
        note="the OpenAPI description: /docs and /openapi.json",
    )
    return Page("Status", [facts, state_panel, exports], subtitle="freshness of the data and the API's files")
