"""Positions & Market Data (seeds 000, 001, 002): lifecycles, per-coin open interest, the heatmap,
and the open-positions file of a coin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import polars as pl
from fastapi import APIRouter, Header, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from hltracker.api import schemas
from hltracker.api.context import ctx_of
from hltracker.api.errors import bad_request
from hltracker.api.params import MAX_LIMIT, AgeWindow, Cursor, End, Limit, Start, addresses, parse_date
from hltracker.api.responses import iso, json_response, long_share, records
from hltracker.api.routes.downloads import redirect_to_export
from hltracker.model.cohorts import COHORTS_BY_ID
from hltracker.model.wire import parse_iso

router = APIRouter(tags=["Positions & Market Data"])

# orderBy -> the stored column; ordering by anything but openTime defaults to descending.
ORDER_BY = {"openTime": "open_time", "pnl": "unrealized_pnl", "value": "value", "size": "size",
            "funding": "funding", "updatedAt": "updated_at"}
OrderBy = Literal["openTime", "pnl", "value", "size", "funding", "updatedAt"]

POSITION_FIELDS: dict[str, str | pl.Expr] = {
    "address": "address",
    "size": "size",
    "entryPrice": "entry_price",
    "side": "side",
    "crossLeverage": "cross_leverage",
    "maxLeverage": "max_leverage",
    "coin": "coin",
    "szDecimals": "sz_decimals",
    "markPrice": "mark_price",
    "midPrice": "mid_price",
    "premiumPrice": "premium",
    "assetMaxLeverage": "asset_max_leverage",
    "positionValue": "value",
    "liquidationPrice": "liquidation_price",
    "unrealizedPnl": "unrealized_pnl",
    "funding": "funding",
    "openTime": iso("open_time"),
    "closeTime": iso("close_time"),
    "updatedAt": iso("updated_at"),
    "createdAt": iso("created_at"),
    "isolatedLeverage": "isolated_leverage",
    "id": "id",
    "dex": "dex",
    "profile": pl.struct(
        pl.col("address"),
        pl.concat_list(pl.col("size_segment_id").cast(pl.Int64), pl.col("pnl_segment_id").cast(pl.Int64))
        .list.drop_nulls().alias("segments"),
    ),
}


@router.get("/positions", response_model=schemas.PositionsPage, summary="Historic positions (opened/closed)")
def positions(
    request: Request,
    limit: Limit = MAX_LIMIT,
    coin: Annotated[str | None, Query(max_length=64, description="Coin symbol, case-insensitive.")] = None,
    next_cursor: Cursor = None,
    address: Annotated[list[str] | None, Query(description="One or more wallet addresses (repeat the "
                                                "parameter, or separate with commas).")] = None,
    start: Start = None,
    end: End = None,
    open: Annotated[bool | None, Query(description="true: only open positions; false: only closed.")] = None,
    segment_id: Annotated[int | None, Query(alias="segmentId", ge=1, le=16,
                                            description="Only positions of wallets in this cohort.")] = None,
    order_by: Annotated[OrderBy, Query(alias="orderBy", description="Sort key; `pnl` is unrealized PnL.")] = "openTime",
    order: Annotated[Literal["asc", "desc"] | None, Query(description="Default: asc for openTime, else desc.")] = None,
) -> Response:
    """Each position lifecycle alive at any time in [start, end], once; `closeTime: null` means still open."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    begin, finish = parse_date("start", start), parse_date("end", end)
    if begin and finish and finish < begin:
        raise bad_request("end must not be earlier than start")
    wallets = addresses([*(address or []), *request.query_params.getlist("address[]")])
    canonical = ctx.coin(coin) if coin else None
    direction = order or ("asc" if order_by == "openTime" else "desc")
    column = ORDER_BY[order_by]
    scope = "|".join(map(str, ("positions", canonical, wallets, start, end, open, segment_id, order_by, direction)))
    after_id = after_value = None
    if next_cursor:
        position = ctx.cursors.decode(scope, next_cursor)
        after_id, after_value = position.get("id"), position.get("v")
        if not isinstance(after_id, str) or after_value is None:
            raise bad_request("nextCursor is invalid")
        if column in ("open_time", "updated_at"):
            after_value = parse_iso(after_value)
    page = ctx.store.query(
        f"positions_by_{column}_{direction}", start=begin, end=finish, coin=canonical, addresses=wallets,
        open=open, segment_id=segment_id, after_id=after_id, after_value=after_value, limit=limit + 1,
    )
    cursor = None
    if page.height > limit:
        page = page.head(limit)
        last = page.row(limit - 1, named=True)
        value = last[column]
        cursor = ctx.cursors.encode(scope, {"id": last["id"],
                                            "v": value.isoformat() if isinstance(value, datetime) else value})
    return json_response({"positions": records(page, POSITION_FIELDS), "nextCursor": cursor}, snapshot.snapshot_id)


@router.get("/positions/coins", response_model=list[schemas.CoinOpenInterest],
            summary="Market-wide open interest per coin")
def positions_coins(request: Request) -> Response:
    """Every coin with open positions at the latest snapshot, by total value, largest first."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    rows = ctx.store.query("coin_rows_at", snapshot_id=snapshot.snapshot_id)
    body = records(rows, {
        "coin": "coin",
        "totalValue": "total_position_value",
        "totalValueLong": "total_position_value_long",
        "totalValueShort": pl.col("total_position_value") - pl.col("total_position_value_long"),
        "count": "position_count",
        "countLong": "position_count_long",
        "countShort": pl.col("position_count") - pl.col("position_count_long"),
    })
    return json_response(body, snapshot.snapshot_id)


_SIDE_FIELDS = {
    "totalValue": "total_value", "totalLongValue": "total_long_value", "totalShortValue": "total_short_value",
    "count": "count", "countLong": "count_long", "countShort": "count_short",
}


@router.get("/positions/heatmap", response_model=schemas.Heatmap, summary="Coin x cohort positioning heatmap")
def positions_heatmap(
    request: Request,
    opened_within: Annotated[AgeWindow, Query(alias="openedWithin", description="Only positions opened within "
                                              "this window: 24h, 7d, 30d or all.")] = "all",
) -> Response:
    """Per coin: open interest, counts and, for each cohort holding positions in the coin, long/short value
    and long-share bias (a cohort without positions there has no cell, as an aggregation gives)."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    coins = ctx.store.query("heatmap_coins", age_window=opened_within)
    cells = ctx.store.query("heatmap_cells", age_window=opened_within)
    by_coin: dict[str, dict[int, dict]] = {}
    for cell in records(cells, {"segmentId": pl.col("segment_id").cast(pl.Int64), "coin": "coin", **_SIDE_FIELDS,
                                "bias": "bias"}):
        by_coin.setdefault(cell["coin"], {})[cell["segmentId"]] = cell
    heatmap = []
    for row in records(coins, {"coin": "coin", **_SIDE_FIELDS}):
        cells_of = by_coin.get(row["coin"], {})
        row["segments"] = [_cell(cells_of[sid]) for sid in sorted(COHORTS_BY_ID)
                           if sid in cells_of and cells_of[sid]["count"] > 0]
        heatmap.append(row)
    return json_response({"heatmap": heatmap}, snapshot.snapshot_id)


def _cell(cell: dict) -> dict:
    if cell["bias"] is None:
        cell["bias"] = long_share(cell["totalLongValue"], cell["totalValue"])
    return cell


def wants_json(accept: str | None) -> bool:
    """Whether an `Accept` header asks for JSON over CSV: `application/json` listed with a higher
    q-value than `text/csv` (and `text/*`). No header, `*/*` or `text/csv` give CSV, HyperTracker's file."""
    best = {"json": 0.0, "csv": 0.0}
    for item in (accept or "").lower().split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = {"application/json": "json", "text/csv": "csv", "text/*": "csv"}.get(media)
        if kind:
            best[kind] = max(best[kind], q)
    return best["json"] > 0 and best["json"] > best["csv"]


@router.get("/positions/open/coin/{coin}", status_code=302, response_class=RedirectResponse,
            summary="Download every open position of a coin",
            responses={302: {"description": "Redirect to a signed download URL valid for 120 s"}})
def open_positions_file(
    request: Request,
    coin: Annotated[str, Path(max_length=64, description="Coin symbol, case-insensitive (BTC, xyz:GOLD).")],
    accept: Annotated[str | None, Header(description="`application/json` for a JSON array; CSV otherwise.")] = None,
) -> Response:
    """A 302 to the latest open positions of the coin: CSV (the seed's columns in order) unless the request
    asks for JSON with `Accept: application/json`, then a JSON array of the same records."""
    ctx = ctx_of(request)
    name = "open-positions-json" if wants_json(accept) else "open-positions"
    return redirect_to_export(ctx, request, name, ctx.coin(coin))
