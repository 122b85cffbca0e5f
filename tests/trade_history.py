"""A tiny hand-made history of fills, shared by the engine and API tests of closed trades.

Times are minutes after T0; snapshots are taken at T1 = T0+10m and T2 = T0+20m.

Wallet A, BTC (one trade of every kind):
  m1  buy  2 @ 100 from 0   Open Long     fee 0.2               trade 1 opens (long)
  m2  buy  2 @ 110 from +2  Open Long     fee 0.2               add: entry (200 + 220) / 4 = 105
  -- snapshot T1: trade 1 open, size 4 --
  m11 sell 1 @ 120 from +4  Close Long    closedPnl 15, fee 0.1 partial close
  m12 sell 5 @ 130 from +3  Long > Short  closedPnl 75, fee 0.5 flip: closes 3 (fee 0.3), opens 2 short (fee 0.2)
      trade 1 closed: size 4, entry 105, exit (120 + 390) / 4 = 127.5, closedPnl 90, fees 0.8, net 89.2,
      volume 420 + 510 = 930, 4 fills, max size 4
  m13 buy  2 @ 140 from -2  Close Short   closedPnl -20, fee 0, A's liquidation (backstop, mark 141)
      trade 2 closed: short, size 2, entry 130, exit 140, closedPnl -20, fees 0.2, net -20.2,
      volume 260 + 280 = 540, 2 fills, liquidated
Wallet B, ETH:
  m3  sell 10 @ 10 from 0   Open Short    fee 0.05              trade 3 opens (short)
  -- snapshot T1 --
  m14 buy 10 @ 9 from -10   Close Short   closedPnl 10, fee 0.05
      trade 3 closed: size 10, entry 10, exit 9, closedPnl 10, fees 0.1, net 9.9, volume 190, 2 fills
  m15 buy 3 @ 9 from 0      Open Long     fee 0.01              trade 4, still open at T2
Wallet C, BTC: m4 sell 2 @ 100 from +5 (Close Long): its position opened before any fill seen: no trade.
The counterparty of A's liquidation, the liquidator L, takes the other side (is_liquidation, liquidated
user A): it opens L's short (trade 5, still open at T2); it is not L's own liquidation, so no trade of L
counts as liquidated and /fills/liquidation lists only A's fill.

Summary of A over all trades: 2 trades, 1 win (89.2), 1 loss (-20.2): winRate 0.5, profitFactor
89.2 / 20.2, avgGain 89.2, avgLoss -20.2, payoffRatio 89.2 / 20.2, netPnl 69, expectancy 34.5.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from hltracker.model.schemas import FILLS_SCHEMA

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=10)
T2 = T0 + timedelta(minutes=20)
A, B, C, L = ("0x" + ch * 40 for ch in "abcf")


def fill(minute: int, who: str, coin: str, side: str, px: float, sz: float, start: float, dir_: str,
         pnl: float = 0.0, fee: float = 0.0, tid: int | None = None, liquidated: str | None = None) -> dict:
    return {
        "time": T0 + timedelta(minutes=minute), "address": who, "coin": coin, "dex": "main", "side": side,
        "px": px, "sz": sz, "start_position": start, "dir": dir_, "closed_pnl": pnl, "fee": fee,
        "crossed": True, "tid": tid if tid is not None else 1000 + minute, "is_liquidation": liquidated is not None,
        "liquidated_user": liquidated, "liquidation_mark_px": 141.0 if liquidated else None,
        "liquidation_method": "backstop" if liquidated else None,
    }


BEFORE_T1 = [
    fill(1, A, "BTC", "B", 100.0, 2.0, 0.0, "Open Long", fee=0.2),
    fill(2, A, "BTC", "B", 110.0, 2.0, 2.0, "Open Long", fee=0.2),
    fill(3, B, "ETH", "A", 10.0, 10.0, 0.0, "Open Short", fee=0.05),
    fill(4, C, "BTC", "A", 100.0, 2.0, 5.0, "Close Long"),
]
BEFORE_T2 = [
    fill(11, A, "BTC", "A", 120.0, 1.0, 4.0, "Close Long", pnl=15.0, fee=0.1),
    fill(12, A, "BTC", "A", 130.0, 5.0, 3.0, "Long > Short", pnl=75.0, fee=0.5),
    fill(13, A, "BTC", "B", 140.0, 2.0, -2.0, "Close Short", pnl=-20.0, tid=7, liquidated=A),
    fill(13, L, "BTC", "A", 140.0, 2.0, 0.0, "Open Short", tid=7, liquidated=A),
    fill(14, B, "ETH", "B", 9.0, 10.0, -10.0, "Close Short", pnl=10.0, fee=0.05),
    fill(15, B, "ETH", "B", 9.0, 3.0, 0.0, "Open Long", fee=0.01),
]


def fills(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FILLS_SCHEMA)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)
