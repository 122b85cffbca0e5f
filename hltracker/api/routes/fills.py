"""Fills (beyond the seeds, HyperTracker's Trader & Wallet and Liquidation Data routes): the fills of
1-10 wallets over one UTC day, and every wallet's own liquidation fills."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

import polars as pl
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import ApiContext, ctx_of
from hltracker.api.errors import bad_request
from hltracker.api.params import EPOCH, Cursor, End, Start, addresses, parse_date
from hltracker.api.responses import iso, json_response, records
from hltracker.model.fill_hash import fill_hash
from hltracker.store.checks import LATEST

router = APIRouter(tags=["Fills & Closed Trades"])

FILLS_DEFAULT_LIMIT, FILLS_MAX_LIMIT = 500, 1000
MAX_ADDRESSES = 10
LIQUIDATION_MAX_WINDOW = timedelta(days=92)  # "at most 3 months after start": the longest three months
Side = Literal["B", "A"]
Direction = Literal["Open Long", "Close Long", "Open Short", "Close Short", "Long > Short", "Short > Long"]
FillsLimit = Annotated[int, Query(ge=1, le=FILLS_MAX_LIMIT, description="Fills per page, 1-1000 (default 500).")]

FILL_FIELDS: dict[str, str | pl.Expr] = {
    "address": "address",
    "coin": "coin",
    "dex": "dex",
    "fillType": pl.when(pl.col("is_liquidation")).then(pl.lit("liquidation")).otherwise(pl.lit("trade")),
    "px": "px",
    "sz": "sz",
    "side": "side",
    "dir": "dir",
    "time": iso("time"),
    "startPosition": "start_position",
    "closedPnl": "closed_pnl",
    "fee": "fee",
    "crossed": "crossed",
    "tid": "tid",
    "hash": "hash",
    "liquidatedUser": "liquidated_user",
    "liquidationMarkPx": "liquidation_mark_px",
    "liquidationMethod": "liquidation_method",
    "tradeHash": "trade_hash",
    "flipTradeHash": "flip_trade_hash",
}


def one_address(value: str | None) -> str | None:
    """One wallet address (lowercased), or None when not given; a 400 for anything else."""
    wallets = addresses([value]) if value else None
    if wallets and len(wallets) > 1:
        raise bad_request("address must be a single wallet address")
    return wallets[0] if wallets else None


def id_page(ctx: ApiContext, query: str, scope: str, cursor: str | None, limit: int,
            **params) -> tuple[pl.DataFrame, str | None]:
    """One page of rows keyed on their store id (fills, fundings: layout.py) and the signed cursor to the
    next page (None on the last)."""
    after_id = None
    if cursor:
        after_id = ctx.cursors.decode(scope, cursor).get("id")
        if not isinstance(after_id, int) or isinstance(after_id, bool):
            raise bad_request("nextCursor is invalid")
    page = ctx.store.query(query, **params, after_id=after_id, limit=limit + 1)
    next_cursor = None
    if page.height > limit:
        page = page.head(limit)
        next_cursor = ctx.cursors.encode(scope, {"id": int(page["id"][-1])})
    return page, next_cursor


def fill_page(ctx: ApiContext, query: str, scope: str, cursor: str | None, limit: int, **params) -> dict:
    """One page of fills keyed on their id: `{"fills": [...], "nextCursor"}`."""
    page, next_cursor = id_page(ctx, query, scope, cursor, limit, **params)
    return {"fills": records(page.with_columns(_hashes(page)), FILL_FIELDS), "nextCursor": next_cursor}


def wallet_list(request: Request, address: list[str] | None) -> list[str]:
    """The 1-10 wallets of `address` (repeated, address[] or commas), lowercased; a 400 otherwise."""
    wallets = addresses([*(address or []), *request.query_params.getlist("address[]")])
    if not wallets:
        raise bad_request("address should not be empty; address must be an array of 1 to 10 wallet addresses")
    if len(wallets) > MAX_ADDRESSES:
        raise bad_request(f"address must contain no more than {MAX_ADDRESSES} elements")
    return wallets


def coin_list(request: Request, ctx: ApiContext, coin: list[str] | None) -> list[str] | None:
    """The canonical coins of `coin` (repeated, coin[] or commas), or None for every coin."""
    names = [part.strip() for v in [*(coin or []), *request.query_params.getlist("coin[]")]
             for part in v.split(",") if part.strip()]
    return sorted({ctx.coin(name) for name in names}) or None


def _hashes(page: pl.DataFrame) -> pl.Series:
    """Each fill's `hash` (model/fill_hash.py), for the fills of one page."""
    ms = page.get_column("time").dt.epoch("ms")
    return pl.Series("hash", [
        fill_hash(c, t, a, m, s, z) for c, t, a, m, s, z in zip(
            page["coin"], page["tid"], page["address"], ms, page["start_position"], page["sz"], strict=True)
    ], dtype=pl.String)


def _day_window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """[start, end] within one UTC day; end defaults to the last millisecond of start's day."""
    begin = parse_date("start", start, required=True)
    day_end = datetime.combine(begin.date(), datetime.max.time(), begin.tzinfo).replace(microsecond=999000)
    finish = parse_date("end", end) or day_end
    if finish < begin:
        raise bad_request("end must not be earlier than start")
    if finish > day_end:
        raise bad_request("End date must be within the same day as the start date")
    return begin, finish


@router.get("/fills", response_model=schemas.FillsPage, summary="Fills of 1-10 wallets within one UTC day")
def fills(
    request: Request,
    start: Annotated[str | None, Query(description="Required. Start of the window (ISO 8601, UTC).",
                                       max_length=64)] = None,
    end: Annotated[str | None, Query(description="End of the window, on the same UTC day as start (default: the "
                                     "end of that day).", max_length=64)] = None,
    address: Annotated[list[str] | None, Query(description="Required: 1 to 10 wallet addresses (repeat the "
                                                "parameter, use address[], or separate with commas).")] = None,
    coin: Annotated[list[str] | None, Query(description="Only these coins (repeat, coin[] or commas); "
                                             "case-insensitive.")] = None,
    side: Annotated[Side | None, Query(description="B (buy) or A (sell).")] = None,
    dir: Annotated[Direction | None, Query(description="Only fills of this direction.")] = None,
    limit: FillsLimit = FILLS_DEFAULT_LIMIT,
    next_cursor: Cursor = None,
) -> Response:
    """The wallets' fills in [start, end], oldest first, each with the trades it belongs to."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    wallets = wallet_list(request, address)
    begin, finish = _day_window(start, end)
    coins = coin_list(request, ctx, coin)
    scope = "|".join(map(str, ("fills", wallets, coins, begin.isoformat(), finish.isoformat(), side, dir)))
    body = fill_page(ctx, "fills_of_wallets", scope, next_cursor, limit, addresses=wallets, start=begin,
                     end=finish, coins=coins, side=side, dir=dir)
    return json_response(body, snapshot.snapshot_id)


@router.get("/fills/liquidation", response_model=schemas.FillsPage, summary="Liquidation fills")
def liquidation_fills(
    request: Request,
    coin: Annotated[str | None, Query(max_length=64, description="One coin (ETH, cash:HOOD); case-insensitive.")]
    = None,
    address: Annotated[str | None, Query(max_length=200, description="Only this liquidated wallet.")] = None,
    side: Annotated[Side | None, Query(description="B or A: the liquidated wallet's side of the fill.")] = None,
    start: Start = None,
    end: End = None,
    limit: FillsLimit = FILLS_DEFAULT_LIMIT,
    next_cursor: Cursor = None,
) -> Response:
    """Each liquidated wallet's own liquidation fill (not the liquidator's side): newest first without
    `start`, oldest first from `start` (then `end` is at most 3 months after it)."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    if request.query_params.getlist("coin[]"):
        raise bad_request("coin must be a string")
    wallet = one_address(address)
    canonical = ctx.coin(coin) if coin else None
    begin = parse_date("start", start)
    finish = parse_date("end", end)
    if finish is not None and begin is None:
        raise bad_request("start should not be empty when end is given")
    if begin is None:
        query, window = "liquidation_fills_newest", (EPOCH, LATEST)
    else:
        finish = finish or (begin + LIQUIDATION_MAX_WINDOW if LATEST - begin > LIQUIDATION_MAX_WINDOW else LATEST)
        if finish < begin:
            raise bad_request("end must not be earlier than start")
        if finish - begin > LIQUIDATION_MAX_WINDOW:
            raise bad_request("end must be at most 3 months (92 days) after start")
        query, window = "liquidation_fills_oldest", (begin, finish)
    scope = "|".join(map(str, ("fills/liquidation", canonical, wallet, side, start, end)))
    body = fill_page(ctx, query, scope, next_cursor, limit, start=window[0], end=window[1], coin=canonical,
                     address=wallet, side=side)
    return json_response(body, snapshot.snapshot_id)
