"""A node state's raw columns as the snapshot contract's frames.

The state holds the chain's accounting (raw USD per dex, sizes, entry notionals, leverage settings,
isolated collateral, funding); the frames' figures (value, uPnL, margin used, liquidation price,
account value, withdrawable) are derived at the marks with `hltracker.model.margin`, the arithmetic the
simulator uses, by tier with the margin tables of the state's own meta.

What the state cannot give (DESIGN.md 2 lets a source leave optional columns null):
- positions `open_time` (no fill times in the state);
- accounts `all_time_pnl`, `perp_volume_30d` (no history), `vault_equity` (not read: vault NAVs);
- accounts `spot_equity` counts spot USDC at 1 and HYPE at the HYPE perp mark and no other token (the
  state has no spot prices we read); `staking_equity` is delegated HYPE at the same mark. Both are null
  when the file has no spot / staking section (the 2025 layout) or one we do not recognise.
- compressed layout: marks, mids, premiums, funding rates and 24h volumes come from `markets_from` (an
  info endpoint's `metaAndAssetCtxs`, taken when the file is read); oracle prices from the state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from hltracker.model import MAIN_DEX, Snapshot, SnapshotError, conform, validate_snapshot
from hltracker.model.margin import book_margin, maintenance_rate
from hltracker.sources.hyperliquid_node.errors import MarksUnavailableError, NodeLayoutError, NodeStateError
from hltracker.sources.hyperliquid_node.probe import COMPRESSED
from hltracker.sources.hyperliquid_node.reader import RawState

log = logging.getLogger(__name__)

SOURCE_NAME = "hyperliquid-node"
USD_SCALE = 1e6
STAKED_HYPE_WEI_DECIMALS = 8  # delegations are HYPE in wei (our rendering)
MARKET_CTX_COLUMNS = ("mark_price", "mid_price", "premium", "funding_rate", "day_ntl_volume")


def _dex_name(coins: list[str], where: str) -> str:
    """A clearinghouse's dex, from its coins' `dex:` prefix (none on the main dex)."""
    names = {c.split(":", 1)[0] if ":" in c else MAIN_DEX for c in coins}
    if len(names) > 1:
        raise NodeStateError(f"{where}.meta.universe mixes dexes {sorted(names)}")
    return names.pop() if names else MAIN_DEX


def _num(value) -> float | None:
    return None if value is None else float(value)


def _state_markets(raw: RawState) -> pl.DataFrame:
    """One row per market of the state's metas, with what the state itself says about it."""
    rows = []
    for d, meta in sorted(raw.metas.items()):
        where = f"exchange.locus.cls[{d}]" if raw.layout == COMPRESSED else f"exchange.perp_dexs[{d}].clearinghouse"
        universe = meta["universe"]
        dex = _dex_name([str(u["name"]) for u in universe], where)
        if raw.layout == COMPRESSED:
            pxs = raw.oracles.get(d, {}).get("pxs")
            if not isinstance(pxs, list) or len(pxs) != len(universe):
                raise NodeStateError(f"{where}.oracle.pxs: expected one price per market of meta.universe")
            ctxs = [{"oracle_px": px} for px in pxs]
        else:
            ctxs = meta["asset_ctxs"]
        for i, (u, ctx) in enumerate(zip(universe, ctxs, strict=True)):
            rows.append({
                "dex_index": d, "asset": i, "coin": str(u["name"]), "dex": dex,
                "sz_decimals": int(u["sz_decimals"]), "max_leverage": int(u["max_leverage"]),
                "margin_table": int(u["margin_table_id"]), "only_isolated": bool(u.get("only_isolated", False)),
                "is_delisted": bool(u.get("is_delisted", False)), "oracle_price": _num(ctx.get("oracle_px")),
                "mark_price": _num(ctx.get("mark_px")), "mid_price": _num(ctx.get("mid_px")),
                "premium": _num(ctx.get("premium")), "funding_rate": _num(ctx.get("funding")),
                "day_ntl_volume": _num(ctx.get("day_ntl_vlm")),
            })
    schema = {"dex_index": pl.Int32, "asset": pl.Int64, "coin": pl.String, "dex": pl.String,
              "sz_decimals": pl.Int32, "max_leverage": pl.Int32, "margin_table": pl.Int64,
              "only_isolated": pl.Boolean, "is_delisted": pl.Boolean,
              **dict.fromkeys(("oracle_price", *MARKET_CTX_COLUMNS), pl.Float64)}
    markets = pl.DataFrame(rows, schema=schema, orient="row")
    dup = markets.filter(pl.col("coin").is_duplicated())
    if dup.height:
        raise NodeStateError(f"market {dup['coin'][0]!r} is listed twice in the state's metas")
    return markets


def _with_marks(markets: pl.DataFrame, markets_from: pl.DataFrame | None) -> pl.DataFrame:
    """Marks and market contexts from `markets_from` (a frame of the contract's markets schema)."""
    if markets_from is None:
        return markets
    ctx = conform(markets_from, "markets").select("coin", *MARKET_CTX_COLUMNS)
    return markets.drop(MARKET_CTX_COLUMNS).join(ctx, on="coin", how="left")


def _margin_tables(raw: RawState) -> tuple[dict[tuple[int, int], int], np.ndarray, np.ndarray]:
    """Every (dex, table id) with its row in padded tier arrays (lower bounds ascending, +inf padding)."""
    index, tiers = {}, []
    for d, meta in sorted(raw.metas.items()):
        for table_id, table in meta["margin_tables"]:
            rows = sorted((float(t["lower_bound"]), int(t["max_leverage"])) for t in table["margin_tiers"])
            if not rows:
                raise NodeStateError(f"margin table {table_id} of clearinghouse {d} has no tiers")
            index[(d, int(table_id))] = len(tiers)
            tiers.append(rows)
    width = max((len(t) for t in tiers), default=1)
    lower = np.full((max(len(tiers), 1), width), np.inf)
    leverage = np.ones((max(len(tiers), 1), width), dtype=np.int64)
    for r, rows in enumerate(tiers):
        for k, (lo, lev) in enumerate(rows):
            lower[r, k], leverage[r, k] = lo, lev
    return index, lower, leverage


def _positions_raw(raw: RawState, markets: pl.DataFrame) -> pl.DataFrame:
    """Positions in common units (coins, USD): szi, entry price, isolated collateral, funding."""
    p = raw.positions
    if raw.layout == COMPRESSED:
        p = p.filter(pl.col("size_raw") != 0).join(markets, on=["dex_index", "asset"], how="left")
        unknown = p.filter(pl.col("coin").is_null())
        if unknown.height:
            r = unknown.row(0, named=True)
            raise NodeStateError(f"exchange.locus.cls[{r['dex_index']}]: a position of {r['address']} is in asset "
                                 f"{r['asset']}, which meta.universe does not list")
        side_ntl = pl.col("size_raw").sign() * pl.col("entry_ntl_raw") / USD_SCALE  # szi x entry
        szi = pl.col("size_raw") / (10.0 ** pl.col("sz_decimals").cast(pl.Float64))
        return p.drop("margin_table_right").with_columns(  # a position names its own margin table ("M")
            szi=szi.round(10), entry_price=pl.col("entry_ntl_raw") / USD_SCALE / szi.abs(),
            iso_margin=pl.when("isolated").then(pl.col("iso_raw_usd_raw") / USD_SCALE + side_ntl).otherwise(0.0),
            funding_since_open=pl.col("funding_open_raw") / USD_SCALE,
        )
    p = p.filter(pl.col("szi") != 0).join(markets, on=["dex_index", "coin"], how="left")
    unknown = p.filter(pl.col("asset").is_null())
    if unknown.height:
        r = unknown.row(0, named=True)
        raise NodeStateError(f"exchange.perp_dexs[{r['dex_index']}].clearinghouse: a position of {r['address']} is "
                             f"in {r['coin']!r}, which meta.universe does not list")
    return p.with_columns(iso_margin=pl.when("isolated").then(pl.col("iso_raw_usd") + pl.col("szi") *
                                                              pl.col("entry_price")).otherwise(0.0))


def _books(raw: RawState) -> pl.DataFrame:
    """One row per (address, dex) cross account, numbered: its raw USD. Every position sits in its user
    state, so every position's account is here."""
    raw_usd = pl.col("raw_usd_raw") / USD_SCALE if raw.layout == COMPRESSED else pl.col("raw_usd")
    books = raw.users.select("address", "dex_index", raw_usd.alias("raw_usd"))
    # Checked on a hash first: an exact group-by of a million addresses costs several times the frame.
    if books.select(pl.struct("address", "dex_index").hash().n_unique()).item() < books.height:
        twice = books.group_by("address", "dex_index").len().filter(pl.col("len") > 1)
        if twice.height:
            r = twice.row(0, named=True)
            raise NodeStateError(f"{r['address']} has two user states in clearinghouse {r['dex_index']}")
    return books.with_row_index("book")


def _positions_and_books(raw: RawState, markets: pl.DataFrame, tables_of: tuple):
    p = _positions_raw(raw, markets)
    missing = p.filter(pl.col("mark_price").is_null())
    if missing.height:
        coins = missing["coin"].unique().sort().head(5).to_list()
        raise NodeStateError(f"no mark price for {missing['coin'].n_unique()} market(s) with positions, e.g. {coins}")
    index, lower, leverage = tables_of
    tables = pl.DataFrame([(d, t, row) for (d, t), row in index.items()], orient="row",
                          schema={"dex_index": pl.Int32, "margin_table": pl.Int64, "table_row": pl.Int64})
    p = p.join(tables, on=["dex_index", "margin_table"], how="left")
    absent = p.filter(pl.col("table_row").is_null())
    if absent.height:
        r = absent.row(0, named=True)
        raise NodeStateError(f"clearinghouse {r['dex_index']}: margin table {r['margin_table']} is used by a position "
                             "but not listed in its meta.margin_tables")
    books = _books(raw)  # each position knows its book's row already (no join over a million addresses)
    table_row = p["table_row"].to_numpy()

    szi, mark, entry = (p[c].to_numpy().astype(np.float64) for c in ("szi", "mark_price", "entry_price"))
    isolated = p["isolated"].to_numpy()
    book = p["book"].to_numpy().astype(np.int64)
    # The state keeps raw USD (collateral net of cross entry notionals); the cross collateral is back.
    cash = books["raw_usd"].to_numpy() + np.bincount(book, weights=np.where(isolated, 0.0, szi * entry),
                                                     minlength=books.height)
    mmr = maintenance_rate(np.abs(szi) * mark, lower[table_row], leverage[table_row])
    bm = book_margin(szi, mark, entry, p["leverage"].to_numpy(), isolated, p["iso_margin"].to_numpy(), mmr,
                     book, cash)
    positions = p.with_columns(
        pl.Series("position_value", bm.value), pl.Series("unrealized_pnl", bm.upnl),
        pl.Series("liquidation_price", bm.liq_price).fill_nan(None), pl.Series("margin_used", bm.margin_used),
        leverage_type=pl.when("isolated").then(pl.lit("isolated")).otherwise(pl.lit("cross")),
        open_time=pl.lit(None),
    )
    books = books.with_columns(pl.Series("account_value", bm.account_value),
                               pl.Series("withdrawable", bm.withdrawable))
    return conform(positions, "positions"), books


def _token_value(raw: RawState, hype_px: float | None) -> pl.DataFrame:
    """USD per token unit for the tokens we price: USDC at 1, HYPE at the HYPE perp mark."""
    rows = []
    for index, (name, wei) in (raw.spot_tokens or {}).items():
        px = 1.0 if name == "USDC" else hype_px if name == "HYPE" else None
        if px is not None:
            rows.append((index, px / 10.0**wei))
    return pl.DataFrame(rows, schema={"token": pl.Int64, "usd_per_wei": pl.Float64}, orient="row")


def _accounts(raw: RawState, books: pl.DataFrame, markets: pl.DataFrame) -> pl.DataFrame:
    """Per wallet: perp figures summed over its dexes, spot and staking valued at the HYPE mark. One
    group-by over every part (no joins of million-row address columns)."""
    hype = markets.filter((pl.col("coin") == "HYPE") & (pl.col("dex") == MAIN_DEX))["mark_price"]
    hype_px = hype[0] if hype.len() else None
    parts = [books.select("address", perp_equity="account_value", balance="withdrawable")]
    if raw.spot is not None:
        parts.append(raw.spot.join(_token_value(raw, hype_px), on="token", how="inner")
                     .select("address", spot_equity=pl.col("amount_wei") * pl.col("usd_per_wei")))
    if raw.stakes is not None:
        parts.append(raw.stakes.select("address", staking_equity=pl.col("amount_wei")
                                       / 10.0**STAKED_HYPE_WEI_DECIMALS * pl.lit(hype_px, pl.Float64)))
    present = [c for c in ("perp_equity", "balance", "spot_equity", "staking_equity")
               if any(c in part.columns for part in parts)]
    # Sorted first: a group-by over sorted keys runs without a hash table (and the frame is in address order).
    summed = (pl.concat(parts, how="diagonal").sort("address")
              .group_by("address", maintain_order=True).agg(pl.col(c).sum() for c in present))
    accounts = summed.with_columns(
        *(pl.lit(None, pl.Float64).alias(c) for c in ("spot_equity", "staking_equity") if c not in summed.columns),
        *(pl.lit(None, pl.Float64).alias(c) for c in ("vault_equity", "all_time_pnl", "perp_volume_30d")),
    )
    return conform(accounts, "accounts")


def _markets_frame(markets: pl.DataFrame, positions: pl.DataFrame) -> pl.DataFrame:
    oi = positions.group_by("coin").agg(open_interest=(pl.col("szi").abs().sum() / 2).round(8))
    priced = markets.filter(pl.col("mark_price").is_not_null())
    if priced.height < markets.height:
        dropped = markets.filter(pl.col("mark_price").is_null())["coin"].to_list()
        log.warning("no mark price for %d market(s) without positions, left out: %s", len(dropped), dropped[:10])
    return conform(priced.join(oi, on="coin", how="left").with_columns(pl.col("open_interest").fill_null(0.0)),
                   "markets")


def to_snapshot(raw: RawState, markets_from: Callable[[], pl.DataFrame] | None = None,
                path: Path | None = None) -> Snapshot:
    """The contract's `Snapshot` of a raw state; marks from the state (verbose) or from `markets_from`."""
    try:
        markets, tables = _state_markets(raw), _margin_tables(raw)
    except NodeStateError:
        raise
    except (TypeError, ValueError, KeyError) as exc:  # a meta value of an unexpected type
        raise NodeLayoutError(f"meta: unexpected value ({type(exc).__name__}: {exc})") from None
    marks = "state"
    if raw.layout == COMPRESSED or markets["mark_price"].is_null().all():
        if markets_from is None:
            raise MarksUnavailableError()
        markets = _with_marks(markets, markets_from())
        marks = "markets_from"
    positions, books = _positions_and_books(raw, markets, tables)
    snap = Snapshot(
        taken_at=raw.time, source=SOURCE_NAME, height=raw.height,
        markets=_markets_frame(markets, positions), accounts=_accounts(raw, books, markets), positions=positions,
        extra={"layout": raw.layout, "format": raw.format, "marks": marks,
               **({"file": path.name} if path is not None else {}),
               **({"notes": "; ".join(raw.notes)} if raw.notes else {})},
    )
    try:
        return validate_snapshot(snap)
    except SnapshotError as exc:
        raise NodeStateError("the state makes an invalid snapshot: " + "; ".join(exc.problems)) from exc

