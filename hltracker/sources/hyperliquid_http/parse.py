"""The info API's answers as the snapshot contract's frames: the one place wire values become floats.

Sums are taken in `Decimal` (exact), then every value is converted once. Conventions:
- dex names: the API's "" is the contract's "main"; HIP-3 coins keep their `dex:` prefix;
- `perp_equity` sums `marginSummary.accountValue` over every dex, `balance` sums `withdrawable`;
- spot balances: stablecoins count at 1 USD, HYPE at its spot mid (`allMids` "@107"), any other token
  at its cost basis `entryNtl` (valuing the long tail of spot tokens would need `spotMetaAndAssetCtxs`;
  HYPE and stablecoins are nearly all of the spot equity the tracker reports);
- staking: delegated + undelegated + pending withdrawals, in HYPE, at the same HYPE price;
- `all_time_pnl` is the last point of `perpAllTime.pnlHistory` (perp PnL, as the cohorts need), else of
  `allTime`; `perp_volume_30d` is `perpMonth.vlm`, else `month.vlm`;
- positions: `funding_since_open` is `cumFunding.sinceOpen` (Hyperliquid's sign: positive = paid),
  `liquidation_price` is null when the API sends null or "NaN", `open_time` is null (the state does not
  say when a position opened; the engine uses the first snapshot that shows it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from hltracker.model import MAIN_DEX, conform, empty_frame
from hltracker.sources.hyperliquid_http.wire_types import (
    AllMids,
    ClearinghouseState,
    DelegatorSummary,
    MetaAndAssetCtxs,
    Portfolio,
    SpotClearinghouseState,
    VaultEquity,
)

HYPE_SPOT_PAIR = "@107"  # HYPE/USDC in allMids
STABLECOINS = frozenset({"USDC", "USDT", "USDT0", "USDH", "USDE"})
ZERO = Decimal(0)


def contract_dex(api_dex: str) -> str:
    return MAIN_DEX if api_dex == "" else api_dex


def _num(d: Decimal | None) -> float | None:
    return None if d is None or d.is_nan() else float(d)


# ----- markets --------------------------------------------------------------------------------------


def markets_frame(dexes: Sequence[tuple[str, MetaAndAssetCtxs]]) -> pl.DataFrame:
    """One row per market of every dex: (API dex name, its metaAndAssetCtxs answer) pairs."""
    rows = []
    for api_dex, (meta, ctxs) in dexes:
        if len(ctxs) != len(meta.universe):
            raise ValueError(f"metaAndAssetCtxs for dex {api_dex!r}: {len(meta.universe)} markets but "
                             f"{len(ctxs)} asset contexts")
        first_tier = _first_tier_leverage(meta)
        for asset, ctx in zip(meta.universe, ctxs, strict=True):
            max_lev = asset.max_leverage or first_tier.get(asset.margin_table_id) or asset.margin_table_id or 1
            rows.append({
                "coin": asset.name, "dex": contract_dex(api_dex), "mark_price": float(ctx.mark_px),
                "oracle_price": float(ctx.oracle_px), "mid_price": _num(ctx.mid_px), "premium": _num(ctx.premium),
                "funding_rate": float(ctx.funding), "open_interest": _num(ctx.open_interest),
                "day_ntl_volume": _num(ctx.day_ntl_vlm), "max_leverage": int(max_lev),
                "sz_decimals": asset.sz_decimals, "is_delisted": asset.is_delisted,
                "only_isolated": asset.isolated_only,
            })
    if not rows:
        return empty_frame("markets")
    return conform(pl.DataFrame(rows, schema_overrides={"mid_price": pl.Float64, "premium": pl.Float64,
                                                         "open_interest": pl.Float64,
                                                         "day_ntl_volume": pl.Float64}), "markets")


def _first_tier_leverage(meta) -> dict[int, int]:
    return {tid: table.margin_tiers[0].max_leverage for tid, table in meta.margin_tables if table.margin_tiers}


def hype_price(mids: AllMids | None, marks: dict[str, float]) -> float | None:
    """HYPE's spot mid, else its perp mark (a close stand-in), else None."""
    if mids and HYPE_SPOT_PAIR in mids:
        return float(mids[HYPE_SPOT_PAIR])
    return marks.get("HYPE")


# ----- one wallet -----------------------------------------------------------------------------------


@dataclass
class WalletState:
    """What the API said about one wallet, request by request; None = not fetched (yet)."""

    address: str
    perp: dict[str, ClearinghouseState] = field(default_factory=dict)  # API dex name -> state
    spot: SpotClearinghouseState | None = None
    vaults: list[VaultEquity] | None = None
    staking: DelegatorSummary | None = None
    portfolio: Portfolio | None = None
    # From the leaderboard file, until the wallet's portfolio is fetched (its first slow cycle).
    all_time_pnl_hint: Decimal | None = None
    volume_30d_hint: Decimal | None = None

    def server_time_ms(self) -> int | None:
        times = [s.time for s in self.perp.values() if s.time is not None]
        return max(times) if times else None

    def perp_equity(self) -> Decimal:
        return sum((s.margin_summary.account_value for s in self.perp.values()), ZERO)


def account_row(w: WalletState, hype_px: float | None) -> dict:
    """The wallet's accounts-frame row (floats; None where nothing was fetched)."""
    perp = w.perp.values()
    withdrawable = [s.withdrawable for s in perp if s.withdrawable is not None]
    return {
        "address": w.address,
        "perp_equity": float(w.perp_equity()),
        "spot_equity": None if w.spot is None else _spot_value(w.spot, hype_px),
        "staking_equity": None if w.staking is None or hype_px is None else float(
            w.staking.delegated + w.staking.undelegated + w.staking.total_pending_withdrawal) * hype_px,
        "vault_equity": None if w.vaults is None else float(sum((v.equity for v in w.vaults), ZERO)),
        "balance": float(sum(withdrawable, ZERO)) if withdrawable else None,
        "all_time_pnl": _num(_last_pnl(w.portfolio) if w.portfolio is not None else w.all_time_pnl_hint),
        "perp_volume_30d": _num(w.volume_30d_hint) if w.portfolio is None else _window_vlm(w.portfolio),
    }


def _spot_value(spot: SpotClearinghouseState, hype_px: float | None) -> float:
    total = 0.0
    for b in spot.balances:
        if b.coin in STABLECOINS:
            total += float(b.total)
        elif b.coin == "HYPE" and hype_px is not None:
            total += float(b.total) * hype_px
        else:
            total += float(b.entry_ntl)
    return total


def _window(portfolio: Portfolio, *names: str):
    found = dict(portfolio)
    for name in names:
        if name in found:
            return found[name]
    return None


def _last_pnl(portfolio: Portfolio) -> Decimal | None:
    window = _window(portfolio, "perpAllTime", "allTime")
    return window.pnl_history[-1][1] if window is not None and window.pnl_history else None


def _window_vlm(portfolio: Portfolio) -> float | None:
    window = _window(portfolio, "perpMonth", "month")
    return None if window is None else float(window.vlm)


def position_rows(w: WalletState, max_leverage: dict[str, int]) -> list[dict]:
    """The wallet's positions-frame rows, every dex; zero-size rows (old example shapes) are dropped."""
    rows = []
    for api_dex, state in w.perp.items():
        for item in state.asset_positions:
            p = item.position
            if p.szi == 0 or p.entry_px is None:
                continue
            rows.append({
                "address": w.address, "coin": p.coin, "dex": contract_dex(api_dex), "szi": float(p.szi),
                "entry_price": float(p.entry_px), "position_value": float(p.position_value),
                "unrealized_pnl": _num(p.unrealized_pnl), "liquidation_price": _liq(p.liquidation_px),
                "leverage_type": p.leverage.type, "leverage": p.leverage.value,
                "margin_used": _num(p.margin_used),
                "max_leverage": p.max_leverage or max_leverage.get(p.coin) or p.leverage.value,
                "funding_since_open": None if p.cum_funding is None else float(p.cum_funding.since_open),
                "open_time": None,
            })
    return rows


def _liq(px: Decimal | None) -> float | None:
    return None if px is None or px.is_nan() or px <= 0 else float(px)


def accounts_frame(rows: Iterable[dict]) -> pl.DataFrame:
    rows = list(rows)
    if not rows:
        return empty_frame("accounts")
    return conform(pl.DataFrame(rows, schema=dict(empty_frame("accounts").schema)), "accounts")


def positions_frame(rows: Iterable[dict]) -> pl.DataFrame:
    rows = list(rows)
    if not rows:
        return empty_frame("positions")
    schema = dict(empty_frame("positions").schema)
    return conform(pl.DataFrame(rows, schema=schema), "positions")
