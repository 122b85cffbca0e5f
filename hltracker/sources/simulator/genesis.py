"""Genesis: the market as it stands when the simulation starts, built from matched trades.

Every trader picks its markets and sides and a size from its equity, utilisation and leverage; per
market the sizes are scaled to the calibrated open interest; market makers take the net. The long
holders are then matched against the short holders (`matching.match_intents`) in trades dated back
along an hourly price history, so every open position has real opening fills: its entry price is the
size-weighted price of its fills and its open time the first of them. The fills before the first
snapshot are not emitted; they only feed entry prices, open times and 30-day volumes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hltracker.sources.simulator import population as pop
from hltracker.sources.simulator.book import PositionBook
from hltracker.sources.simulator.matching import match_intents
from hltracker.sources.simulator.prices import price_history, round_price
from hltracker.sources.simulator.universe import Universe

HISTORY_DAYS = 120
# No position opens (or grows, market.py) above this share of its market's calibrated open interest. The
# sizing rule scales a wallet's raw size by a per-market factor; where few, small wallets hold a market at
# genesis the factor is large, and a whale opening there later took a position many times the market's
# whole open interest.
MARKET_SHARE_CAP = 0.1
MS_PER_HOUR = 3_600_000


@dataclass
class Genesis:
    book: PositionBook
    cash: np.ndarray  # (wallets, dexes)
    size_factor: np.ndarray  # per market: value multiplier that hits the calibrated open interest
    fill_wallet: np.ndarray  # genesis fills, for 30-day and 24-hour volumes
    fill_market: np.ndarray
    fill_notional: np.ndarray
    fill_ms: np.ndarray


def choose_markets(rng: np.random.Generator, uni: Universe, wallets: np.ndarray) -> np.ndarray:
    weights = np.where(uni.delisted, 0.0, uni.target_positions)
    return rng.choice(uni.n, size=wallets.shape[0], p=weights / weights.sum())


def side_and_raw_value(rng: np.random.Generator, uni: Universe, people: pop.Population, wallet: np.ndarray,
                       market: np.ndarray, n_positions: np.ndarray):
    """Side (+1/-1), leverage setting, isolated flag and unscaled USD value of new positions."""
    p_long = uni.long_share[market]
    side = np.where(rng.random(wallet.shape[0]) < p_long, 1, -1)
    lev = np.minimum(people.leverage[wallet], uni.max_leverage[market]).astype(np.int32)
    isolated = uni.only_isolated[market] | (rng.random(wallet.shape[0]) < people.isolated_pref[wallet])
    share = rng.exponential(1.0, wallet.shape[0]) / np.maximum(n_positions, 1)
    # Balance value across sides in expectation: the rarer side holds the larger positions.
    side_weight = np.where(side > 0, 0.5 / p_long, 0.5 / (1 - p_long))
    raw = people.equity[wallet] * people.utilisation[wallet] * share * lev * side_weight
    return side, lev, isolated, raw


def to_lots(uni: Universe, market: np.ndarray, value: np.ndarray, price: np.ndarray) -> np.ndarray:
    return np.maximum(1, np.round(value / price[market] / uni.lot[market])).astype(np.int64)


def house_leverage(uni: Universe, market: np.ndarray) -> np.ndarray:
    """Leverage setting of market makers and the liquidator vault: 5x, or the market's max if lower."""
    return np.minimum(5, uni.max_leverage[market]).astype(np.int32)


def mm_absorb(rng: np.random.Generator, market: np.ndarray, delta: np.ndarray, n_markets: int,
              mm_wallets: np.ndarray, mm_inventory: np.ndarray | None = None, reversion: float = 0.0,
              revise_share: float = 0.1):
    """Market-maker intents that bring each market's net to zero (plus optional inventory reversion).

    Returns (wallet, market, delta) with one intent per (market maker, market), zeros dropped.
    `mm_inventory` has shape (market makers, markets), in lots; a `revise_share` of its entries are
    unwound by `reversion` of their size.
    """
    n_mm = mm_wallets.shape[0]
    net = np.zeros(n_markets, dtype=np.int64)
    np.add.at(net, market, delta)
    want = np.zeros((n_mm, n_markets), dtype=np.int64)
    if mm_inventory is not None and reversion > 0:
        # Each step a market maker unwinds part of its inventory in a random share of its markets.
        revise = rng.random(mm_inventory.shape) < revise_share
        want = np.where(revise, -np.round(mm_inventory * reversion), 0).astype(np.int64)
    residual = -(net + want.sum(axis=0))
    # Each market's residual flow goes to one market maker: the market's lead maker, the one already
    # holding the largest inventory there (a maker drawn per market and step while none holds any).
    # Handing it to a maker drawn afresh each step let the makers' inventories wander apart, long
    # against short, so that their gross open interest and their number of positions (every maker in
    # every market) grew for days while their net stayed the traders' net.
    taker_mm = rng.integers(0, n_mm, n_markets)
    if mm_inventory is not None:
        size = np.abs(mm_inventory)
        held = size.max(axis=0) > 0
        taker_mm = np.where(held, size.argmax(axis=0), taker_mm)
    alloc = np.zeros((n_mm, n_markets), dtype=np.int64)
    alloc[taker_mm, np.arange(n_markets)] = residual
    total = want + alloc
    mi, mk = np.nonzero(total)
    return mm_wallets[mi], mk.astype(np.int64), total[mi, mk]


def _size_factors(raw: np.ndarray, cap: np.ndarray, market: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per market, the factor f in [0.01, 50] with sum(min(raw x f, cap)) = target where it can be met
    (bisection in log space, all markets at once): the capped sizes, not the raw ones, hit the target."""
    n = target.shape[0]
    lo, hi = np.full(n, np.log(0.01)), np.full(n, np.log(50.0))
    for _ in range(40):
        mid = (lo + hi) / 2
        got = np.bincount(market, weights=np.minimum(raw * np.exp(mid)[market], cap), minlength=n)
        below = got < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    has = np.bincount(market, minlength=n) > 0
    return np.where(has, np.exp((lo + hi) / 2), 1.0)


def build_genesis(rng: np.random.Generator, uni: Universe, people: pop.Population, scale: float,
                  now_ms: int, mark: np.ndarray) -> Genesis:
    traders = np.flatnonzero(people.kind == pop.TRADER)
    counts = people.n_target[traders].astype(np.int64)
    wallet = np.repeat(traders, counts)
    market = choose_markets(rng, uni, wallet)
    keys = wallet * uni.n + market
    _, first = np.unique(keys, return_index=True)  # a wallet holds one position per market
    first.sort()
    wallet, market = wallet[first], market[first]
    n_pos = np.bincount(wallet, minlength=len(people))[wallet]
    side, lev, isolated, raw = side_and_raw_value(rng, uni, people, wallet, market, n_pos)

    cap = np.minimum(people.equity[wallet] * lev * 0.9, MARKET_SHARE_CAP * uni.target_oi[market] * scale)
    factor = _size_factors(raw, cap, market, uni.target_oi * scale)
    value = np.minimum(raw * factor[market], cap)
    lots = side * to_lots(uni, market, value, mark)

    mm = np.flatnonzero(people.kind == pop.MARKET_MAKER)
    mw, mk, md = mm_absorb(rng, market, lots, uni.n, mm)
    all_wallet = np.concatenate([wallet, mw])
    all_market = np.concatenate([market, mk])
    all_lots = np.concatenate([lots, md])
    all_lev = np.concatenate([lev, house_leverage(uni, mk)])
    all_iso = np.concatenate([isolated, uni.only_isolated[mk]])

    # Date the opening trades back along an hourly history: each holder has an age; a trade happens
    # when the younger of its two sides arrived.
    hours = HISTORY_DAYS * 24
    history = price_history(rng, mark, uni.daily_vol, hours)
    hold_h = np.concatenate([people.hold_days[wallet], np.full(mw.shape[0], 3.0)]) * 24
    age_h = np.minimum(rng.exponential(hold_h * 1.5), hours - 1)
    trades = match_intents(all_market, all_lots, rng.random(all_lots.shape[0]))
    trade_age = np.minimum(age_h[trades.buyer], age_h[trades.seller])
    hour_idx = np.ceil(trade_age).astype(np.int64)
    trade_px = round_price(history[hour_idx, trades.market], uni.sz_decimals[trades.market])
    trade_ms = now_ms - (trade_age * MS_PER_HOUR).astype(np.int64) - 1

    n = all_lots.shape[0]
    notional = trades.lots * uni.lot[trades.market] * trade_px
    holder = np.concatenate([trades.buyer, trades.seller])
    fill_lots = np.concatenate([trades.lots, trades.lots]).astype(np.float64)
    fill_px = np.concatenate([trade_px, trade_px])
    entry = np.bincount(holder, weights=fill_lots * fill_px, minlength=n) / np.bincount(
        holder, weights=fill_lots, minlength=n)
    open_ms = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(open_ms, holder, np.concatenate([trade_ms, trade_ms]))

    szi = all_lots * uni.lot[all_market]
    age_hours = (now_ms - open_ms) / MS_PER_HOUR
    funding_open = szi * mark[all_market] * 1.25e-5 * age_hours * rng.uniform(0.3, 1.7, n)
    book = PositionBook(
        wallet=all_wallet.astype(np.int64), market=all_market.astype(np.int64), lots=all_lots,
        entry=entry, leverage=all_lev.astype(np.int32), isolated=all_iso,
        iso_margin=np.zeros(n), funding_open=funding_open,
        funding_change=funding_open * rng.uniform(0, 1, n), funding_all=funding_open * rng.uniform(1, 3, n),
        open_ms=open_ms,
    ).sorted_by_key(uni.n)
    cash = _collateral(rng, uni, people, book, mark)
    return Genesis(
        book=book, cash=cash, size_factor=factor,
        fill_wallet=np.concatenate([all_wallet[trades.buyer], all_wallet[trades.seller]]),
        fill_market=np.concatenate([trades.market, trades.market]).astype(np.int64),
        fill_notional=np.concatenate([notional, notional]),
        fill_ms=np.concatenate([trade_ms, trade_ms]),
    )


def _collateral(rng: np.random.Generator, uni: Universe, people: pop.Population, book: PositionBook,
                mark: np.ndarray) -> np.ndarray:
    """Per (wallet, dex) cross collateral and isolated margins so that each wallet's account value is
    its sampled equity, and no book starts below 1.25x its maintenance margin."""
    n_w, n_d = len(people), len(uni.dexes)
    m = book.market
    szi = book.lots * uni.lot[m]
    value = np.abs(szi) * mark[m]
    upnl = szi * (mark[m] - book.entry)
    mmr = uni.mmr(m, value)
    iso = book.isolated
    im = value / book.leverage
    # Isolated: margin = initial margin x (1..1.3) at entry, at least 1.25x maintenance now.
    iso_margin = np.where(iso, np.abs(szi) * book.entry / book.leverage * rng.uniform(1.0, 1.3, len(book)), 0.0)
    iso_margin = np.where(iso, np.maximum(iso_margin, 1.25 * value * mmr - upnl), 0.0)
    book.iso_margin[:] = iso_margin

    flat = book.wallet * n_d + uni.dex_index[m]
    size = n_w * n_d
    cross_upnl = np.bincount(flat, weights=np.where(iso, 0.0, upnl), minlength=size)
    cross_im = np.bincount(flat, weights=np.where(iso, 0.0, im), minlength=size)
    cross_mm = np.bincount(flat, weights=np.where(iso, 0.0, value * mmr), minlength=size)
    iso_eq = np.bincount(flat, weights=np.where(iso, iso_margin + upnl, 0.0), minlength=size)

    cash = np.zeros(size)
    dex_of = np.tile(np.arange(n_d), n_w)
    hip3 = dex_of > 0
    cash[hip3] = np.where(cross_im[hip3] > 0, cross_im[hip3] * rng.uniform(1.3, 3.0, hip3.sum()), 0.0)
    per_wallet_other = (cash + cross_upnl + iso_eq).reshape(n_w, n_d)
    per_wallet_other[:, 0] = iso_eq.reshape(n_w, n_d)[:, 0]
    main = np.arange(n_w) * n_d
    cash[main] = people.equity - per_wallet_other.sum(axis=1) - cross_upnl[main]
    # Never start liquidatable, never with negative collateral.
    floor = np.maximum(1.25 * cross_mm - cross_upnl, 0.0)
    return np.maximum(cash, floor).reshape(n_w, n_d)
