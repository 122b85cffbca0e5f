"""Closed trades (beyond the seeds, HyperTracker's Trader & Wallet routes): the trades rebuilt from fills
(engine/trades.py), a wallet's trading summary, one trade and its fills."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import ApiContext, ctx_of
from hltracker.api.errors import bad_request, not_found
from hltracker.api.params import EPOCH, Cursor, month_window
from hltracker.api.responses import iso, json_response, records
from hltracker.api.routes.fills import fill_page, one_address
from hltracker.api.trade_stats import trade_summary
from hltracker.model.wire import iso_ms, parse_iso

router = APIRouter(tags=["Fills & Closed Trades"])

TRADES_DEFAULT_LIMIT, TRADES_MAX_LIMIT = 100, 500
INTERVALS: dict[str, timedelta | None] = {"all": None, "365d": timedelta(days=365), "180d": timedelta(days=180),
                                          "90d": timedelta(days=90), "30d": timedelta(days=30), "last50": None}
Interval = Literal["all", "365d", "180d", "90d", "30d", "last50"]
LAST_N = 50
_HASH = re.compile(r"^[0-9a-fA-F]{64}$")

TradesLimit = Annotated[int, Query(ge=1, le=TRADES_MAX_LIMIT, description="Rows per page, 1-500 (default 100).")]
Address = Annotated[str | None, Query(max_length=200, description="Required. The wallet address.")]
HashPath = Annotated[str, Path(alias="hash", max_length=80,
                                description="The trade's hash (64 hex digits, from /closed-trades).")]

TRADE_FIELDS: dict[str, str | pl.Expr] = {
    "hash": "hash",
    "address": "address",
    "coin": "coin",
    "dex": "dex",
    "direction": "direction",
    "openTime": iso("open_time"),
    "closeTime": iso("close_time"),
    "durationMs": (pl.col("close_time") - pl.col("open_time")).dt.total_milliseconds(),
    "size": "size",
    "maxSize": "max_size",
    "avgEntryPrice": "entry_price",
    "avgExitPrice": "exit_price",
    "closedPnl": "closed_pnl",
    "fees": "fees",
    "funding": "funding",
    "netPnl": "net_pnl",
    "volume": "volume",
    "fillCount": "fill_count",
    "liquidated": "liquidated",
}


def _wallet(address: str | None) -> str:
    wallet = one_address(address)
    if wallet is None:
        raise bad_request("address should not be empty")
    return wallet


def _trade_hash(text: str) -> str:
    if not _HASH.match(text):
        raise bad_request("hash must be a closed trade hash: 64 hexadecimal digits")
    return text.lower()


def _closed_trade(ctx: ApiContext, trade_hash: str) -> pl.DataFrame:
    trade = ctx.store.query("closed_trade", hash=trade_hash)
    if trade.height == 0:
        raise not_found(f"Closed trade {trade_hash} not found")
    return trade


@router.get("/closed-trades", response_model=schemas.ClosedTradesPage, summary="A wallet's closed trades")
def closed_trades(
    request: Request,
    address: Address = None,
    start_time: Annotated[str | None, Query(alias="startTime", max_length=64, description="Trades closed at or "
                                            "after this time (ISO 8601). Default: 7 days before endTime.")] = None,
    end_time: Annotated[str | None, Query(alias="endTime", max_length=64, description="Trades closed at or "
                                          "before this time (ISO 8601). Default: the latest snapshot.")] = None,
    coin: Annotated[str | None, Query(max_length=64, description="Only this coin, case-insensitive.")] = None,
    limit: TradesLimit = TRADES_DEFAULT_LIMIT,
    next_cursor: Cursor = None,
) -> Response:
    """The wallet's trades (open to flat) that closed in [startTime, endTime], newest close first; the
    window is at most one month."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    wallet = _wallet(address)
    begin, finish = month_window(start_time, end_time, snapshot.taken_at,
                                 "endTime - startTime can not be longer then 1 month")  # HyperTracker's words (sic)
    canonical = ctx.coin(coin) if coin else None
    scope = "|".join(map(str, ("closed-trades", wallet, canonical, begin.isoformat(), finish.isoformat())))
    after_hash = after_time = None
    if next_cursor:
        position = ctx.cursors.decode(scope, next_cursor)
        after_hash, after_time = position.get("id"), position.get("closeTime")
        if not isinstance(after_hash, str) or not isinstance(after_time, str):
            raise bad_request("nextCursor is invalid")
        after_time = parse_iso(after_time)
    page = ctx.store.query("closed_trades_of_wallet", address=wallet, start=begin, end=finish, coin=canonical,
                           after_hash=after_hash, after_time=after_time, limit=limit + 1)
    cursor = None
    if page.height > limit:
        page = page.head(limit)
        last = page.row(limit - 1, named=True)
        cursor = ctx.cursors.encode(scope, {"closeTime": iso_ms(last["close_time"]), "id": last["hash"]})
    return json_response({"trades": records(page, TRADE_FIELDS), "nextCursor": cursor}, snapshot.snapshot_id)


@router.get("/closed-trades/summary", response_model=schemas.ClosedTradesSummary,
            summary="A wallet's trading statistics over its closed trades")
def closed_trades_summary(
    request: Request,
    address: Address = None,
    interval: Annotated[Interval, Query(description="Trades closed within this period before the latest "
                                        "snapshot, or the last 50 trades.")] = "all",
) -> Response:
    """Win rate, profit factor, expectancy, average gain and loss, net PnL and per-coin figures over the
    wallet's trades that closed in the interval."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    wallet = _wallet(address)
    period = INTERVALS[interval]
    since = snapshot.taken_at - period if period is not None else EPOCH
    limit = LAST_N if interval == "last50" else 2**62
    trades = ctx.store.query("closed_trades_since", address=wallet, since=since, limit=limit)
    body: dict[str, Any] = {
        "address": wallet, "interval": interval,
        "startTime": iso_ms(since) if period is not None else None, "endTime": iso_ms(snapshot.taken_at),
        **trade_summary(trades),
    }
    return json_response(body, snapshot.snapshot_id)


@router.get("/closed-trades/{hash}", response_model=schemas.ClosedTrade, summary="One closed trade")
def closed_trade(request: Request, trade_hash: HashPath) -> Response:
    """The trade with this hash, once it has closed."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    trade = _closed_trade(ctx, _trade_hash(trade_hash))
    return json_response(records(trade, TRADE_FIELDS)[0], snapshot.snapshot_id)


@router.get("/closed-trades/{hash}/fills", response_model=schemas.FillsPage, summary="The fills of a closed trade")
def closed_trade_fills(
    request: Request,
    trade_hash: HashPath,
    limit: TradesLimit = TRADES_DEFAULT_LIMIT,
    next_cursor: Cursor = None,
) -> Response:
    """Every fill of the trade, oldest first: its opening fill, adds, partial closes and the closing fill
    (a flip's fill belongs to the trade it closes and to the one it opens)."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    wanted = _trade_hash(trade_hash)
    trade = _closed_trade(ctx, wanted).row(0, named=True)
    body = fill_page(ctx, "trade_fills", f"closed-trades/fills|{wanted}", next_cursor, limit, hash=wanted,
                     open_time=trade["open_time"], close_time=trade["close_time"])
    return json_response(body, snapshot.snapshot_id)
