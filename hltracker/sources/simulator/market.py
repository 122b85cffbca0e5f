"""The simulated exchange: state plus one `step()` per tick of the logical clock.

A step, in exchange order: oracle and mark move; hourly funding is paid at the oracle price when an
hour boundary passes; positions whose maintenance margin is breached are taken over by the liquidator
vault (a backstop liquidation, with liquidation fills on both sides); traders close, resize, flip and
open positions, market makers absorb the net flow, and the intents are matched into trades; wallets
close to liquidation deposit, wallets well above their usual equity withdraw (TOP_UP_*, WITHDRAW_*).
Everything is vectorised over positions and wallets.

Steps need not be equal: `step(step_ms)` advances by any length (a backfill at a coarse step, then live
steps of seconds). Every rate is per unit of time: holding times, size changes and the oracle walk are
continuous-time already; the per-step shares that were calibrated at the 15-minute default step
(premium reversion, market-maker unwinding, the pull of the position count, the vault NAV walk) are
compounded to the step's length (`REFERENCE_STEP_MS`), so a 15-minute step behaves exactly as before.
The 24h volume sums fills by their time in 5-minute buckets, whatever the steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from hltracker.sources.simulator import population as pop
from hltracker.sources.simulator.book import PositionBook
from hltracker.sources.simulator.genesis import (
    MARKET_SHARE_CAP,
    Genesis,
    build_genesis,
    choose_markets,
    house_leverage,
    mm_absorb,
    side_and_raw_value,
    to_lots,
)
from hltracker.sources.simulator.margin import MarginView, margin_view
from hltracker.sources.simulator.prices import funding_rate, round_price, walk_oracle, walk_premium
from hltracker.sources.simulator.profiles import Profile
from hltracker.sources.simulator.trading import FillBatch, Intents, execute
from hltracker.sources.simulator.universe import Universe, build_universe

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
VOLUME_DAYS = 30
REFERENCE_STEP_MS = 15 * 60_000  # the step at which the per-step shares below were calibrated
DAY_VOLUME_BUCKET_MS = 5 * 60_000  # time resolution of the 24h market volume
DAY_VOLUME_SLOTS = MS_PER_DAY // DAY_VOLUME_BUCKET_MS + 1  # every bucket that can lie in a 24h window
OPEN_PULL = 0.05  # share of the gap to the target position count closed per reference step
MM_REVISE_SHARE = 0.1  # share of (market maker, market) inventories revised per reference step
NAV_DRIFT, NAV_VOL = 0.00002, 0.0008  # vault NAV log-walk per reference step
# A size change moves the size a U(0, 1) part of the way to a fresh size drawn by the wallet's sizing
# rule (the rule of its opens), so held sizes keep the distribution sizes open at. It used to multiply
# the size by 1 + U(-0.7, 1.0): a mean of 1.15 grew every long-held position, and even at a mean of 1 the
# product is a martingale whose tail runs away (one wallet's position grew to many times its equity in
# days), taking the open interest and the margin deposits with it. A flip lands on the other side at
# U(0.5, 1.5) x the old size.
FLIP_RANGE = (0.5, 1.5)
# The liquidator vault unwinds what it took over: this share of each inherited position per reference
# step, trading with the market makers (before, it held every liquidated position for ever, so its open
# interest only grew).
LIQUIDATOR_UNWIND = 0.1
# Wallets take profits out: a wallet whose perp equity is above WITHDRAW_ABOVE x its usual equity
# withdraws this share of the excess per reference step, as far as its free main-dex collateral goes.
# Margin calls bring money in (`_top_up_margin`); without a way out, every loser's deposit and every
# winner's gain stayed, and the summed perp equity rose against the open interest day after day.
WITHDRAW_ABOVE = 1.2
WITHDRAW_SHARE = 0.02
# A cross book whose account value falls below TOP_UP_AT x its maintenance margin gets a deposit that
# brings it to TOP_UP_TO x (a margin call heeded). It used to be topped up whenever it fell below its
# initial margin, with a 20% cushion: every adverse move of a busy wallet brought money in, gains stayed,
# and the median trader's perp equity was 1.35x its usual after a day and 1.6x after a week.
TOP_UP_AT, TOP_UP_TO = 1.25, 1.5


def compounded(share: float, steps: float) -> float:
    """A share applied once per reference step, compounded over `steps` reference steps."""
    return share if steps == 1.0 else 1.0 - (1.0 - share) ** steps


@dataclass
class Ledger:
    """Per-wallet daily rings: perp volume, and account value / PnL checkpoints for `portfolio`."""

    volume: np.ndarray  # (wallets, 31) float32, USD traded per day; slot = day % 31
    equity_at: np.ndarray  # (wallets, 31) float64, perp account value at the start of each day
    pnl_at: np.ndarray  # (wallets, 31) float64, all-time PnL at the start of each day
    first_ms: np.ndarray  # int64, when the wallet first appeared


class SimulatedMarket:
    """A seeded, deterministic Hyperliquid-like market. Same seed and profile, same states."""

    def __init__(self, profile: Profile, seed: int = 0):
        self.profile = profile
        self.seed = seed
        self.rng = np.random.default_rng(np.random.PCG64([seed, 0x48_4C]))
        self.uni: Universe = build_universe()
        self.now_ms = int(profile.start.timestamp() * 1000)
        self.step_ms = int(profile.step.total_seconds() * 1000)  # the default step
        self.steps_taken = 0
        self.next_tid = 1
        uni, rng = self.uni, self.rng

        self.oracle = uni.ref_price.copy()
        self.premium = rng.normal(0, 0.0003, uni.n) * ~uni.delisted
        self._set_marks()
        self.people, g = self._genesis_at_perp_equity_target()
        self.book, self.cash, self.size_factor = g.book, g.cash, g.size_factor
        # A trader's usual number of positions is what it holds at genesis (its draws less the repeated
        # markets): a higher target left the multi-market wallets, the richer ones, short of positions
        # from the first step, so that their large opens raised the open interest for a day.
        traders = self.people.kind == pop.TRADER
        held = np.bincount(self.book.wallet, minlength=len(self.people))
        self.people.n_target[traders] = held[traders]
        self.target_positions = float(uni.target_positions.sum() * profile.position_scale)
        self._scale_off_perp()
        view = self.view()
        self.net_deposits = view.perp_equity - self.people.genesis_pnl
        self.mm_wallets = np.flatnonzero(self.people.kind == pop.MARKET_MAKER)
        self.liquidator = int(np.flatnonzero(self.people.kind == pop.LIQUIDATOR)[0])
        self.ledger = self._genesis_ledger(g, view)
        # 24h market volume: USD traded per 5-minute bucket of fill time; slot = bucket % slots.
        self.day_volume = np.zeros((DAY_VOLUME_SLOTS, uni.n))
        self.day_volume_bucket = np.full(DAY_VOLUME_SLOTS, -1, dtype=np.int64)  # bucket held by each slot
        self._seed_day_volume(g)
        self.last_fills = _empty_fills()
        self.last_fundings = _empty_fundings()
        # An optional observer of each step's events (the node streams writer); it only reads what the
        # step does, never draws from `rng` or changes state, so the market is the same with or without.
        self.recorder = None
        self._equity_cache: tuple[int, np.ndarray] | None = None

    # ----- clock -------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)

    # ----- prices ------------------------------------------------------------------------------

    def _set_marks(self) -> None:
        uni = self.uni
        self.oracle_px = round_price(self.oracle, uni.sz_decimals)
        self.mark = round_price(self.oracle * (1 + self.premium), uni.sz_decimals)
        spread = np.abs(self.rng.normal(0, 0.00005, uni.n))
        self.mid = round_price(self.mark * (1 + spread * np.sign(self.premium)), uni.sz_decimals)
        self.funding = funding_rate(self.premium)

    # ----- views -------------------------------------------------------------------------------

    def view(self) -> MarginView:
        return margin_view(self.book, self.uni, self.mark, self.cash)

    def all_time_pnl(self, view: MarginView) -> np.ndarray:
        return view.perp_equity - self.net_deposits

    def spot_equity(self) -> np.ndarray:
        return self.people.spot_usdc + self.people.spot_hype * self.hype_price()

    def staking_equity(self) -> np.ndarray:
        return self.people.staked_hype * self.hype_price()

    def vault_equity(self) -> np.ndarray:
        return self.people.vault_usd * self.vault_nav

    def hype_price(self) -> float:
        return float(self.mark[self.hype_index])

    # ----- genesis helpers ---------------------------------------------------------------------

    def _genesis_at_perp_equity_target(self) -> tuple[pop.Population, Genesis]:
        """Wallets and positions whose summed perp equity meets the profile's target.

        The wallets' equity is fitted to the target (`population.fit_total_equity`); genesis then adds
        collateral where a wallet's positions need more margin than its equity. The second pass, from
        the same random state, fits the equity to the target less that top-up, so the account values
        sum to the target (to a fraction of a percent: the top-up moves a little with the fit).
        """
        profile, rng, scale = self.profile, self.rng, self.profile.position_scale
        target = profile.perp_equity_target * scale
        state = rng.bit_generator.state
        wanted = target
        for _ in range(2):
            rng.bit_generator.state = state
            people = pop.sample_population(rng, profile.n_wallets, profile.n_market_makers, profile.trader_share,
                                           profile.recent_trader_share, scale=scale,
                                           perp_equity_target=wanted / scale)
            g = build_genesis(rng, self.uni, people, scale, self.now_ms, self.mark)
            realised = float(margin_view(g.book, self.uni, self.mark, g.cash).perp_equity.sum())
            wanted -= realised - target
        return people, g

    def _scale_off_perp(self) -> None:
        """Scale spot, staking and vault balances to the seed's split of total wallet equity."""
        p = self.people
        self.hype_index = int(np.flatnonzero(self.uni.coin == "HYPE")[0])
        self.vault_nav = 1.0
        perp_total = float(self.view().perp_equity.sum())
        total = perp_total / pop.PERP_SHARE
        hype = self.hype_price()
        spot_raw = p.spot_usdc.sum() + p.spot_hype.sum() * hype
        p.spot_usdc *= total * pop.SPOT_SHARE / spot_raw
        p.spot_hype *= total * pop.SPOT_SHARE / spot_raw
        p.staked_hype *= total * pop.HYPE_STAKE_SHARE / (p.staked_hype.sum() * hype)
        p.vault_usd *= total * pop.VAULT_SHARE / p.vault_usd.sum()

    def _genesis_ledger(self, g, view: MarginView) -> Ledger:
        n = len(self.people)
        volume = np.zeros((n, VOLUME_DAYS + 1), dtype=np.float32)
        day_now = self.now_ms // MS_PER_DAY
        recent = g.fill_ms >= self.now_ms - VOLUME_DAYS * MS_PER_DAY
        slot = (g.fill_ms[recent] // MS_PER_DAY) % (VOLUME_DAYS + 1)
        np.add.at(volume, (g.fill_wallet[recent], slot), g.fill_notional[recent].astype(np.float32))
        # Wallets that traded recently and closed everything: spread their volume over past days.
        rw = np.flatnonzero(self.people.recent_volume > 0)
        days_ago = self.rng.integers(1, VOLUME_DAYS, rw.shape[0])
        np.add.at(volume, (rw, (day_now - days_ago) % (VOLUME_DAYS + 1)),
                  self.people.recent_volume[rw].astype(np.float32))
        pnl = self.all_time_pnl(view)
        eq = view.perp_equity
        first = self.now_ms - (self.rng.exponential(200, n) * MS_PER_DAY).astype(np.int64)
        return Ledger(volume=volume, equity_at=np.repeat(eq[:, None], VOLUME_DAYS + 1, axis=1),
                      pnl_at=np.repeat(pnl[:, None], VOLUME_DAYS + 1, axis=1), first_ms=first)

    def _seed_day_volume(self, g) -> None:
        # Both sides of a trade are fills; market volume counts each trade once.
        self._add_day_volume(g.fill_ms, g.fill_market, g.fill_notional / 2, self.now_ms)

    def _day_window(self, now_ms: int) -> tuple[int, int]:
        """First and last bucket of the 24 hours up to `now_ms` (buckets that begin at or after now - 24h)."""
        return -((MS_PER_DAY - now_ms) // DAY_VOLUME_BUCKET_MS), now_ms // DAY_VOLUME_BUCKET_MS

    def _add_day_volume(self, time_ms: np.ndarray, market: np.ndarray, notional: np.ndarray, now_ms: int) -> None:
        lo, hi = self._day_window(now_ms)
        bucket = time_ms // DAY_VOLUME_BUCKET_MS
        keep = (bucket >= lo) & (bucket <= hi)
        bucket, market, notional = bucket[keep], market[keep], notional[keep]
        slot = bucket % DAY_VOLUME_SLOTS
        for b in np.unique(bucket):  # a slot that held an older bucket starts afresh
            s = int(b % DAY_VOLUME_SLOTS)
            if self.day_volume_bucket[s] != b:
                self.day_volume_bucket[s] = b
                self.day_volume[s] = 0.0
        np.add.at(self.day_volume, (slot, market), notional)

    def perp_volume_30d(self) -> np.ndarray:
        day_now = self.now_ms // MS_PER_DAY
        keep = np.ones(VOLUME_DAYS + 1, bool)
        keep[(day_now + 1) % (VOLUME_DAYS + 1)] = False  # the slot about to be reused is 31 days old
        return self.ledger.volume[:, keep].sum(axis=1, dtype=np.float64)

    def day_ntl_volume(self) -> np.ndarray:
        """USD traded per market in the 24 hours up to now (to the 5-minute bucket), each trade once."""
        lo, hi = self._day_window(self.now_ms)
        live = (self.day_volume_bucket >= lo) & (self.day_volume_bucket <= hi)
        return self.day_volume[live].sum(axis=0)

    # ----- the step ----------------------------------------------------------------------------

    def step(self, step_ms: int | None = None) -> None:
        """Advance the clock by `step_ms` milliseconds (default: the profile's step); steps may vary."""
        step_ms = self.step_ms if step_ms is None else int(step_ms)
        if step_ms <= 0:
            raise ValueError(f"a step must be positive, got {step_ms} ms")
        uni, rng = self.uni, self.rng
        t0, t1 = self.now_ms, self.now_ms + step_ms
        ref_steps = step_ms / REFERENCE_STEP_MS
        live = ~uni.delisted
        frozen = uni.delisted
        step_hours = step_ms / MS_PER_HOUR
        self.oracle = walk_oracle(rng, self.oracle, uni.daily_vol, step_hours, frozen)
        self.premium = walk_premium(rng, self.premium, frozen, ref_steps)
        self._set_marks()
        self.vault_nav *= float(np.exp(rng.normal(NAV_DRIFT * ref_steps, NAV_VOL * np.sqrt(ref_steps))))
        if self.recorder is not None:
            self.recorder.step_started(self, t0, t1)

        hours_crossed = t1 // MS_PER_HOUR - t0 // MS_PER_HOUR
        paid = []
        for h in range(int(hours_crossed)):
            paid.append(self._pay_funding((t0 // MS_PER_HOUR + h + 1) * MS_PER_HOUR))
        self.last_fundings = FundingBatch.concat(paid) if paid else _empty_fundings()

        batches = [self._liquidate(t0, t1)]
        batches.append(self._trade(t0, t1, live))
        fills = FillBatch.concat([b for b in batches if b is not None])
        self.last_fills = fills
        self._record_volume(fills, t0, t1)
        self._top_up_margin()
        self._withdraw_profits(ref_steps)
        if self.recorder is not None:
            self.recorder.step_done(self)
        self.now_ms = t1
        self.steps_taken += 1
        self._checkpoint_day(t0, t1)

    def _pay_funding(self, at_ms: int) -> FundingBatch:
        b, uni = self.book, self.uni
        szi = b.lots * uni.lot[b.market]
        pay = szi * self.oracle_px[b.market] * self.funding[b.market]  # positive = paid
        batch = FundingBatch(time_ms=np.full(len(b), at_ms, np.int64), wallet=b.wallet.copy(),
                             market=b.market.copy(), lots=b.lots.copy(), pay=pay,
                             rate=self.funding[b.market].copy())
        if self.recorder is not None:
            self.recorder.funding(batch, b.isolated.copy())
        b.funding_open += pay
        b.funding_change += pay
        b.funding_all += pay
        n_d = len(uni.dexes)
        flat = b.wallet * n_d + uni.dex_index[b.market]
        cross_pay = np.bincount(flat, weights=np.where(b.isolated, 0.0, pay), minlength=self.cash.size)
        self.cash -= cross_pay.reshape(self.cash.shape)
        b.iso_margin -= np.where(b.isolated, pay, 0.0)
        return batch

    def _liquidate(self, t0: int, t1: int) -> FillBatch | None:
        """Backstop liquidation of every breached position at the mark, by the liquidator vault.

        A breached cross book hands all its cross positions and its remaining collateral to the
        liquidator; a breached isolated position hands over itself and its margin.
        """
        view = self.view()
        b, uni = self.book, self.uni
        hit = view.liquidatable() & (self.people.kind[b.wallet] != pop.LIQUIDATOR)
        if not hit.any():
            return None
        breached_books = np.unique(view.book_index[hit & ~b.isolated])
        hit |= ~b.isolated & np.isin(view.book_index, breached_books)
        rows = np.flatnonzero(hit)
        batches = []
        for side in (1, -1):  # longs and shorts apart, so that victims never trade with each other
            r = rows[np.sign(b.lots[rows]) == side]
            if r.size:
                batches.append(self._hand_to_liquidator(b, r, t0, t1))
        flat_cash = self.cash.reshape(-1)
        if self.recorder is not None:
            self.recorder.cross_books_seized(breached_books, flat_cash[breached_books].copy(), self.liquidator)
        flat_cash[self.liquidator * len(uni.dexes)] += flat_cash[breached_books].sum()
        flat_cash[breached_books] = 0.0
        return FillBatch.concat(batches)

    def _hand_to_liquidator(self, b: PositionBook, r: np.ndarray, t0: int, t1: int) -> FillBatch:
        uni = self.uni
        victims, market, delta = b.wallet[r], b.market[r], -b.lots[r]
        net = np.zeros(uni.n, np.int64)
        np.add.at(net, market, -delta)
        lm = np.flatnonzero(net)
        n = r.size + lm.size
        intents = Intents(
            wallet=np.concatenate([victims, np.full(lm.size, self.liquidator)]),
            market=np.concatenate([market, lm]), delta=np.concatenate([delta, net[lm]]),
            leverage=np.concatenate([b.leverage[r], house_leverage(uni, lm)]),
            isolated=np.concatenate([b.isolated[r], uni.only_isolated[lm]]), taker=np.arange(n) < r.size,
            queue=np.arange(n, dtype=np.float64),
        )
        liquidated = np.concatenate([victims, np.full(lm.size, -1)])
        was_isolated = b.isolated[r]
        # Liquidations come first in the step: their fills are stamped t0 + 1, the step's trades after.
        before = self.book
        res = execute(self.book, uni, intents, self.mark, t0, t0 + 2, self.next_tid,
                      liquidation=(liquidated, self.mark))
        self.next_tid += len(res.fills.tid) // 2
        self.book = res.book
        self._apply_cash(intents.wallet, intents.market, res.cash_delta)
        # What an isolated victim got back (its margin plus PnL at the mark) belongs to the liquidator.
        kept = np.where(was_isolated, res.cash_delta[: r.size], 0.0)
        if self.recorder is not None:
            self.recorder.liquidation(before, intents, res, r.size, was_isolated, kept, self.liquidator)
        self._apply_cash(victims, market, -kept)
        self.cash[self.liquidator, 0] += kept.sum()
        return res.fills

    def _apply_cash(self, wallet: np.ndarray, market: np.ndarray, cash_delta: np.ndarray) -> None:
        n_d = len(self.uni.dexes)
        flat = wallet * n_d + self.uni.dex_index[market]
        add = np.bincount(flat, weights=cash_delta, minlength=self.cash.size)
        self.cash += add.reshape(self.cash.shape)

    def _trade(self, t0: int, t1: int, live: np.ndarray) -> FillBatch:
        uni, rng, prof, b = self.uni, self.rng, self.profile, self.book
        people = self.people
        dt_days = (t1 - t0) / MS_PER_DAY
        ref_steps = (t1 - t0) / REFERENCE_STEP_MS
        kind = people.kind[b.wallet]
        retail = (kind == pop.TRADER) | (kind == pop.RECENT) | (kind == pop.PASSIVE)
        tradable = retail & live[b.market]
        # Closes: memoryless holding time with the wallet's median.
        p_close = 1 - np.exp(-dt_days * np.log(2) / people.hold_days[b.wallet])
        u = rng.random(len(b))
        close = tradable & (u < p_close)
        adjust = tradable & ~close & (u < p_close + dt_days / prof.adjust_days)
        n_adj = int(adjust.sum())
        fresh = self._fresh_lots(np.flatnonzero(adjust), rng.exponential(1.0, n_adj))
        adj_delta = np.round((fresh - b.lots[adjust]) * rng.uniform(0.0, 1.0, n_adj)).astype(np.int64)
        flip = rng.random(n_adj) < prof.flip_share
        adj_delta = np.where(flip, -b.lots[adjust] - np.maximum(1, np.round(np.abs(b.lots[adjust]) * rng.uniform(
            *FLIP_RANGE, n_adj))).astype(np.int64) * np.sign(b.lots[adjust]), adj_delta)
        liq_rows, liq_delta = self._liquidator_unwind(live, ref_steps)
        rows = np.concatenate([np.flatnonzero(close), np.flatnonzero(adjust), liq_rows])
        deltas = np.concatenate([-b.lots[close], adj_delta, liq_delta])
        keep = deltas != 0
        rows, deltas = rows[keep], deltas[keep]

        # Opens: replace what closed, and pull the count back towards the calibrated level.
        expected_closes = float(p_close[tradable].sum())
        gap = self.target_positions - int(retail.sum())
        n_open = int(rng.poisson(max(expected_closes + compounded(OPEN_PULL, ref_steps) * gap, 0.0)))
        ow, om, od, olev, oiso = self._opens(n_open, live)

        wallet = np.concatenate([b.wallet[rows], ow])
        market = np.concatenate([b.market[rows], om])
        delta = np.concatenate([deltas, od])
        lev = np.concatenate([b.leverage[rows], olev]).astype(np.int32)
        iso = np.concatenate([b.isolated[rows], oiso])
        mm_inv = self._mm_inventory()
        # Market makers unwind inventory at a steady pace in time: a share of (maker, market) pairs is
        # revised per step, by a fraction, so that the unwound share per reference step stays as calibrated.
        revise, unwind = MM_REVISE_SHARE, prof.mm_inventory_reversion
        if ref_steps != 1.0:
            revise, unwind = (compounded(revise, ref_steps),
                              compounded(revise * unwind, ref_steps) / compounded(revise, ref_steps))
        mw, mk, md = mm_absorb(rng, market, delta, uni.n, self.mm_wallets, mm_inv, unwind, revise)
        n_retail = wallet.shape[0]
        intents = Intents(
            wallet=np.concatenate([wallet, mw]), market=np.concatenate([market, mk]),
            delta=np.concatenate([delta, md]),
            leverage=np.concatenate([lev, house_leverage(uni, mk)]),
            isolated=np.concatenate([iso, uni.only_isolated[mk]]),
            taker=np.concatenate([np.ones(n_retail, bool), np.zeros(mw.shape[0], bool)]),
            queue=rng.random(n_retail + mw.shape[0]),
        )
        # after the step's liquidations (stamped t0 + 1), so a liquidated wallet's new position opens later
        before = self.book
        res = execute(self.book, uni, intents, self.mark, t0 + 1, t1, self.next_tid)
        if self.recorder is not None:
            self.recorder.trades(before, intents, res)
        self.next_tid += len(res.fills.tid) // 2
        self.book = res.book
        self._apply_cash(intents.wallet, intents.market, res.cash_delta)
        return res.fills

    def _fresh_lots(self, rows: np.ndarray, share: np.ndarray) -> np.ndarray:
        """Signed lots that book `rows` would open at now, on their side and leverage, by the sizing rule
        of `_opens` (`share` is its exponential draw)."""
        b, uni, people = self.book, self.uni, self.people
        wallet, market, side = b.wallet[rows], b.market[rows], np.sign(b.lots[rows])
        p_long = uni.long_share[market]
        side_weight = np.where(side > 0, 0.5 / p_long, 0.5 / (1 - p_long))
        lev = b.leverage[rows]
        raw = (people.equity[wallet] * people.utilisation[wallet] * share
               / np.maximum(people.n_target[wallet], 1) * lev * side_weight)
        equity_now = np.clip(self._equity_now()[wallet], people.equity[wallet] * 0.25, people.equity[wallet])
        value = np.minimum(raw * self.size_factor[market], equity_now * lev * 0.9)
        return side * to_lots(uni, market, np.minimum(value, self._market_cap(market)), self.mark)

    def _market_cap(self, market: np.ndarray) -> np.ndarray:
        """The largest value a position may open or grow to in `market` (MARKET_SHARE_CAP)."""
        return MARKET_SHARE_CAP * self.uni.target_oi[market] * self.profile.position_scale

    def _liquidator_unwind(self, live: np.ndarray, ref_steps: float) -> tuple[np.ndarray, np.ndarray]:
        """Book rows of the liquidator vault's positions in live markets and the lots it closes this step
        (LIQUIDATOR_UNWIND of each per reference step, at least one lot, never past zero)."""
        b = self.book
        rows = np.flatnonzero((b.wallet == self.liquidator) & live[b.market])
        lots = b.lots[rows]
        share = compounded(LIQUIDATOR_UNWIND, ref_steps)
        size = np.minimum(np.abs(lots), np.maximum(1, np.round(np.abs(lots) * share))).astype(np.int64)
        return rows, -np.sign(lots) * size

    def _opens(self, n_open: int, live: np.ndarray):
        """New positions: wallets below their usual number of positions, in markets they do not hold."""
        people, uni, rng = self.people, self.uni, self.rng
        held = np.bincount(self.book.wallet, minlength=len(people))
        deficit = np.maximum(people.n_target.astype(np.int64) - held, 0)
        # Wallets reopen at the pace they close (1 / holding time): then every wallet keeps, in
        # expectation, the share of its usual positions it held at genesis. Weighting by the deficit
        # alone refilled the quick closers too slowly, so the open positions drifted towards the long
        # holders, who are the rich cohorts, and the value per position grew for days.
        weight = people.activity * deficit / people.hold_days
        total = weight.sum()
        if n_open == 0 or total <= 0:
            z = np.zeros(0, np.int64)
            return z, z, z, z.astype(np.int32), z.astype(bool)
        wallet = rng.choice(len(people), size=n_open, p=weight / total)
        market = choose_markets(rng, uni, wallet)
        keys = wallet * uni.n + market
        _, first = np.unique(keys, return_index=True)
        first.sort()
        wallet, market, keys = wallet[first], market[first], keys[first]
        fresh = self.book.lookup(keys, uni.n) < 0
        wallet, market = wallet[fresh], market[fresh]
        n_pos = np.maximum(people.n_target[wallet], 1)
        side, lev, iso, raw = side_and_raw_value(rng, uni, people, wallet, market, n_pos)
        # The budget of an open: the wallet's equity now, never above its usual equity (margin deposits
        # and lucky streaks do not make a wallet size up for good) nor below a quarter of it.
        equity_now = np.clip(self._equity_now()[wallet], people.equity[wallet] * 0.25, people.equity[wallet])
        value = np.minimum(raw * self.size_factor[market], equity_now * lev * 0.9)
        lots = side * to_lots(uni, market, np.minimum(value, self._market_cap(market)), self.mark)
        return wallet.astype(np.int64), market.astype(np.int64), lots, lev, iso

    def _equity_now(self) -> np.ndarray:
        """Perp equity per wallet at this step's marks (computed once per step, after liquidations)."""
        if self._equity_cache is None or self._equity_cache[0] != self.steps_taken:
            self._equity_cache = (self.steps_taken, self.view().perp_equity)
        return self._equity_cache[1]

    def _mm_inventory(self) -> np.ndarray:
        b = self.book
        is_mm = np.isin(b.wallet, self.mm_wallets)
        inv = np.zeros((self.mm_wallets.shape[0], self.uni.n), dtype=np.int64)
        mm_pos = np.searchsorted(self.mm_wallets, b.wallet[is_mm])
        inv[mm_pos, b.market[is_mm]] = b.lots[is_mm]
        return inv

    def _top_up_margin(self) -> None:
        """Wallets close to liquidation deposit (TOP_UP_AT, TOP_UP_TO of the maintenance margin)."""
        view = self.view()
        need = view.cross_av < TOP_UP_AT * view.cross_mm
        if need.any():
            deposit = np.where(need, TOP_UP_TO * view.cross_mm - view.cross_av, 0.0)
            if self.recorder is not None:
                self.recorder.deposits(deposit.copy())
            self.cash += deposit.reshape(self.cash.shape)
            per_wallet = deposit.reshape(self.cash.shape).sum(axis=1)
            self.net_deposits += per_wallet
        b = self.book
        iso_short = b.isolated & (view.margin_used < view.value * view.mmr * 1.1)
        if iso_short.any():
            add = np.where(iso_short, view.value * view.mmr * 1.5 - view.margin_used, 0.0)
            if self.recorder is not None:
                self.recorder.isolated_top_ups(b.wallet[iso_short], b.market[iso_short], add[iso_short])
            b.iso_margin += add
            np.add.at(self.net_deposits, b.wallet, add)

    def _withdraw_profits(self, ref_steps: float) -> None:
        """Wallets well above their usual equity withdraw part of the excess from free main-dex collateral."""
        view = self.view()
        excess = view.perp_equity - WITHDRAW_ABOVE * self.people.equity
        free = np.maximum(view.cross_av - view.cross_im, 0.0).reshape(self.cash.shape)[:, 0]
        amount = np.minimum(np.maximum(excess, 0.0), free) * compounded(WITHDRAW_SHARE, ref_steps)
        amount = np.minimum(amount, np.maximum(self.cash[:, 0], 0.0))
        if amount.any():
            if self.recorder is not None:
                self.recorder.withdrawals(amount.copy())
            self.cash[:, 0] -= amount
            self.net_deposits -= amount

    def _record_volume(self, fills: FillBatch, t0: int, t1: int) -> None:
        notional = fills.px * fills.lots * self.uni.lot[fills.market]
        slot = (t1 // MS_PER_DAY) % (VOLUME_DAYS + 1)
        for day in _days_begun(t0, t1):
            self.ledger.volume[:, day % (VOLUME_DAYS + 1)] = 0.0  # a new day starts in this slot
        np.add.at(self.ledger.volume[:, slot], fills.wallet, notional.astype(np.float32))
        self._add_day_volume(fills.time_ms, fills.market, notional / 2, t1)

    def _checkpoint_day(self, t0: int, t1: int) -> None:
        days = _days_begun(t0, t1)  # checkpoints at the first step of each new day
        if days.size:
            view = self.view()
            equity, pnl = view.perp_equity, self.all_time_pnl(view)
            for day in days:
                slot = day % (VOLUME_DAYS + 1)
                self.ledger.equity_at[:, slot] = equity
                self.ledger.pnl_at[:, slot] = pnl


def _days_begun(t0: int, t1: int) -> np.ndarray:
    """The days that begin in (t0, t1], at most the last VOLUME_DAYS + 1 of them."""
    d0, d1 = t0 // MS_PER_DAY, t1 // MS_PER_DAY
    return np.arange(max(d0 + 1, d1 - VOLUME_DAYS), d1 + 1, dtype=np.int64)


@dataclass
class FundingBatch:
    """One hourly funding payment per open position (positive `pay` = the wallet paid)."""

    time_ms: np.ndarray
    wallet: np.ndarray
    market: np.ndarray
    lots: np.ndarray
    pay: np.ndarray
    rate: np.ndarray

    @classmethod
    def concat(cls, batches: list[FundingBatch]) -> FundingBatch:
        return cls(**{k: np.concatenate([getattr(b, k) for b in batches]) for k in cls.__dataclass_fields__})


def _empty_fundings() -> FundingBatch:
    z = np.zeros(0, np.int64)
    return FundingBatch(time_ms=z, wallet=z, market=z, lots=z, pay=np.zeros(0), rate=np.zeros(0))


def _empty_fills() -> FillBatch:
    z = np.zeros(0, np.int64)
    f = np.zeros(0)
    return FillBatch(time_ms=z, wallet=z, market=z, is_buy=z.astype(bool), px=f, lots=z, start_lots=z,
                     closed_pnl=f, fee=f, crossed=z.astype(bool), tid=z, liquidated_wallet=z,
                     liquidation_mark=f)
