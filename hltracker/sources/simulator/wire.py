"""The simulator's state in Hyperliquid's own wire formats (info API responses of 2026).

`WireRenderer(sim).render({"type": "clearinghouseState", "user": "0x…", "dex": ""})` answers as
`POST /info` does, as JSON-ready Python objects: decimal strings, the key order of the reference notes
(`reference/hyperliquid-data-notes.md` §1.3-1.10), `null` where the exchange sends null. It is meant for
testing the real parsers and for a fake exchange served over HTTP; the numbers are the same ones the
simulator's own snapshot (`frames.snapshot_of`) carries, so the two can be checked against each other.

Request types: `perpDexs`, `meta`, `metaAndAssetCtxs`, `allMids`, `clearinghouseState`,
`spotClearinghouseState`, `userVaultEquities`, `delegatorSummary`, `portfolio`; besides, `leaderboard()`
renders the web app's leaderboard file (notes §1.14), which is not an info request. A bad request
(unknown type, missing or malformed `user`, unknown `dex`) raises `WireRequestError`; a well-formed
address the simulator does not know gets an empty but valid state, as on the real exchange.

How the simulator's state maps onto the wire (and where it has to approximate):

- Per dex, `cash[w, d]` is the cross collateral; isolated positions carry their own margin.
  `rawUsd = iso_margin - szi x entry`, so `marginUsed = rawUsd + szi x markPx` holds exactly;
  `totalRawUsd = accountValue - Σ szi x markPx`; `withdrawable = max(cross accountValue - cross
  initial margin, 0)`, which summed over the dexes is the snapshot's `balance`.
- Margin figures are computed with the simulator's own `margin_view`, on the one wallet's rows of the
  book, so they are the snapshot's numbers (bit for bit) without scanning the whole book per request.
- `prevDayPx`: the simulator keeps no 24h-old price, so it is rendered as the current oracle price.
  `dayBaseVlm`: the simulator keeps notional volume only, so it is `dayNtlVlm / markPx`.
  `impactPxs` = [min(mark, mid), max(mark, mid)]: with the simulator's mark = oracle x (1 + premium) and
  mid on the premium's side of the mark, the main-dex premium formula gives back the premium.
- `perpDexs`: `deployer` is a fixed simulator address per dex (sha256 of the dex name), the oracle
  updater and fee recipient are null, funding multipliers are all "1.0" (the simulator applies none),
  and `assetToStreamingOiCap` is empty (the simulator has no OI caps).
- `spotClearinghouseState`: USDC (token 0) and HYPE (token 150), valued at the simulator's HYPE price;
  the simulator keeps no cost basis, so HYPE's `entryNtl` is its current value (no spot PnL).
- `userVaultEquities`: one entry in HLP for wallets with vault equity; `lockedUntilTimestamp` is the
  wallet's first appearance plus HLP's 4-day lock-up (the simulator keeps no deposit times).
- `allMids`: the `midPx` of every live market of the dex (the mark where a market has no mid, as the API
  falls back to the last trade), keyed as the API keys them (`BTC`, `xyz:GOLD`). The main dex adds the
  HYPE/USDC spot mid under `@107`: the simulator has no spot book, so its HYPE spot price is its HYPE perp
  mark (`SimulatedMarket.hype_price`), the price every HYPE spot balance and staked HYPE is valued at.
- `portfolio`: see `WireRenderer.portfolio`; `leaderboard`: see `WireRenderer.leaderboard`.
"""

from __future__ import annotations

import hashlib
import re
from decimal import ROUND_HALF_EVEN, Context, Decimal
from math import floor, isfinite, log10

import numpy as np

from hltracker.sources.simulator.catalog import DEX_COLLATERAL_TOKEN, DEX_FULL_NAMES, DEXES, MARGIN_TABLES
from hltracker.sources.simulator.margin import MarginView, margin_view

MS_PER_DAY = 86_400_000
HLP_VAULT = "0xdfc24b077bc1425ad1dea75bcb6f8158e10df303"
HLP_LOCKUP_MS = 4 * MS_PER_DAY
USDC_TOKEN = 0
HYPE_TOKEN = 150
USD_DECIMALS = 6  # USD amounts, as "13109.482328"
RATE_DECIMALS = 10  # funding, premium, returnOnEquity
HYPE_DECIMALS = 8  # HYPE token amounts, as "12060.16529862"
PRICE_SIG_FIGS = 12  # computed prices (entry, liquidation); exchange prices are already rounded
SPOT_HYPE_KEY = "@107"  # allMids key of the HYPE/USDC spot pair (spot index 107)
MIN_ROI_BASE = 100.0  # USD: leaderboard ROI is never taken on a smaller capital base
LEADERBOARD_WINDOWS = ("day", "week", "month", "allTime")

# Portfolio windows, in the API's order: (name, length in ms or None for all time, perp only).
PORTFOLIO_WINDOWS: tuple[tuple[str, int | None, bool], ...] = (
    ("day", MS_PER_DAY, False),
    ("week", 7 * MS_PER_DAY, False),
    ("month", 30 * MS_PER_DAY, False),
    ("allTime", None, False),
    ("perpDay", MS_PER_DAY, True),
    ("perpWeek", 7 * MS_PER_DAY, True),
    ("perpMonth", 30 * MS_PER_DAY, True),
    ("perpAllTime", None, True),
)

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_CTX = Context(prec=80)
USER_REQUESTS = ("clearinghouseState", "spotClearinghouseState", "userVaultEquities", "delegatorSummary",
                 "portfolio")


class WireRequestError(ValueError):
    """A request the info API would refuse (HTTP 422): unknown type, missing user, unknown dex."""


# ----- decimal strings -----------------------------------------------------------------------------


def fmt(x: float, decimals: int) -> str:
    """`x` rounded to `decimals` places, as the API writes it: plain notation, trailing zeros trimmed,
    at least one decimal ("0.0", "-56.0", "13109.482328"), never an exponent, never "-0.0"."""
    x = float(x)
    if not isfinite(x):
        raise ValueError(f"cannot render {x!r} as a decimal string")
    q = Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN, context=_CTX)
    text = format(q, "f")
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    else:
        text += ".0"
    return "0.0" if text in ("-0.0", "0.0") else text


def fmt_px(x: float, sig: int = PRICE_SIG_FIGS) -> str:
    """A price to `sig` significant figures (prices the exchange rounded already come out unchanged)."""
    x = float(x)
    if x == 0.0 or not isfinite(x):
        return fmt(x, 1)
    return fmt(x, max(0, sig - 1 - floor(log10(abs(x)))))


def fmt_usd(x: float) -> str:
    return fmt(x, USD_DECIMALS)


def fmt_rate(x: float) -> str:
    return fmt(x, RATE_DECIMALS)


def deployer_address(dex: str) -> str:
    """A fixed, made-up deployer address for a simulated HIP-3 dex."""
    return "0x" + hashlib.sha256(f"hltracker-simulator-deployer:{dex}".encode()).hexdigest()[:40]


def _wire_dex(dex: str) -> str:
    """Our dex name ("main", "xyz") as the API spells it ("" for the main dex)."""
    return "" if dex == DEXES[0] else dex


# ----- the renderer --------------------------------------------------------------------------------


class WireRenderer:
    """Renders a `SimulatedMarket`'s current state as Hyperliquid info API responses.

    Holds no copy of the state: every call reads the simulator as it stands (step it, call again).
    Only lookup structures are cached (address -> wallet, and the book's per-wallet row ranges, rebuilt
    whenever the simulator replaces its book).
    """

    def __init__(self, sim):
        self.sim = sim
        self._addresses = None
        self._wallet_of: dict[str, int] = {}
        self._book = None
        self._book_order: np.ndarray | None = None  # None when the book is already sorted by wallet
        self._book_wallets = np.zeros(0, np.int64)

    # ----- dispatch ----------------------------------------------------------------------------

    def render(self, request: dict) -> object:
        """Answer one info request body (`{"type": ..., "user": ..., "dex": ...}`)."""
        if not isinstance(request, dict):
            raise WireRequestError("request body must be a JSON object")
        kind = request.get("type")
        if kind == "perpDexs":
            return self.perp_dexs()
        if kind == "meta":
            return self.meta_and_asset_ctxs(self._dex_of(request))[0]
        if kind == "metaAndAssetCtxs":
            return self.meta_and_asset_ctxs(self._dex_of(request))
        if kind == "allMids":
            return self.all_mids(self._dex_of(request))
        if kind in USER_REQUESTS:
            user = request.get("user")
            if user is None:
                raise WireRequestError(f"{kind} needs a 'user'")
            if kind == "clearinghouseState":
                return self.clearinghouse_state(user, self._dex_of(request))
            if kind == "spotClearinghouseState":
                return self.spot_clearinghouse_state(user)
            if kind == "userVaultEquities":
                return self.user_vault_equities(user)
            if kind == "delegatorSummary":
                return self.delegator_summary(user)
            return self.portfolio(user)
        raise WireRequestError(f"unknown request type {kind!r}")

    @staticmethod
    def _dex_of(request: dict) -> str:
        dex = request.get("dex", "")
        return "" if dex is None else dex

    # ----- lookups -----------------------------------------------------------------------------

    def _dex_index(self, dex: str) -> int:
        """Index into DEXES of an API dex name ("" = main). "main" itself is not an API name."""
        if not isinstance(dex, str):
            raise WireRequestError(f"dex must be a string, got {dex!r}")
        if dex == "":
            return 0
        if dex in DEXES[1:]:
            return DEXES.index(dex)
        raise WireRequestError(f"unknown dex {dex!r}; expected '' or one of {', '.join(DEXES[1:])}")

    def _wallet(self, user: str) -> int | None:
        """Wallet index of an address (any case), None for a well-formed address the simulator lacks."""
        if not isinstance(user, str) or not _ADDRESS.match(user):
            raise WireRequestError(f"user must be a 0x-prefixed 40-hex-digit address, got {user!r}")
        addresses = self.sim.people.address
        if self._addresses is not addresses:
            self._wallet_of = {str(a): i for i, a in enumerate(addresses.tolist())}
            self._addresses = addresses
        return self._wallet_of.get(user.lower())

    def _rows(self, w: int) -> np.ndarray:
        """Row indices of wallet `w` in the book, in (wallet, market) order."""
        book = self.sim.book
        if self._book is not book:
            wallets = book.wallet
            if wallets.size and np.any(wallets[1:] < wallets[:-1]):
                order = np.argsort(book.keys(self.sim.uni.n), kind="stable")
                self._book_order, self._book_wallets = order, wallets[order]
            else:
                self._book_order, self._book_wallets = None, wallets
            self._book = book
        lo, hi = np.searchsorted(self._book_wallets, [w, w + 1])
        return np.arange(lo, hi) if self._book_order is None else self._book_order[lo:hi]

    def _wallet_view(self, w: int) -> tuple[np.ndarray, MarginView]:
        """The wallet's book rows and their margin view (the simulator's arithmetic on those rows only)."""
        sim = self.sim
        rows = self._rows(w)
        sub = sim.book.take(rows)
        sub.wallet = np.zeros(rows.size, np.int64)
        return rows, margin_view(sub, sim.uni, sim.mark, sim.cash[w : w + 1])

    def _dex_markets(self, d: int) -> np.ndarray:
        return np.flatnonzero(self.sim.uni.dex_index == d)

    # ----- perpDexs / metaAndAssetCtxs ---------------------------------------------------------

    def perp_dexs(self) -> list:
        uni = self.sim.uni
        out: list = [None]
        for d, dex in enumerate(DEXES[1:], start=1):
            coins = sorted(str(c) for c in uni.coin[self._dex_markets(d)])
            out.append({
                "name": dex,
                "fullName": DEX_FULL_NAMES[dex],
                "deployer": deployer_address(dex),
                "oracleUpdater": None,
                "feeRecipient": None,
                "assetToStreamingOiCap": [],  # the simulator has no OI caps
                "assetToFundingMultiplier": [[c, "1.0"] for c in coins],
            })
        return out

    def meta_and_asset_ctxs(self, dex: str = "") -> list:
        d = self._dex_index(dex)
        sim, uni = self.sim, self.sim.uni
        idx = self._dex_markets(d)
        universe, table_ids = [], []
        for i in idx.tolist():
            spec = uni.specs[i]
            entry: dict = {"szDecimals": int(uni.sz_decimals[i]), "name": str(uni.coin[i]),
                           "maxLeverage": int(uni.max_leverage[i]), "marginTableId": int(spec.margin_table_id)}
            if uni.only_isolated[i]:
                entry["onlyIsolated"] = True
                if spec.margin_mode:
                    entry["marginMode"] = spec.margin_mode
            if uni.delisted[i]:
                entry["isDelisted"] = True
            universe.append(entry)
            if spec.margin_table_id not in table_ids:
                table_ids.append(spec.margin_table_id)
        tables = []
        for tid in table_ids:
            table = MARGIN_TABLES[tid]
            tiers = [{"lowerBound": fmt(t.lower_bound, 1), "maxLeverage": int(t.max_leverage)} for t in table.tiers]
            tables.append([int(tid), {"description": table.description, "marginTiers": tiers}])
        meta = {"universe": universe, "marginTables": tables, "collateralToken": DEX_COLLATERAL_TOKEN[DEXES[d]]}

        b = sim.book
        oi = np.bincount(b.market, weights=np.abs(b.lots).astype(np.float64), minlength=uni.n) / 2 * uni.lot
        ntl = sim.day_ntl_volume()
        ctxs = []
        for i in idx.tolist():
            szd = int(uni.sz_decimals[i])
            live = not uni.delisted[i]
            mark, mid = float(sim.mark[i]), float(sim.mid[i])
            ctxs.append({
                "funding": fmt_rate(sim.funding[i] if live else 0.0),
                "openInterest": fmt(oi[i], szd),
                "prevDayPx": fmt_px(sim.oracle_px[i]),  # no 24h-old price in the simulator: the oracle
                "dayNtlVlm": fmt_usd(ntl[i]),
                "premium": fmt_rate(sim.premium[i]) if live else None,
                "oraclePx": fmt_px(sim.oracle_px[i]),
                "markPx": fmt_px(mark),
                "midPx": fmt_px(mid) if live else None,
                "impactPxs": [fmt_px(min(mark, mid)), fmt_px(max(mark, mid))] if live else None,
                "dayBaseVlm": fmt(ntl[i] / mark if mark > 0 else 0.0, szd),  # notional / mark (no base ring)
            })
        return [meta, ctxs]

    def all_mids(self, dex: str = "") -> dict[str, str]:
        """Mid price per live market of the dex; the main dex adds the HYPE spot mid (module docstring)."""
        d = self._dex_index(dex)
        sim, uni = self.sim, self.sim.uni
        out: dict[str, str] = {}
        for i in self._dex_markets(d).tolist():
            if uni.delisted[i]:
                continue  # no book, no mid: delisted markets are left out
            mid = float(sim.mid[i])
            out[str(uni.coin[i])] = fmt_px(mid if isfinite(mid) and mid > 0 else sim.mark[i])
        if d == 0:
            out[SPOT_HYPE_KEY] = fmt_px(sim.hype_price())
        return out

    # ----- clearinghouseState ------------------------------------------------------------------

    def clearinghouse_state(self, user: str, dex: str = "") -> dict:
        d = self._dex_index(dex)
        w = self._wallet(user)
        sim = self.sim
        if w is None:
            zero = {"accountValue": "0.0", "totalNtlPos": "0.0", "totalRawUsd": "0.0", "totalMarginUsed": "0.0"}
            return {"marginSummary": zero, "crossMarginSummary": dict(zero), "crossMaintenanceMarginUsed": "0.0",
                    "withdrawable": "0.0", "assetPositions": [], "time": int(sim.now_ms)}
        rows, v = self._wallet_view(w)
        uni, b = sim.uni, sim.book
        market = b.market[rows]
        here = np.flatnonzero(uni.dex_index[market] == d)
        mark = sim.mark[market[here]]
        szi, value, used = v.szi[here], v.value[here], v.margin_used[here]
        iso = v.isolated[here]
        signed_ntl = szi * mark
        cross_av = float(v.cross_av[d])
        account_value = cross_av + float(v.iso_equity[d])

        positions = []
        for k, j in zip(here.tolist(), rows[here].tolist(), strict=True):
            i = int(b.market[j])
            lev = int(b.leverage[j])
            s, entry = float(v.szi[k]), float(b.entry[j])
            leverage: dict = {"type": "isolated" if b.isolated[j] else "cross", "value": lev}
            if b.isolated[j]:
                leverage["rawUsd"] = fmt_usd(b.iso_margin[j] - s * entry)
            liq = float(v.liq_price[k])
            upnl = float(v.upnl[k])
            roe = upnl / (abs(s) * entry / lev) if entry > 0 else 0.0
            positions.append({"type": "oneWay", "position": {
                "coin": str(uni.coin[i]),
                "szi": fmt(s, int(uni.sz_decimals[i])),
                "leverage": leverage,
                "entryPx": fmt_px(entry),
                "positionValue": fmt_usd(v.value[k]),
                "unrealizedPnl": fmt_usd(upnl),
                "returnOnEquity": fmt_rate(roe),
                "liquidationPx": fmt_px(liq) if isfinite(liq) else None,
                "marginUsed": fmt_usd(v.margin_used[k]),
                "maxLeverage": int(uni.max_leverage[i]),
                "cumFunding": {"allTime": fmt_usd(b.funding_all[j]), "sinceOpen": fmt_usd(b.funding_open[j]),
                               "sinceChange": fmt_usd(b.funding_change[j])},
            }})
        return {
            "marginSummary": {
                "accountValue": fmt_usd(account_value),
                "totalNtlPos": fmt_usd(value.sum()),
                "totalRawUsd": fmt_usd(account_value - signed_ntl.sum()),
                "totalMarginUsed": fmt_usd(used.sum()),
            },
            "crossMarginSummary": {
                "accountValue": fmt_usd(cross_av),
                "totalNtlPos": fmt_usd(value[~iso].sum()),
                "totalRawUsd": fmt_usd(cross_av - signed_ntl[~iso].sum()),
                "totalMarginUsed": fmt_usd(used[~iso].sum()),
            },
            "crossMaintenanceMarginUsed": fmt_usd(v.cross_mm[d]),
            "withdrawable": fmt_usd(max(cross_av - float(v.cross_im[d]), 0.0)),
            "assetPositions": positions,
            "time": int(sim.now_ms),
        }

    # ----- spot, vaults, staking ---------------------------------------------------------------

    def spot_clearinghouse_state(self, user: str) -> dict:
        w = self._wallet(user)
        if w is None:
            return {"balances": []}
        p = self.sim.people
        balances = []
        usdc = fmt_usd(p.spot_usdc[w])
        if usdc != "0.0":
            balances.append({"coin": "USDC", "token": USDC_TOKEN, "hold": "0.0", "total": usdc, "entryNtl": "0.0"})
        hype = fmt(p.spot_hype[w], HYPE_DECIMALS)
        if hype != "0.0":
            # No cost basis in the simulator: entered at today's price.
            entry_ntl = fmt_usd(float(p.spot_hype[w]) * self.sim.hype_price())
            balances.append({"coin": "HYPE", "token": HYPE_TOKEN, "hold": "0.0", "total": hype, "entryNtl": entry_ntl})
        return {"balances": balances}

    def user_vault_equities(self, user: str) -> list:
        w = self._wallet(user)
        if w is None:
            return []
        equity = fmt_usd(self._vault_equity(w))
        if equity == "0.0":
            return []
        locked = int(self.sim.ledger.first_ms[w]) + HLP_LOCKUP_MS
        return [{"vaultAddress": HLP_VAULT, "equity": equity, "lockedUntilTimestamp": locked}]

    def delegator_summary(self, user: str) -> dict:
        w = self._wallet(user)
        staked = 0.0 if w is None else float(self.sim.people.staked_hype[w])
        return {"delegated": fmt(staked, HYPE_DECIMALS), "undelegated": "0.0", "totalPendingWithdrawal": "0.0",
                "nPendingWithdrawals": 0}

    # ----- portfolio ---------------------------------------------------------------------------

    def portfolio(self, user: str) -> list:
        """The 8 windows of account value and PnL history.

        Points: the ledger's daily checkpoints (perp account value and all-time perp PnL at the start of
        each UTC day, kept for 31 days) that fall in the window and after the wallet first appeared, then
        the current state as the last point. The all-time windows start with the wallet's first
        appearance at 0 (nothing deposited, no PnL yet). Each window's PnL is relative to its first
        point, so it starts at "0.0" as on the exchange; the last point of `perpAllTime.pnlHistory` is
        the snapshot's `all_time_pnl` and that of `perpAllTime.accountValueHistory` its `perp_equity`.

        Non-perp windows (day, week, month, allTime) add the wallet's spot and vault equity to every
        account value point after the first appearance (the simulator keeps no history of those, so
        today's value is used throughout) and show the perp PnL (spot and vault balances carry no PnL in
        the simulator: no cost basis). Staked HYPE is not included: on Hyperliquid staking is a separate
        balance (`delegatorSummary`), not part of the portfolio account value.

        `vlm` is perp volume (the simulator has no spot trading): the current UTC day for the day
        windows, the last 7 days for week, the last 30 days (the snapshot's `perp_volume_30d`) for month
        and, as the ledger keeps no longer history, for allTime too.
        """
        w = self._wallet(user)
        if w is None:
            return [[name, {"accountValueHistory": [], "pnlHistory": [], "vlm": "0.0"}]
                    for name, _, _ in PORTFOLIO_WINDOWS]
        sim = self.sim
        ledger = sim.ledger
        now = int(sim.now_ms)
        _, v = self._wallet_view(w)
        equity_now = float(v.perp_equity[0])
        pnl_now = float(equity_now - sim.net_deposits[w])  # SimulatedMarket.all_time_pnl, for one wallet
        off_perp = self._spot_equity(w) + self._vault_equity(w)
        first_ms = int(ledger.first_ms[w])
        ring = ledger.equity_at.shape[1]
        today = now // MS_PER_DAY
        checkpoints = [(dd * MS_PER_DAY, dd % ring) for dd in range(today - ring + 1, today + 1)
                       if first_ms <= dd * MS_PER_DAY < now]
        vlm = {length: float(ledger.volume[w, [dd % ring for dd in range(today - n_days + 1, today + 1)]]
                             .sum(dtype=np.float64))
               for length, n_days in ((MS_PER_DAY, 1), (7 * MS_PER_DAY, 7), (30 * MS_PER_DAY, 30))}
        vlm[None] = vlm[30 * MS_PER_DAY]

        out = []
        for name, length, perp_only in PORTFOLIO_WINDOWS:
            start = None if length is None else now - length
            add = 0.0 if perp_only else off_perp
            points = [(t, float(ledger.equity_at[w, s]) + add, float(ledger.pnl_at[w, s]))
                      for t, s in checkpoints if start is None or t >= start]
            points.append((now, equity_now + add, pnl_now))
            if start is None:
                if first_ms < points[0][0]:
                    points.insert(0, (first_ms, 0.0, 0.0))
                base = 0.0  # all-time PnL counts from the wallet's first appearance
            else:
                base = points[0][2]
            out.append([name, {
                "accountValueHistory": [[t, fmt_usd(av)] for t, av, _ in points],
                "pnlHistory": [[t, fmt_usd(pnl - base)] for t, _, pnl in points],
                "vlm": fmt_usd(vlm[length]),
            }])
        return out

    # ----- leaderboard -------------------------------------------------------------------------

    def leaderboard(self) -> dict:
        """The web app's leaderboard file (`stats-data.hyperliquid.xyz/Mainnet/leaderboard`, notes §1.14).

        Rows: the wallets with an open position or 30-day volume, in wallet order, computed for all of
        them at once but with the same figures as `portfolio()`: `accountValue` is the last point of its
        `allTime.accountValueHistory` (perp + spot + vault equity, no staking); each window's `pnl` is the
        last point of that window's `pnlHistory` (`allTime` = the snapshot's `all_time_pnl`) and `vlm` the
        window's `vlm`. `roi = pnl / base`, with base = accountValue - pnl (the account value at the
        window start when nothing moved in or out meanwhile), or, where that is below $100 (the wallet
        withdrew more than it made, say), the larger of accountValue and $100: the real file's formula is
        not documented and this keeps small or drained accounts from absurd ratios.
        """
        sim = self.sim
        ledger = sim.ledger
        n = len(sim.people)
        view = sim.view()
        pnl_now = sim.all_time_pnl(view)
        account_value = view.perp_equity + (sim.spot_equity() + sim.vault_equity())
        now = int(sim.now_ms)
        ring = ledger.equity_at.shape[1]
        today = now // MS_PER_DAY
        first_day = -(-ledger.first_ms // MS_PER_DAY)  # first day start at or after the first appearance
        wallets = np.arange(n)
        pnl: dict[str, np.ndarray] = {"allTime": pnl_now}
        vlm: dict[str, np.ndarray] = {}
        for name, n_days in (("day", 1), ("week", 7), ("month", 30)):
            # The window's first point, as `portfolio` picks it: its earliest daily checkpoint, else now.
            lo = np.maximum(max(today - ring + 1, -(-(now - n_days * MS_PER_DAY) // MS_PER_DAY)), first_day)
            has = (lo * MS_PER_DAY < now) & (lo <= today)
            pnl[name] = pnl_now - np.where(has, ledger.pnl_at[wallets, lo % ring], pnl_now)
            slots = [dd % ring for dd in range(today - n_days + 1, today + 1)]
            vlm[name] = ledger.volume[:, slots].astype(np.float64).sum(axis=1)
        vlm["allTime"] = vlm["month"]
        held = np.bincount(sim.book.wallet, minlength=n) > 0
        rows = []
        for w in np.flatnonzero(held | (vlm["month"] > 0)).tolist():
            av = float(account_value[w])
            windows = []
            for name in LEADERBOARD_WINDOWS:
                p = float(pnl[name][w])
                base = av - p if av - p >= MIN_ROI_BASE else max(av, MIN_ROI_BASE)
                windows.append([name, {"pnl": fmt_usd(p), "roi": fmt_rate(p / base), "vlm": fmt_usd(vlm[name][w])}])
            rows.append({"ethAddress": str(sim.people.address[w]), "accountValue": fmt_usd(av), "displayName": None,
                         "prize": 0, "windowPerformances": windows})
        return {"leaderboardRows": rows}

    def _spot_equity(self, w: int) -> float:
        """`SimulatedMarket.spot_equity` for one wallet."""
        p = self.sim.people
        return float(p.spot_usdc[w] + p.spot_hype[w] * self.sim.hype_price())

    def _vault_equity(self, w: int) -> float:
        """`SimulatedMarket.vault_equity` for one wallet."""
        return float(self.sim.people.vault_usd[w] * self.sim.vault_nav)
