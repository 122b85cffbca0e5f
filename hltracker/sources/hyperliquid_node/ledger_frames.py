"""A `Ledger` at an instant as a contract `Snapshot`: markets, accounts, positions, fills, fundings.

The margin figures come from `hltracker.model.margin` (the arithmetic the simulator and the state-file
reader use). Marks: those the streams carried (`replica_cmds` SetGlobalAction, `hip3_oracle_updates`),
else `markets_from()` (an info endpoint) for the coins the streams left without one. `extra` records
where the marks came from (`marks_from`) and their age in ms at the snapshot's instant (`marks_age_ms`).
Spot, staking and vault equity, all-time PnL and 30-day volume are null: the replay does not follow them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import polars as pl

from hltracker.model import Snapshot, conform
from hltracker.model.margin import book_margin, maintenance_rate
from hltracker.model.schemas import FILLS_SCHEMA, FUNDINGS_SCHEMA
from hltracker.sources.hyperliquid_node.anchor import Ledger


class MarksMissing(ValueError):
    pass


def _utc(ms_col: str) -> pl.Expr:
    return pl.col(ms_col).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")


def ledger_snapshot(ledger: Ledger, at_ms: int, fills: list[dict], fundings: list[dict], marks_from: str | None,
                    marks_ms: int | None, markets_from: Callable[[], pl.DataFrame] | None, source: str,
                    extra: dict[str, str] | None = None) -> Snapshot:
    marks = dict(ledger.marks)
    mark_source = marks_from or "none"
    held = {coin for _, coin in ledger.positions}
    lacking = [c for c in held if c not in marks]
    if lacking and markets_from is not None:
        fetched = markets_from()
        for coin, px in zip(fetched["coin"].to_list(), fetched["mark_price"].to_list(), strict=True):
            if px is not None and coin in ledger.markets and coin not in marks:
                marks[coin] = float(px)
        mark_source = f"{mark_source} + info endpoint" if marks_from else "info endpoint"
        marks_ms = marks_ms if marks_from else at_ms
    lacking = sorted(c for c in held if c not in marks)
    if lacking:
        raise MarksMissing(f"no mark price yet for {len(lacking)} market(s) with positions, e.g. {lacking[:5]} "
                           "(no replica_cmds / hip3_oracle_updates marks: pass an info URL)")

    coins = [c for c in ledger.markets if c in marks]
    infos = [ledger.markets[c] for c in coins]
    keys = list(ledger.positions)
    pos = [ledger.positions[k] for k in keys]
    pinfo = [ledger.markets[c] for _, c in keys]
    n = len(keys)
    lot = np.array([i.lot for i in pinfo])
    szi = np.array([p.lots for p in pos], dtype=np.float64) * lot
    mark = np.array([marks[i.coin] for i in pinfo])
    entry = np.array([p.entry for p in pos])
    lev = np.array([p.leverage for p in pos], dtype=np.int64)
    iso = np.array([p.isolated for p in pos], dtype=bool)
    iso_margin = np.array([p.iso_margin for p in pos])
    width = max((len(i.tier_lower) for i in pinfo), default=1)
    lower = np.full((n, width), np.inf)
    tier_lev = np.ones((n, width), dtype=np.int64)
    for r, i in enumerate(pinfo):
        lower[r, : len(i.tier_lower)] = i.tier_lower
        tier_lev[r, : len(i.tier_leverage)] = i.tier_leverage
    mmr = maintenance_rate(np.abs(szi) * mark, lower, tier_lev)
    # Books (wallet x dex): every cash entry, plus any position's book without one. Plain dicts and
    # NumPy: a mainnet ledger has a million books, and string joins cost more than these lookups.
    book_keys = list(ledger.cash)
    index = dict(zip(book_keys, range(len(book_keys)), strict=True))
    book_of = np.empty(n, dtype=np.int64)
    for r, ((addr, _), i) in enumerate(zip(keys, pinfo, strict=True)):
        k = (addr, i.dex)
        row = index.get(k)
        if row is None:
            row = index[k] = len(book_keys)
            book_keys.append(k)
        book_of[r] = row
    cash = np.zeros(len(book_keys))
    cash[: len(ledger.cash)] = np.fromiter(ledger.cash.values(), np.float64, len(ledger.cash))
    bm = book_margin(szi, mark, entry, lev, iso, iso_margin, mmr, book_of, cash)

    positions = conform(pl.DataFrame({
        "address": [a for a, _ in keys], "coin": [c for _, c in keys], "dex": [i.dex for i in pinfo],
        "szi": np.round(szi, 10), "entry_price": entry, "position_value": bm.value, "unrealized_pnl": bm.upnl,
        "liquidation_price": bm.liq_price, "leverage_type": np.where(iso, "isolated", "cross"), "leverage": lev,
        "margin_used": bm.margin_used, "max_leverage": [i.max_leverage for i in pinfo],
        "funding_since_open": [p.funding_open for p in pos],
        "open_time": pl.Series([p.open_ms for p in pos], dtype=pl.Int64),
    }, schema_overrides={"address": pl.String, "coin": pl.String, "dex": pl.String,
                         "leverage_type": pl.String}).with_columns(
        pl.col("liquidation_price").fill_nan(None), _utc("open_time")), "positions")

    wallet_index: dict[str, int] = {}
    wallet_of = np.fromiter((wallet_index.setdefault(a, len(wallet_index)) for a, _ in book_keys), np.int64,
                            len(book_keys))
    addresses = list(wallet_index)
    if len(ledger.wallets) > len(addresses):
        addresses += list(ledger.wallets.difference(wallet_index))
    size = len(addresses)
    accounts = pl.DataFrame({
        "address": addresses,
        "perp_equity": np.bincount(wallet_of, weights=bm.account_value, minlength=size),
        "balance": np.bincount(wallet_of, weights=bm.withdrawable, minlength=size),
    }, schema_overrides={"address": pl.String})
    accounts = conform(accounts.with_columns(
        *(pl.lit(None, pl.Float64).alias(c) for c in ("spot_equity", "staking_equity", "vault_equity",
                                                      "all_time_pnl", "perp_volume_30d"))), "accounts")

    oi = {}
    for (_, coin), p, i in zip(keys, pos, pinfo, strict=True):
        oi[coin] = oi.get(coin, 0.0) + abs(p.lots) * i.lot / 2
    markets = conform(pl.DataFrame({
        "coin": coins, "dex": [i.dex for i in infos], "mark_price": [marks[c] for c in coins],
        "oracle_price": [ledger.oracles.get(c, marks[c]) for c in coins], "mid_price": None, "premium": None,
        "funding_rate": [ledger.funding_rates.get(c, 0.0) for c in coins],
        "open_interest": [round(oi.get(c, 0.0), 8) for c in coins], "day_ntl_volume": None,
        "max_leverage": [i.max_leverage for i in infos], "sz_decimals": [i.sz_decimals for i in infos],
        "is_delisted": [i.is_delisted for i in infos], "only_isolated": [i.only_isolated for i in infos],
    }, schema_overrides={"mid_price": pl.Float64, "premium": pl.Float64, "day_ntl_volume": pl.Float64,
                         "coin": pl.String, "dex": pl.String}), "markets")

    fills_df = (pl.DataFrame(fills, schema={**FILLS_SCHEMA, "time": pl.Int64}, orient="row")
                .with_columns(_utc("time")) if fills else pl.DataFrame(schema=FILLS_SCHEMA))
    fundings_df = (pl.DataFrame(fundings, schema={**FUNDINGS_SCHEMA, "time": pl.Int64}, orient="row")
                   .with_columns(_utc("time")) if fundings else pl.DataFrame(schema=FUNDINGS_SCHEMA))
    info = {"height": str(ledger.height), "marks_from": mark_source,
            "marks_age_ms": "" if marks_ms is None else str(at_ms - marks_ms),
            "funding_rate": "the last Funding event's rate per coin (0 before the first)",
            **(extra or {})}
    return Snapshot(taken_at=datetime.fromtimestamp(at_ms / 1000, tz=UTC), source=source, height=ledger.height,
                    markets=markets, accounts=accounts, positions=positions, fills=conform(fills_df, "fills"),
                    fundings=conform(fundings_df, "fundings"), extra=info)
