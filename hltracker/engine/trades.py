"""Closed trades rebuilt from fills: a trade runs from open to flat (DESIGN.md 3.3, seen through fills).

Each fill of a wallet in a market becomes one or two legs. A fill that opens, adds to, reduces or closes
a position is one leg; a flip (`Long > Short`) is two: the close of the old side (size |startPosition|,
all of the fill's closedPnl) and the open of the new side (the rest). A flip's fee is shared between
its two legs by size. A leg that starts from zero opens a trade; the legs after it, up to the one that
ends at zero, belong to it. Legs before the first opening leg of a batch continue the wallet's open
trade from the previous run (`open_trades`, kept by the store, so a restart continues the same trades);
when there is none they belong to no trade: a position opened before the first fill the store saw keeps
its fills (served by /fills) but gets no rebuilt trade.

A trade's `hash` is sha256 hex of `address|dex|coin|openTime(ms)` (openTime: its opening fill's time),
the formula of position ids (`lifecycle.position_id`): where the source knows opening-fill times, a
trade and the position lifecycle it traded share one id, which is how a trade learns its funding (the
lifecycle's funding since open, as last seen at a snapshot).

Only fills after the previous snapshot and up to this one count, as for the lifecycles, so no fill is
taken twice when sources repeat fills across snapshots.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

from hltracker.engine.instants import instant
from hltracker.model.outputs import CLOSED_TRADES_SCHEMA, OPEN_TRADES_SCHEMA, STORED_FILLS_SCHEMA
from hltracker.model.schemas import FILLS_SCHEMA

_ZERO = 1e-9  # as lifecycle._ZERO: sizes closer to 0 than this (relative) count as flat
_KEY = ("address", "coin")


@dataclass(frozen=True)
class Trades:
    fills: pl.DataFrame  # STORED_FILLS_SCHEMA, in time order
    closed_trades: pl.DataFrame  # CLOSED_TRADES_SCHEMA: the trades that went flat in this batch
    open_trades: pl.DataFrame  # OPEN_TRADES_SCHEMA: every trade still open, one per (address, coin)


def _window(fills: pl.DataFrame | None, after_ms: int | None, until_ms: int) -> pl.DataFrame:
    """The fills of (after, until], in the order they happened (time, tid, then as given), numbered `_seq`."""
    if fills is None or fills.height == 0:
        return pl.DataFrame(schema=FILLS_SCHEMA).with_row_index("_seq")
    frame = fills.filter(pl.col("time") <= instant(until_ms))
    if after_ms is not None:
        frame = frame.filter(pl.col("time") > instant(after_ms))
    return (
        frame.select(FILLS_SCHEMA.names()).with_row_index("_given")
        .sort("time", "tid", "_given", nulls_last=True)  # the two sides of a tid: in the source's order
        .drop("_given").with_row_index("_seq")
    )


def _legs(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per leg: kind (open / add / reduce), size, price, the |position| after it, pnl, fee."""
    signed = pl.when(pl.col("side") == "B").then(pl.col("sz")).otherwise(-pl.col("sz"))
    scale = pl.max_horizontal(pl.col("start_position").abs(), pl.col("sz"), pl.lit(1.0))

    def sign(x: pl.Expr) -> pl.Expr:
        return pl.when(x.abs() <= _ZERO * scale).then(0).otherwise(x.sign()).cast(pl.Int8)

    base = frame.with_columns((pl.col("start_position") + signed).alias("_end")).with_columns(
        sign(pl.col("start_position")).alias("_s0"), sign(pl.col("_end")).alias("_s1"),
        pl.col("fee").fill_null(0.0).alias("_fee"),
        (pl.col("is_liquidation") & (pl.col("liquidated_user") == pl.col("address"))).fill_null(False)
        .alias("_own_liquidation"),
    )
    s0, s1, start, end = pl.col("_s0"), pl.col("_s1"), pl.col("start_position").abs(), pl.col("_end").abs()
    flip = (s0 != 0) & (s1 != 0) & (s0 != s1)
    share = pl.when(pl.col("sz") > 0).then(pl.col("_fee") / pl.col("sz")).otherwise(0.0)
    common = [pl.col(c) for c in ("_seq", "time", "address", "coin", "dex", "px", "_own_liquidation")]
    first = base.select(
        *common,
        pl.lit(0, pl.Int8).alias("leg"),
        pl.when(s0 == 0).then(pl.when(s1 != 0).then(pl.lit("open")))
        .when(flip).then(pl.lit("reduce"))
        .when(end > start).then(pl.lit("add"))
        .otherwise(pl.lit("reduce")).alias("kind"),
        pl.when(flip).then(start).otherwise(pl.col("sz")).alias("size"),
        pl.when(flip | (s1 == 0)).then(0.0).otherwise(end).alias("after"),
        pl.col("closed_pnl").alias("pnl"),
        pl.when(flip).then(share * start).otherwise(pl.col("_fee")).alias("leg_fee"),
        pl.when(s0 == 0).then(s1).otherwise(s0).alias("side_sign"),
    )
    second = base.filter(flip).select(
        *common,
        pl.lit(1, pl.Int8).alias("leg"),
        pl.lit("open").alias("kind"),
        end.alias("size"),
        end.alias("after"),
        pl.lit(0.0).alias("pnl"),
        (share * end).alias("leg_fee"),
        s1.alias("side_sign"),
    )
    return (
        pl.concat([first, second]).filter(pl.col("kind").is_not_null())
        .sort("_seq", "leg")  # the order they happened; `over` keeps it within each wallet and market
        .with_columns(
            (pl.col("kind") == "open").cast(pl.Int64).cum_sum().over(_KEY).alias("trade_no"),
            ((pl.col("kind") == "reduce") & (pl.col("after") == 0)).alias("closes"),
        )
    )


def _hash_new(trades: pl.DataFrame) -> pl.Series:
    """`lifecycle.position_id` of each new trade, the key text built by Polars (the loop only hashes)."""
    keys = trades.select(pl.concat_str(
        "address", "dex", "coin", pl.col("open_time").dt.epoch("ms").cast(pl.String), separator="|"))
    return pl.Series("hash", [hashlib.sha256(k.encode()).hexdigest() for k in keys.to_series()], dtype=pl.String)


def rebuild(fills: pl.DataFrame | None, previous: pl.DataFrame | None, after_ms: int | None, until_ms: int,
            funding: pl.DataFrame | None = None) -> Trades:
    """Continue the open trades `previous` (OPEN_TRADES_SCHEMA, or None) with the fills of (after, until].

    `funding`: (id, funding) of the position lifecycles this snapshot saw open or closed; a trade takes
    the funding of the lifecycle with its hash, else keeps the last it had.
    """
    frame = _window(fills, after_ms, until_ms)
    previous = previous if previous is not None else pl.DataFrame(schema=OPEN_TRADES_SCHEMA)
    legs = _legs(frame)
    is_entry = pl.col("kind").is_in(["open", "add"])
    batch = legs.group_by(*_KEY, "trade_no").agg(
        pl.col("dex").first(),
        pl.col("time").filter(pl.col("kind") == "open").first().alias("open_time"),
        pl.col("side_sign").first(),
        pl.col("after").last().alias("size"),
        pl.col("after").max().alias("max_size"),
        pl.col("size").filter(is_entry).sum().alias("entry_size"),
        (pl.col("size") * pl.col("px")).filter(is_entry).sum().alias("entry_notional"),
        pl.col("size").filter(~is_entry).sum().alias("exit_size"),
        (pl.col("size") * pl.col("px")).filter(~is_entry).sum().alias("exit_notional"),
        pl.col("pnl").sum().alias("closed_pnl"),
        pl.col("leg_fee").sum().alias("fees"),
        pl.len().cast(pl.Int64).alias("fill_count"),
        pl.col("closes").any().alias("closed"),
        pl.col("time").filter("closes").first().alias("close_time"),
        pl.col("_own_liquidation").filter("closes").first().alias("liquidated"),
    )

    # Trades opened in this batch, and the continuation (trade_no 0) of the previous open ones.
    fresh = batch.filter(pl.col("trade_no") > 0)
    fresh = fresh.with_columns(
        _hash_new(fresh),
        pl.when(pl.col("side_sign") > 0).then(pl.lit("long")).otherwise(pl.lit("short")).alias("direction"),
        pl.lit(None, pl.Float64).alias("funding"),
    )
    sums = ("entry_size", "entry_notional", "exit_size", "exit_notional", "closed_pnl", "fees", "fill_count")
    carried = batch.filter(pl.col("trade_no") == 0).join(
        previous.select(*_KEY, "hash", "direction", "funding", *[pl.col(c).alias(f"prev_{c}") for c in (
            "open_time", "max_size", "dex", *sums)]),
        on=list(_KEY), how="inner",
    ).with_columns(
        pl.col("prev_open_time").alias("open_time"),
        pl.col("prev_dex").alias("dex"),
        pl.max_horizontal("max_size", "prev_max_size").alias("max_size"),
        *[(pl.col(c) + pl.col(f"prev_{c}")).alias(c) for c in sums],
    )
    columns = [*_KEY, "trade_no", "hash", "dex", "direction", "open_time", "size", "max_size", *sums, "funding",
               "closed", "close_time", "liquidated"]
    touched = pl.concat([carried.select(columns), fresh.select(columns)])
    if funding is not None and funding.height:
        seen = funding.select(pl.col("id").alias("hash"), pl.col("funding").alias("seen_funding")).unique("hash")
        touched = touched.join(seen, on="hash", how="left").with_columns(
            pl.coalesce("seen_funding", "funding").alias("funding")).drop("seen_funding")

    closed = (
        touched.filter("closed")
        .with_columns(
            pl.col("entry_size").alias("size"),
            (pl.col("entry_notional") / pl.col("entry_size")).alias("entry_price"),
            pl.when(pl.col("exit_size") > 0).then(pl.col("exit_notional") / pl.col("exit_size")).alias("exit_price"),
            (pl.col("closed_pnl") - pl.col("fees") - pl.col("funding").fill_null(0.0)).alias("net_pnl"),
            (pl.col("entry_notional") + pl.col("exit_notional")).alias("volume"),
            pl.col("liquidated").fill_null(False),
        )
        .select(CLOSED_TRADES_SCHEMA.names()).cast(dict(CLOSED_TRADES_SCHEMA))
        .sort("close_time", "address", "coin", "hash")
    )
    still_open = (
        touched.filter(~pl.col("closed")).sort("trade_no").group_by(_KEY).last()
        .select(OPEN_TRADES_SCHEMA.names())
    )
    untouched = previous.join(legs.select(_KEY).unique(), on=list(_KEY), how="anti")
    if funding is not None and funding.height and untouched.height:
        seen = funding.select(pl.col("id").alias("hash"), pl.col("funding").alias("seen_funding")).unique("hash")
        untouched = untouched.join(seen, on="hash", how="left").with_columns(
            pl.coalesce("seen_funding", "funding").alias("funding")).select(OPEN_TRADES_SCHEMA.names())
    open_trades = (
        pl.concat([untouched.select(OPEN_TRADES_SCHEMA.names()).cast(dict(OPEN_TRADES_SCHEMA)),
                   still_open.cast(dict(OPEN_TRADES_SCHEMA))])
        .sort("address", "coin")
    )

    # Each fill with the trade of its first leg and, for a flip, of its second.
    hashes = legs.join(touched.select(*_KEY, "trade_no", "hash"), on=[*_KEY, "trade_no"], how="left")
    first = hashes.filter(pl.col("leg") == 0).select("_seq", pl.col("hash").alias("trade_hash"))
    second = hashes.filter(pl.col("leg") == 1).select("_seq", pl.col("hash").alias("flip_trade_hash"))
    stored = (
        frame.join(first, on="_seq", how="left").join(second, on="_seq", how="left")
        .sort("_seq")
        .select(STORED_FILLS_SCHEMA.names()).cast(dict(STORED_FILLS_SCHEMA))
    )
    return Trades(fills=stored, closed_trades=closed, open_trades=open_trades)
