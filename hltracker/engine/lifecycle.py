"""Position lifecycles (DESIGN.md 3.3): which open positions continue, which open, which closed.

A position opens when a wallet's size in a market leaves 0 and closes when it returns to 0 or leaves the
state; a flip long <-> short is a close plus an open, and so is a close and re-open between two
snapshots when the source's `open_time` says so. `id` = sha256 hex of `address|dex|coin|openTime(ms)`,
so the same lifecycle gets the same id on every run and every backend.

Times: `open_time` is the source's opening-fill time, else the opening fill in the snapshot's fills,
else the snapshot's `taken_at`; `close_time` is the closing fill's time, else `taken_at`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

from hltracker.engine.instants import instant
from hltracker.model.outputs import CLOSED_POSITIONS_SCHEMA, OPEN_POSITIONS_SCHEMA
from hltracker.model.schemas import UTC_MS

# Values whose change marks a position as updated (`updatedAt`); price-only moves count through value.
_TRACKED = ("szi", "entry_price", "value", "unrealized_pnl", "liquidation_price", "funding", "margin_used",
            "leverage_type", "cross_leverage", "isolated_leverage")
_ZERO = 1e-9  # sizes closer to 0 than this (relative) count as flat; fill sizes are rounded decimals


def position_id(address: str, dex: str, coin: str, open_time_ms: int) -> str:
    """The stable lifecycle id of DESIGN.md 3.3."""
    return hashlib.sha256(f"{address}|{dex}|{coin}|{open_time_ms}".encode()).hexdigest()


@dataclass(frozen=True)
class Lifecycles:
    open_positions: pl.DataFrame  # OPEN_POSITIONS_SCHEMA
    closed_positions: pl.DataFrame  # CLOSED_POSITIONS_SCHEMA


def _crossing_fills(fills: pl.DataFrame | None, after: pl.Expr | None, until_ms: int) -> pl.DataFrame:
    """Fills that took a position through zero, with the sign before and after (+1 / -1 / 0)."""
    cols = {"address": pl.String, "coin": pl.String, "time": UTC_MS, "tid": pl.Int64, "start_sign": pl.Int8,
            "end_sign": pl.Int8, "liquidated": pl.Boolean}
    if fills is None or fills.height == 0:
        return pl.DataFrame(schema=cols)
    signed = pl.when(pl.col("side") == "B").then(pl.col("sz")).otherwise(-pl.col("sz"))
    end = pl.col("start_position") + signed
    scale = pl.max_horizontal(pl.col("start_position").abs(), pl.col("sz"), pl.lit(1.0))
    frame = fills.filter(pl.col("time") <= instant(until_ms))
    if after is not None:
        frame = frame.filter(pl.col("time") > after)
    return (
        frame.with_columns(
            pl.col("start_position").sign().cast(pl.Int8).alias("start_sign"),
            pl.when(end.abs() <= _ZERO * scale).then(0).otherwise(end.sign()).cast(pl.Int8).alias("end_sign"),
            (pl.col("is_liquidation") & (pl.col("liquidated_user") == pl.col("address"))).fill_null(False)
            .alias("liquidated"),
        )
        .filter(pl.col("start_sign") != pl.col("end_sign"))
        .select(list(cols))
        .cast(cols)
    )


def _ids(frame: pl.DataFrame) -> pl.Series:
    ms = frame.get_column("open_time").dt.epoch("ms")
    return pl.Series("id", [
        position_id(a, d, c, t)
        for a, d, c, t in zip(frame["address"], frame["dex"], frame["coin"], ms, strict=True)
    ], dtype=pl.String)


def track(current: pl.DataFrame, previous: pl.DataFrame | None, taken_at_ms: int,
          previous_taken_at_ms: int | None, fills: pl.DataFrame | None) -> Lifecycles:
    """Match this snapshot's positions against the previous open lifecycles.

    `current`: the snapshot's positions with every OPEN_POSITIONS_SCHEMA column except `id`, `open_time`,
    `created_at` and `updated_at`, plus `source_open_time` (the source's opening-fill time or null).
    `previous`: the previous run's open positions (OPEN_POSITIONS_SCHEMA) or None on the first run.
    """
    taken = instant(taken_at_ms)
    after = None if previous_taken_at_ms is None else instant(previous_taken_at_ms)
    crossings = _crossing_fills(fills, after, taken_at_ms)
    if previous is None:
        previous = pl.DataFrame(schema=OPEN_POSITIONS_SCHEMA)

    prev = previous.select(
        "address", "coin",
        pl.col("id").alias("prev_id"), pl.col("szi").alias("prev_szi"), pl.col("open_time").alias("prev_open"),
        pl.col("created_at").alias("prev_created"), pl.col("updated_at").alias("prev_updated"),
        *[pl.col(c).alias(f"prev_{c}") for c in _TRACKED if c != "szi"],
    )
    # The first fill that took each (wallet, market, side) through zero ends that side's lifecycle.
    closing_fill = (
        crossings.sort("time", "tid")
        .group_by("address", "coin", "start_sign", maintain_order=True)
        .agg(pl.col("time").first().alias("fill_close"), pl.col("liquidated").first())
    )
    joined = (
        current.join(prev, on=["address", "coin"], how="left")
        .with_columns(pl.col("prev_szi").sign().cast(pl.Int8).alias("start_sign"))
        .join(closing_fill.select("address", "coin", "start_sign", "fill_close"),
              on=["address", "coin", "start_sign"], how="left")
    )
    continues = (
        pl.col("prev_id").is_not_null()
        & (pl.col("szi").sign() == pl.col("prev_szi").sign())
        & (pl.col("source_open_time").is_null() | (pl.col("source_open_time") <= pl.col("prev_open")))
        & pl.col("fill_close").is_null()
    )
    joined = joined.with_columns(continues.alias("continues"))

    # Continuing lifecycles keep id, open and creation times; updatedAt moves only when something changed.
    changed = pl.any_horizontal(*[
        pl.col(c).ne_missing(pl.col(f"prev_{c}")) for c in _TRACKED
    ])
    kept = joined.filter("continues").with_columns(
        pl.col("prev_id").alias("id"),
        pl.col("prev_open").alias("open_time"),
        pl.col("prev_created").alias("created_at"),
        pl.when(changed).then(taken).otherwise(pl.col("prev_updated")).alias("updated_at"),
    )

    # New lifecycles: opened (or re-opened on the other side) since the previous snapshot.
    opening_fill = (
        crossings.filter(pl.col("end_sign") != 0)
        .group_by("address", "coin", "end_sign").agg(pl.col("time").max().alias("fill_open"))
    )
    fresh = (
        joined.filter(~pl.col("continues"))
        .with_columns(pl.col("szi").sign().cast(pl.Int8).alias("end_sign"))
        .drop("start_sign", "fill_close")
        .join(opening_fill, on=["address", "coin", "end_sign"], how="left")
        .with_columns(
            # a new lifecycle cannot open before the one it replaces (that would repeat its id)
            pl.when(pl.col("prev_open").is_not_null()
                    & (pl.coalesce("source_open_time", "fill_open") <= pl.col("prev_open")))
            .then(taken).otherwise(pl.coalesce("source_open_time", "fill_open", taken)).alias("open_time"),
            taken.alias("created_at"),
            taken.alias("updated_at"),
        )
    )
    fresh = fresh.with_columns(_ids(fresh))
    open_positions = (
        pl.concat([kept.select(OPEN_POSITIONS_SCHEMA.names()), fresh.select(OPEN_POSITIONS_SCHEMA.names())])
        .cast(dict(OPEN_POSITIONS_SCHEMA))
        .sort("coin", "address")
    )

    # Closed lifecycles: previous ones not continued, with their last seen values.
    survivors = kept.select(pl.col("prev_id").alias("id"))
    closed = (
        previous.join(survivors, on="id", how="anti")
        .with_columns(pl.col("szi").sign().cast(pl.Int8).alias("start_sign"))
        .join(closing_fill, on=["address", "coin", "start_sign"], how="left")
        .with_columns(
            pl.coalesce("fill_close", taken).alias("close_time"),
            pl.col("liquidated").fill_null(False).alias("closed_by_liquidation"),
            taken.alias("updated_at"),
        )
        .select(CLOSED_POSITIONS_SCHEMA.names())
        .cast(dict(CLOSED_POSITIONS_SCHEMA))
        .sort("coin", "address")
    )
    return Lifecycles(open_positions=open_positions, closed_positions=closed)
