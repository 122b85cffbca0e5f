"""Funding payments (beyond the seeds, HyperTracker's Trader & Wallet routes): what 1-10 wallets paid or
received in funding over a window of up to a month, from the snapshots' `fundings` frames."""

from __future__ import annotations

from typing import Annotated

import polars as pl
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import ctx_of
from hltracker.api.params import Cursor, month_window
from hltracker.api.responses import iso, json_response, records
from hltracker.api.routes.fills import coin_list, id_page, wallet_list

router = APIRouter(tags=["Fills & Closed Trades"])

FUNDINGS_DEFAULT_LIMIT, FUNDINGS_MAX_LIMIT = 100, 500

FUNDING_FIELDS: dict[str, str | pl.Expr] = {
    "address": "address",
    "coin": "coin",
    "dex": "dex",
    "time": iso("time"),
    "usdc": "usdc",
    "szi": "szi",
    "fundingRate": "funding_rate",
}


@router.get("/fundings", response_model=schemas.FundingsPage, summary="Funding payments of 1-10 wallets")
def fundings(
    request: Request,
    address: Annotated[list[str] | None, Query(description="Required: 1 to 10 wallet addresses (repeat the "
                                                "parameter, use address[], or separate with commas).")] = None,
    start_time: Annotated[str | None, Query(alias="startTime", max_length=64, description="Payments at or after "
                                            "this time (ISO 8601). Default: 7 days before endTime.")] = None,
    end_time: Annotated[str | None, Query(alias="endTime", max_length=64, description="Payments at or before "
                                          "this time (ISO 8601). Default: the latest snapshot.")] = None,
    coin: Annotated[list[str] | None, Query(description="Only these coins (repeat, coin[] or commas); "
                                             "case-insensitive.")] = None,
    limit: Annotated[int, Query(ge=1, le=FUNDINGS_MAX_LIMIT, description="Payments per page, 1-500 "
                                "(default 100).")] = FUNDINGS_DEFAULT_LIMIT,
    next_cursor: Cursor = None,
) -> Response:
    """The wallets' funding payments in [startTime, endTime], oldest first; the window is at most one month."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    wallets = wallet_list(request, address)
    begin, finish = month_window(start_time, end_time, snapshot.taken_at,
                                 "endTime - startTime cannot be longer than 1 month")
    coins = coin_list(request, ctx, coin)
    scope = "|".join(map(str, ("fundings", wallets, coins, begin.isoformat(), finish.isoformat())))
    page, cursor = id_page(ctx, "fundings_of_wallets", scope, next_cursor, limit, addresses=wallets, start=begin,
                           end=finish, coins=coins)
    return json_response({"fundings": records(page, FUNDING_FIELDS), "nextCursor": cursor}, snapshot.snapshot_id)
