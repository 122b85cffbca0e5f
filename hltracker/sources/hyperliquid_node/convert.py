"""A `NodeState` (the chain's accounting) as the snapshot contract's frames, at marks from elsewhere.

The state holds raw USD per dex, sizes, entry notionals, leverage settings, isolated collateral and
funding; the frames' figures (value, uPnL, margin used, liquidation price, account value, withdrawable)
are derived at the marks with `hltracker.model.margin`, the arithmetic the simulator uses, by tier with
the margin tables of the state's own metas. A state file carries no mark prices (a node's local info
server does not serve `metaAndAssetCtxs` either), so `markets_from` must give them: marks, mids,
premiums, funding rates and 24h volumes come from it, oracle prices and open interest from the state.

What the state cannot give (DESIGN.md 2 lets a source leave optional columns null):
- positions `open_time` (no fill times in the state);
- accounts `all_time_pnl`, `perp_volume_30d` (no history), `vault_equity` (vault NAVs not read);
- accounts `spot_equity` counts spot USDC at 1 and HYPE at the HYPE perp mark and no other token;
  `staking_equity` is delegated HYPE at the same mark (the delegations' shape is unverified).

Account modes (`locus.ust`): a unified, dexAbstraction or portfolio-margin wallet keeps its collateral
in spot, shared across dexes, so its per-dex `u` is not its collateral. Its perp figures are reported
the way the info API's `clearinghouseState` reports them (from that dex's `u` and positions, like any
wallet's; the collateral itself is in its spot balance, counted in `spot_equity`), and the liquidation
prices of its cross positions, which depend on that shared collateral, are left null. The snapshot's
notes count these wallets.

Collateral tokens: a dex's account values are in its `collateralToken` (USDC, USDH, USDE, USDT): summed
into `perp_equity` at par with USD (all are dollar stablecoins); `extra["collateral"]` names them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from hltracker.model import MAIN_DEX, Snapshot, SnapshotError, conform, validate_snapshot
from hltracker.model.margin import book_margin, maintenance_rate
from hltracker.sources.hyperliquid_node.errors import MarksUnavailableError, NodeStateError
from hltracker.sources.hyperliquid_node.probe import LAYOUT
from hltracker.sources.hyperliquid_node.state import (
    SHARED_COLLATERAL_MODES,
    SPOT_TOKENS,
    USD_SCALE,
    NodeState,
)

log = logging.getLogger(__name__)

SOURCE_NAME = "hyperliquid-node"
STAKED_HYPE_WEI_DECIMALS = 8  # delegations are HYPE in wei (unverified shape)
MARKET_CTX_COLUMNS = ("mark_price", "mid_price", "premium", "funding_rate", "day_ntl_volume")


def _with_marks(state: NodeState, markets_from: pl.DataFrame) -> pl.DataFrame:
    """The state's markets with marks and contexts from `markets_from` (a frame of the contract's markets
    schema); an oracle price the state lacks comes from there too."""
    ctx = conform(markets_from, "markets").select("coin", *MARKET_CTX_COLUMNS,
                                                  pl.col("oracle_price").alias("ext_oracle"))
    return (state.markets_frame().join(ctx, on="coin", how="left")
            .with_columns(pl.col("oracle_price").fill_null(pl.col("ext_oracle"))).drop("ext_oracle"))


def _margin_tables(state: NodeState) -> tuple[dict[tuple[int, int], int], np.ndarray, np.ndarray]:
    """Every (dex, table id) with its row in padded tier arrays (lower bounds ascending, +inf padding)."""
    index, tiers = {}, []
    for d in state.dexes:
        for table_id, table in d.margin_tables.items():
            index[(d.index, table_id)] = len(tiers)
            tiers.append([(t.lower_bound, t.max_leverage) for t in table])
    width = max((len(t) for t in tiers), default=1)
    lower = np.full((max(len(tiers), 1), width), np.inf)
    leverage = np.ones((max(len(tiers), 1), width), dtype=np.int64)
    for r, rows in enumerate(tiers):
        for k, (lo, lev) in enumerate(rows):
            lower[r, k], leverage[r, k] = lo, lev
    return index, lower, leverage


def _table_rows(state: NodeState, p: pl.DataFrame, index: dict[tuple[int, int], int]) -> np.ndarray:
    """Each position's row in the tier arrays, by its own `M`."""
    tables = pl.DataFrame([(d, t, row) for (d, t), row in index.items()], orient="row",
                          schema={"dex_index": pl.Int32, "margin_table": pl.Int64, "table_row": pl.Int64})
    rows = p.select("dex_index", "margin_table").join(tables, on=["dex_index", "margin_table"], how="left",
                                                      maintain_order="left")
    absent = rows.filter(pl.col("table_row").is_null())
    if absent.height:
        r = absent.row(0, named=True)
        raise NodeStateError(f"exchange.locus.cls[{r['dex_index']}]: margin table {r['margin_table']} is used by "
                             "a position (M) but not listed in its meta.marginTableIdToMarginTable")
    return rows["table_row"].to_numpy()


def _positions_and_books(state: NodeState, markets: pl.DataFrame, notes: list[str]):
    p = state.positions.join(markets.select("dex_index", "asset", "mark_price", "max_leverage", "dex"),
                             on=["dex_index", "asset"], how="left", maintain_order="left")
    missing = p.filter(pl.col("mark_price").is_null())
    if missing.height:
        coins = missing["coin"].unique().sort().head(5).to_list()
        raise NodeStateError(f"no mark price for {missing['coin'].n_unique()} market(s) with positions, e.g. {coins}")
    shared = state.account_modes.filter(pl.col("mode").is_in(list(SHARED_COLLATERAL_MODES))
                                        | pl.col("mode").str.starts_with("unknown:"))
    p = p.with_columns(shared=pl.col("address").is_in(shared["address"].implode()),
                       iso_unknown=pl.col("isolated") & pl.col("iso_raw_usd").is_null())
    index, lower, leverage = _margin_tables(state)
    table_row = _table_rows(state, p, index)

    books = state.users.select("address", "dex_index", raw_usd=pl.col("u") / USD_SCALE)
    szi = p["szi"].to_numpy().astype(np.float64)
    entry = (p["entry_ntl"] / USD_SCALE / p["szi"].abs()).to_numpy()
    mark = p["mark_price"].to_numpy().astype(np.float64)
    isolated = p["isolated"].to_numpy()
    book = p["book"].to_numpy().astype(np.int64)
    iso_unknown = p["iso_unknown"].to_numpy()
    # Isolated collateral = rawUsd + szi x entry; the state keeps raw USD (collateral net of the entry
    # notional), per dex for the cross account and per position (`l.I.u`) for an isolated one.
    iso_margin = np.where(isolated, p["iso_raw_usd"].fill_null(0).to_numpy() / USD_SCALE + szi * entry, 0.0)
    iso_margin = np.where(iso_unknown, 0.0, iso_margin)
    cash = books["raw_usd"].to_numpy() + np.bincount(book, weights=np.where(isolated, 0.0, szi * entry),
                                                     minlength=books.height)
    mmr = maintenance_rate(np.abs(szi) * mark, lower[table_row], leverage[table_row])
    bm = book_margin(szi, mark, entry, p["leverage"].to_numpy(), isolated, iso_margin, mmr, book, cash)
    account_value = bm.account_value - np.bincount(book, weights=np.where(iso_unknown, bm.upnl, 0.0),
                                                   minlength=books.height)
    liq = np.where((p["shared"].to_numpy() & ~isolated) | iso_unknown, np.nan, bm.liq_price)
    positions = p.with_columns(
        pl.Series("entry_price", entry), pl.Series("position_value", bm.value), pl.Series("unrealized_pnl", bm.upnl),
        pl.Series("liquidation_price", liq).fill_nan(None),
        pl.Series("margin_used", np.where(iso_unknown, np.nan, bm.margin_used)).fill_nan(None),
        leverage_type=pl.when("isolated").then(pl.lit("isolated")).otherwise(pl.lit("cross")),
        funding_since_open=pl.col("funding_open") / USD_SCALE,
        open_time=pl.lit(None),
    )
    books = books.with_columns(pl.Series("account_value", account_value), pl.Series("withdrawable", bm.withdrawable))
    if shared.height:
        counts = shared.group_by("mode").len().sort("mode").rows()
        with_positions = p.filter("shared")["address"].n_unique()
        notes.append(f"{shared.height} wallet(s) in shared-collateral account modes ("
                     + ", ".join(f"{m} {n}" for m, n in counts) + f"; {with_positions} with positions): perp figures "
                     "as clearinghouseState reports them, their collateral in spot_equity, the liquidation prices "
                     "of their cross positions left null")
    return conform(positions, "positions"), books


def _token_value(hype_px: float | None) -> pl.DataFrame:
    """USD per wei for the tokens we price: USDC at 1, HYPE at the HYPE perp mark."""
    rows = []
    for index, (name, wei) in SPOT_TOKENS.items():
        px = 1.0 if name == "USDC" else hype_px if name == "HYPE" else None
        if px is not None:
            rows.append((index, px / 10.0**wei))
    return pl.DataFrame(rows, schema={"token": pl.Int64, "usd_per_wei": pl.Float64}, orient="row")


def _accounts(state: NodeState, books: pl.DataFrame, markets: pl.DataFrame) -> pl.DataFrame:
    """Per wallet: perp figures summed over its dexes, spot and staking valued at the HYPE mark. One
    group-by over every part (no joins of million-row address columns)."""
    hype = markets.filter((pl.col("coin") == "HYPE") & (pl.col("dex") == MAIN_DEX))["mark_price"]
    hype_px = hype[0] if hype.len() else None
    parts = [books.select("address", perp_equity="account_value", balance="withdrawable")]
    if state.spot is not None:
        parts.append(state.spot.join(_token_value(hype_px), on="token", how="inner")
                     .select("address", spot_equity=pl.col("total") * pl.col("usd_per_wei")))
    if state.stakes is not None:
        parts.append(state.stakes.select("address", staking_equity=pl.col("amount_wei")
                                         / 10.0**STAKED_HYPE_WEI_DECIMALS * pl.lit(hype_px, pl.Float64)))
    present = [c for c in ("perp_equity", "balance", "spot_equity", "staking_equity")
               if any(c in part.columns for part in parts)]
    # Sorted first: a group-by over sorted keys runs without a hash table (and the frame is in address order).
    summed = (pl.concat(parts, how="diagonal").sort("address")
              .group_by("address", maintain_order=True).agg(pl.col(c).sum() for c in present))
    accounts = summed.with_columns(
        *(pl.lit(None, pl.Float64).alias(c) for c in ("spot_equity", "staking_equity") if c not in summed.columns),
        *(pl.lit(None, pl.Float64).alias(c) for c in ("vault_equity", "all_time_pnl", "perp_volume_30d")),
        # A wallet seen only in spot or staking has no perp account: 0, as clearinghouseState reports it.
        pl.col("perp_equity").fill_null(0.0),
    )
    return conform(accounts, "accounts")


def _markets_frame(markets: pl.DataFrame, positions: pl.DataFrame) -> pl.DataFrame:
    oi = positions.group_by("coin").agg(open_interest=(pl.col("szi").abs().sum() / 2).round(8))
    priced = markets.filter(pl.col("mark_price").is_not_null() & pl.col("oracle_price").is_not_null())
    if priced.height < markets.height:
        dropped = markets.filter(pl.col("mark_price").is_null() | pl.col("oracle_price").is_null())["coin"].to_list()
        log.warning("no mark or oracle price for %d market(s) without positions, left out: %s", len(dropped),
                    dropped[:10])
    return conform(priced.join(oi, on="coin", how="left").with_columns(pl.col("open_interest").fill_null(0.0)),
                   "markets")


def to_snapshot(state: NodeState, markets_from: Callable[[], pl.DataFrame] | None = None,
                path: Path | None = None) -> Snapshot:
    """The contract's `Snapshot` of a node state, at the marks `markets_from` returns."""
    if markets_from is None:
        raise MarksUnavailableError()
    markets = _with_marks(state, markets_from())
    notes = list(state.notes)
    positions, books = _positions_and_books(state, markets, notes)
    extra = {"layout": LAYOUT, "format": state.format, "marks": "markets_from",
             "collateral": ",".join(f"{d.name}:{d.collateral_token}" for d in state.dexes)}
    if path is not None:
        extra["file"] = path.name
    if notes:
        extra["notes"] = "; ".join(notes)
    if state.unknown_keys:
        extra["unknown_keys"] = "; ".join(f"{k} x{n}" for k, n in sorted(state.unknown_keys.items()))
    snap = Snapshot(taken_at=state.time, source=SOURCE_NAME, height=state.height,
                    markets=_markets_frame(markets, positions), accounts=_accounts(state, books, markets),
                    positions=positions, extra=extra)
    try:
        return validate_snapshot(snap)
    except SnapshotError as exc:
        raise NodeStateError("the state makes an invalid snapshot: " + "; ".join(exc.problems)) from exc
