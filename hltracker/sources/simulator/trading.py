"""Applying matched trades to the book: entry prices, flips, realised PnL, margin moves and fills.

Each (wallet, market) has at most one intent per batch, so every row changes once. All fills of a
market in a batch trade at one price; with that, aggregating a wallet's fills is exact:
increases take the size-weighted entry, reductions keep it, a trade through zero closes the old
side at the old entry and opens the new side at the trade price (a flip).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hltracker.sources.simulator.book import PositionBook
from hltracker.sources.simulator.matching import Trades, match_intents
from hltracker.sources.simulator.universe import Universe

TAKER_FEE = 0.00045
MAKER_FEE = 0.00015


@dataclass
class Intents:
    wallet: np.ndarray  # int64
    market: np.ndarray  # int64
    delta: np.ndarray  # int64 lots, non-zero
    leverage: np.ndarray  # int32, used when the intent opens a side
    isolated: np.ndarray  # bool, likewise
    taker: np.ndarray  # bool: crosses the book (pays the taker fee)
    queue: np.ndarray  # float64: arrival order inside the market

    def __len__(self) -> int:
        return int(self.delta.shape[0])


@dataclass
class FillBatch:
    """Both sides of every trade of a batch, as arrays (one row per fill)."""

    time_ms: np.ndarray
    wallet: np.ndarray
    market: np.ndarray
    is_buy: np.ndarray
    px: np.ndarray
    lots: np.ndarray
    start_lots: np.ndarray
    closed_pnl: np.ndarray
    fee: np.ndarray
    crossed: np.ndarray
    tid: np.ndarray
    liquidated_wallet: np.ndarray  # -1 unless a liquidation fill
    liquidation_mark: np.ndarray  # NaN unless a liquidation fill

    @classmethod
    def concat(cls, batches: list[FillBatch]) -> FillBatch:
        names = cls.__dataclass_fields__
        return cls(**{k: np.concatenate([getattr(b, k) for b in batches]) for k in names})


@dataclass
class BatchResult:
    book: PositionBook  # sorted by key
    fills: FillBatch
    cash_delta: np.ndarray  # per intent: change of the wallet's cross cash on the market's dex
    notional: np.ndarray  # per intent: traded USD


def execute(
    book: PositionBook, uni: Universe, intents: Intents, trade_px: np.ndarray, t0_ms: int, t1_ms: int,
    next_tid: int, liquidation: tuple[np.ndarray, np.ndarray] | None = None,
) -> BatchResult:
    """Match `intents`, apply the trades to `book` (sorted by key) and return the new book and fills.

    `liquidation` = (liquidated wallet per intent or -1, mark per market) marks liquidation fills.
    """
    trades = match_intents(intents.market, intents.delta, intents.queue)
    n_m = uni.n
    keys = intents.wallet * n_m + intents.market
    row = book.lookup(keys, n_m)
    has = row >= 0
    old = np.where(has, book.lots[np.maximum(row, 0)], 0)
    old_entry = np.where(has, book.entry[np.maximum(row, 0)], 0.0)
    new = old + intents.delta
    lot = uni.lot[intents.market]
    px = trade_px[intents.market]

    fills = _fills(trades, intents, old, old_entry, uni, trade_px, t0_ms, t1_ms, next_tid, liquidation)
    n_int = len(intents)
    intent_of_fill = np.concatenate([trades.buyer, trades.seller])
    realised = np.bincount(intent_of_fill, weights=fills.closed_pnl, minlength=n_int)
    fees = np.bincount(intent_of_fill, weights=fills.fee, minlength=n_int)
    notional = np.bincount(intent_of_fill, weights=fills.px * fills.lots * uni.lot[fills.market],
                           minlength=n_int)
    opens_side = (new != 0) & ((old == 0) | (np.sign(new) != np.sign(old)))
    open_ms = np.full(n_int, -1, dtype=np.int64)
    start = fills.start_lots
    end = start + np.where(fills.is_buy, fills.lots, -fills.lots)
    opening_fill = (end != 0) & ((start == 0) | (np.sign(end) != np.sign(start)))
    open_ms[intent_of_fill[opening_fill]] = fills.time_ms[opening_fill]

    increase = (old == 0) | (np.sign(intents.delta) == np.sign(old))
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = (np.abs(old) * old_entry + np.abs(intents.delta) * px) / np.abs(new)
    entry = np.where(opens_side, px, np.where(increase, avg, old_entry))

    # Isolated margin: allocate on increases, release pro rata on reductions, all of it on a close/flip.
    was_iso = np.where(has, book.isolated[np.maximum(row, 0)], False)
    iso_now = np.where(has & ~opens_side, was_iso, intents.isolated)
    lev_now = np.where(has & ~opens_side, book.leverage[np.maximum(row, 0)], intents.leverage)
    iso_old = np.where(has, book.iso_margin[np.maximum(row, 0)], 0.0)
    closed_lots = np.where(increase, 0, np.minimum(np.abs(intents.delta), np.abs(old)))
    with np.errstate(divide="ignore", invalid="ignore"):
        released = np.where(was_iso & (old != 0), iso_old * closed_lots / np.maximum(np.abs(old), 1), 0.0)
    added_lots = np.where(opens_side, np.abs(new), np.where(increase, np.abs(intents.delta), 0))
    allocated = np.where(iso_now, added_lots * lot * px / lev_now, 0.0)
    iso_new = np.where(iso_now, iso_old - released + allocated, 0.0)
    iso_new = np.where(opens_side, np.where(iso_now, allocated, 0.0), iso_new)
    cash_delta = realised - fees + released - allocated

    new_book = _updated_book(book, uni, intents, row, has, new, entry, lev_now, iso_now, iso_new,
                             open_ms, opens_side)
    return BatchResult(book=new_book, fills=fills, cash_delta=cash_delta, notional=notional)


def _fills(trades: Trades, intents: Intents, old: np.ndarray, old_entry: np.ndarray, uni: Universe,
           trade_px: np.ndarray, t0_ms: int, t1_ms: int, next_tid: int,
           liquidation: tuple[np.ndarray, np.ndarray] | None) -> FillBatch:
    n = len(trades)
    span = max(t1_ms - t0_ms - 2, 0)
    time_ms = t0_ms + 1 + np.floor(trades.progress * span).astype(np.int64)
    tid = next_tid + np.arange(n, dtype=np.int64)
    px = trade_px[trades.market]
    lot = uni.lot[trades.market]
    sides = []
    for who, before, is_buy in ((trades.buyer, trades.buyer_before, True),
                                (trades.seller, trades.seller_before, False)):
        sign = 1 if is_buy else -1
        start = old[who] + sign * before
        closing = np.where(np.sign(start) == -sign, np.minimum(trades.lots, np.abs(start)), 0)
        closed_pnl = closing * lot * (px - old_entry[who]) * np.sign(start)
        taker = intents.taker[who]
        fee_rate = np.where(taker, TAKER_FEE, MAKER_FEE)
        liq_wallet = np.full(n, -1, dtype=np.int64)
        liq_mark = np.full(n, np.nan)
        if liquidation is not None:
            liquidated, marks = liquidation
            victim = np.maximum(liquidated[trades.buyer], liquidated[trades.seller])
            liq_wallet = victim
            liq_mark = marks[trades.market]
            fee_rate = np.zeros(n)
        sides.append(FillBatch(
            time_ms=time_ms, wallet=intents.wallet[who], market=trades.market.astype(np.int64),
            is_buy=np.full(n, is_buy), px=px, lots=trades.lots, start_lots=start, closed_pnl=closed_pnl,
            fee=trades.lots * lot * px * fee_rate, crossed=taker, tid=tid,
            liquidated_wallet=liq_wallet, liquidation_mark=liq_mark,
        ))
    return FillBatch.concat(sides)


def _updated_book(book: PositionBook, uni: Universe, intents: Intents, row: np.ndarray, has: np.ndarray,
                  new: np.ndarray, entry: np.ndarray, lev: np.ndarray, iso: np.ndarray, iso_margin: np.ndarray,
                  open_ms: np.ndarray, opens_side: np.ndarray) -> PositionBook:
    upd = row[has]
    b = book.take(np.arange(len(book)))  # a copy we may write into
    b.lots[upd] = new[has]
    b.entry[upd] = entry[has]
    b.leverage[upd] = lev[has]
    b.isolated[upd] = iso[has]
    b.iso_margin[upd] = iso_margin[has]
    b.funding_change[upd] = 0.0
    flipped = has & opens_side
    b.funding_open[row[flipped]] = 0.0
    b.open_ms[row[flipped]] = open_ms[flipped]

    fresh = ~has & (new != 0)
    added = PositionBook(
        wallet=intents.wallet[fresh], market=intents.market[fresh], lots=new[fresh], entry=entry[fresh],
        leverage=lev[fresh].astype(np.int32), isolated=iso[fresh], iso_margin=iso_margin[fresh],
        funding_open=np.zeros(fresh.sum()), funding_change=np.zeros(fresh.sum()),
        funding_all=np.zeros(fresh.sum()), open_ms=open_ms[fresh],
    )
    merged = b.extend(added)
    return merged.take(np.flatnonzero(merged.lots != 0)).sorted_by_key(uni.n)
