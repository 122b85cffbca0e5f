"""A wallet's trading statistics over its closed trades (`GET /closed-trades/summary`).

Every figure uses a trade's `net_pnl` (closedPnl - fees - funding when known): a win is a trade with
net PnL > 0, a loss one with net PnL < 0 (a trade at exactly 0 counts in `totalTrades` only). The
formulas are those of the vendor's notes (hypertracker-api-notes.md section 6):
profitFactor = totalWinningPnl / |totalLosingPnl|, payoffRatio = avgGain / |avgLoss|,
expectancy = netPnl / totalTrades, expectancyPct = expectancy / avgTradeSize (a fraction, as written
there), volumeSharePct = coin volume / total volume (a fraction too); winRate is 0-1; durations are ms.
A trade's size in USD is its entry notional (size x average entry price). A ratio whose denominator
is 0 is null. Sums run in the order the store returns the trades, so both backends give the same bytes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

_MS = timedelta(milliseconds=1)


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def trade_summary(trades: pl.DataFrame) -> dict[str, Any]:
    """The summary figures of `trades` (CLOSED_TRADES_SCHEMA rows, newest close first)."""
    rows = trades.to_dicts()
    pnl = [r["net_pnl"] for r in rows]
    gains = [p for p in pnl if p > 0]
    losses = [p for p in pnl if p < 0]
    won, lost = sum(gains), sum(losses)
    net = sum(pnl)
    sizes = [r["size"] * r["entry_price"] for r in rows]
    volume = sum(r["volume"] for r in rows)
    avg_gain, avg_loss = _mean(gains), _mean(losses)
    expectancy = _ratio(net, len(rows))
    avg_size = _mean(sizes)
    by_coin: dict[str, list[dict]] = {}
    for r in rows:
        by_coin.setdefault(r["coin"], []).append(r)
    coins = [
        {
            "coin": coin,
            "totalTrades": len(of),
            "winningTrades": sum(1 for r in of if r["net_pnl"] > 0),
            "losingTrades": sum(1 for r in of if r["net_pnl"] < 0),
            "winRate": _ratio(sum(1 for r in of if r["net_pnl"] > 0), len(of)),
            "netPnl": sum(r["net_pnl"] for r in of),
            "volume": sum(r["volume"] for r in of),
            "volumeSharePct": _ratio(sum(r["volume"] for r in of), volume),
        }
        for coin, of in by_coin.items()
    ]
    coins.sort(key=lambda c: (-c["totalTrades"], c["coin"]))
    return {
        "totalTrades": len(rows),
        "winningTrades": len(gains),
        "losingTrades": len(losses),
        "liquidatedTrades": sum(1 for r in rows if r["liquidated"]),
        "winRate": _ratio(len(gains), len(rows)),
        "netPnl": net,
        "totalWinningPnl": won,
        "totalLosingPnl": lost,
        "profitFactor": _ratio(won, abs(lost)),
        "avgGain": avg_gain,
        "avgLoss": avg_loss,
        "payoffRatio": _ratio(avg_gain, abs(avg_loss)) if avg_gain is not None and avg_loss is not None else None,
        "expectancy": expectancy,
        "expectancyPct": _ratio(expectancy, avg_size) if expectancy is not None and avg_size is not None else None,
        "avgTradeSize": avg_size,
        "totalVolume": volume,
        "totalFees": sum(r["fees"] for r in rows),
        "totalFunding": sum(r["funding"] or 0.0 for r in rows),
        "avgDurationMs": _mean([(r["close_time"] - r["open_time"]) // _MS for r in rows]),
        "coins": coins,
    }
