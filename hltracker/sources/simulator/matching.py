"""Matching buy and sell intents into trades, for every market at once.

Each intent is a signed size change in lots (integers, so sums are exact). Per market the intents sum
to zero (market makers absorb the rest beforehand). Buys and sells are laid on one line each, market
after market, as cumulative sizes; every breakpoint of either line ends a trade between the buyer and
the seller whose intervals contain it. The same two-pointer walk an order book does, but vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Trades:
    market: np.ndarray  # int32, market index of each trade
    buyer: np.ndarray  # int64, index into the intents
    seller: np.ndarray  # int64, index into the intents
    lots: np.ndarray  # int64, > 0
    buyer_before: np.ndarray  # int64, lots the buyer had filled of its intent before this trade
    seller_before: np.ndarray  # int64, likewise for the seller
    progress: np.ndarray  # float64 in (0, 1]: position of the trade in its market's flow (for time)

    def __len__(self) -> int:
        return int(self.lots.shape[0])


def match_intents(market: np.ndarray, delta: np.ndarray, order_key: np.ndarray) -> Trades:
    """Match intents (market index, signed lots) into trades.

    `order_key` (float) orders the intents inside a market (queue position); ties keep input order.
    Raises ValueError when a market's intents do not sum to zero.
    """
    n_markets = int(market.max()) + 1 if market.size else 0
    net = np.bincount(market, weights=delta.astype(np.float64), minlength=n_markets)
    exact_net = np.zeros(n_markets, dtype=np.int64)
    np.add.at(exact_net, market, delta)
    if np.any(exact_net != 0):
        bad = np.flatnonzero(exact_net)[:5]
        raise ValueError(f"intents do not balance in markets {bad.tolist()}: net {net[bad].tolist()}")

    buys = np.flatnonzero(delta > 0)
    sells = np.flatnonzero(delta < 0)
    buys = buys[np.lexsort((order_key[buys], market[buys]))]
    sells = sells[np.lexsort((order_key[sells], market[sells]))]
    buy_cum = np.cumsum(delta[buys])
    sell_cum = np.cumsum(-delta[sells])
    if buys.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Trades(empty.astype(np.int32), empty, empty, empty, empty, empty, empty.astype(np.float64))

    ends = np.union1d(buy_cum, sell_cum)  # sorted, unique; both lines end at the same total
    starts = np.concatenate([[0], ends[:-1]])
    bi = np.searchsorted(buy_cum, ends, side="left")
    si = np.searchsorted(sell_cum, ends, side="left")
    buy_start = np.concatenate([[0], buy_cum[:-1]])
    sell_start = np.concatenate([[0], sell_cum[:-1]])

    trade_market = market[buys[bi]]
    # Where each market's flow begins and ends on the line, for the trade's relative position.
    market_total = np.zeros(n_markets, dtype=np.int64)
    np.add.at(market_total, market[buys], delta[buys])
    market_base = np.concatenate([[0], np.cumsum(market_total)[:-1]])
    tm_base = market_base[trade_market]
    progress = (ends - tm_base) / np.maximum(market_total[trade_market], 1)

    return Trades(
        market=trade_market.astype(np.int32),
        buyer=buys[bi],
        seller=sells[si],
        lots=ends - starts,
        buyer_before=starts - buy_start[bi],
        seller_before=starts - sell_start[si],
        progress=progress.astype(np.float64),
    )
